import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { nodeCrypto } from '../../src/crypto/index.js';
import { buildOcspRequest } from '../../src/revocation/ocsp/index.js';
import { checkOcspResponse } from '../../src/revocation/ocsp-check.js';
import { type Certificate, parseCertificate } from '../../src/x509/index.js';
import { makeTestPki, requireTool, run, type TestPki } from './pki.js';

/**
 * Acceptance 3: our OCSP client and response checks against the reference responder,
 * `openssl ocsp -index` (delegated responder ocsp.pem). Two ways: its file mode (-reqin/-respout),
 * and over HTTP inside a private network namespace (`unshare --net`, RECIPES §7 — it binds every
 * interface), with GET and POST, with and without nonce.
 */
let pki: TestPki;
const certs: Record<string, Certificate> = {};

before(() => {
  pki = makeTestPki();
  // A certificate the CA key signed outside `openssl ca`: absent from index.txt → "unknown".
  pki.openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'stray.key']);
  pki.openssl([
    'req',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    'stray.key',
    '-subj',
    '/CN=stray',
    '-out',
    'stray.csr',
  ]);
  pki.openssl([
    'x509',
    '-req',
    '-in',
    'stray.csr',
    '-CA',
    'int.pem',
    '-CAkey',
    'int.key',
    '-set_serial',
    '0x7777',
    '-days',
    '30',
    '-out',
    'stray.pem',
  ]);
  for (const n of ['int', 'device', 'revoked', 'stray']) certs[n] = parseCertificate(pki.text(`${n}.pem`));
});
after(() => pki?.cleanup());

const RESPONDER = [
  '-index',
  'index.txt',
  '-rsigner',
  'ocsp.pem',
  '-rkey',
  'ocsp.key',
  '-CA',
  'int.pem',
  '-nmin',
  '5',
];

describe('openssl ocsp file mode (-reqin/-respout)', () => {
  const cases: [string, string, boolean, string, string?][] = [
    ['device, nonce', 'device', true, 'good'],
    ['device, no nonce', 'device', false, 'good'],
    ['revoked, nonce', 'revoked', true, 'revoked', 'keyCompromise'],
    ['serial not in index.txt', 'stray', true, 'unknown'],
  ];
  for (const [name, who, nonce, want, reason] of cases)
    it(name, async () => {
      const req = await buildOcspRequest(certs[who]!, certs.int!, { nonce, crypto: nodeCrypto });
      writeFileSync(pki.path(`${who}-${nonce}.req`), req.der);
      pki.openssl([
        'ocsp',
        ...RESPONDER,
        '-reqin',
        `${who}-${nonce}.req`,
        '-respout',
        `${who}-${nonce}.resp`,
      ]);
      const st = await checkOcspResponse(
        new Uint8Array(pki.read(`${who}-${nonce}.resp`)),
        certs[who]!,
        certs.int!,
        {
          crypto: nodeCrypto,
          time: Date.now(),
          // `openssl ocsp` stamps thisUpdate with its own clock and does not backdate: a relying
          // party must allow for the difference between the two clocks (the default is none).
          clockSkewMs: 5_000,
          nonce: req.nonce,
        },
      );
      assert.equal(st.status, want);
      if (reason) assert.equal(st.status === 'revoked' && st.reason, reason);
    });
});

describe('openssl ocsp -port in a private network namespace', () => {
  it('our client over GET and POST, with and without nonce', async () => {
    requireTool('unshare');
    requireTool('ip');
    const port = 18000 + Math.floor(Math.random() * 1000);
    const repo = join(import.meta.dirname, '../..');
    const node = `'${process.execPath}' --import tsx test/revocation/ocsp-client-cli.ts '${pki.dir}' http://127.0.0.1:${port}`;
    const script = [
      'ip link set lo up',
      `(cd '${pki.dir}' && exec openssl ocsp ${RESPONDER.join(' ')} -port ${port} -ignore_err) 2>/dev/null &`,
      'R=$!',
      `for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && break; sleep 0.1; done`,
      `${node} device:GET device:POST:nonce revoked:POST:nonce revoked:GET stray:POST:nonce`,
      'kill $R',
    ].join('\n');
    const r = await run('unshare', ['--net', 'bash', '-c', script], { cwd: repo, timeoutMs: 60_000 });
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, string>);
    assert.equal(lines.length, 5, r.stdout + r.stderr);
    assert.deepEqual(
      lines.map((l) => `${l.name} ${l.method} ${l.status ?? l.error}${l.reason ? ` ${l.reason}` : ''}`),
      [
        'device GET good',
        'device POST good',
        'revoked POST revoked keyCompromise',
        'revoked GET revoked keyCompromise',
        'stray POST unknown',
      ],
    );
  });
});
