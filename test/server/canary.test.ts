// Secrets never leave the service: canary values planted as the CA key passphrase, the password
// of a real PostgreSQL role (scram-sha-256, so a mangled password would not connect), the PIN of a
// SoftHSM2 token holding the imported root key (used at the first start to sign the intermediate
// and the root's CRL), and the bearer token the service made. The real `fleetpki serve` (child
// process, debug logging) is driven through successes and refusals; every log line, the startup
// output, and every response's headers and body are scanned: 0 occurrences.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Pkcs11Signer } from '../../src/crypto/pkcs11.js';
import { CertificateBuilder } from '../../src/issue/certificate.js';
import { encodePem } from '../../src/pem/pem.js';
import { badSignatureCsr, makeCsr } from '../ca/requests.js';
import { type PgCluster, startPostgres } from '../helpers/postgres.js';
import { api, type HttpResponse, request, type ServeProcess, spawnServe } from './helpers.js';

const MODULE = process.env.PKCS11_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const CANARY = {
  passphrase: 'canaryPASSPHRASE-3f9d2a71c4',
  dbPassword: 'canaryDBPASSWORD8b1e5c0d97',
  pin: 'canaryPIN-6e2c4b19f0a7',
};

describe('canary secrets never appear in logs or responses', () => {
  let dir: string;
  let cluster: PgCluster | undefined;
  let svc: ServeProcess | undefined;
  const responses: HttpResponse[] = [];
  let token = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-canary-'));
    chmodSync(dir, 0o755); // PostgreSQL (its own OS user) reads the pg_hba file below from here

    // A SoftHSM2 token whose PIN is a canary, holding the root key.
    const hsm = join(dir, 'hsm');
    mkdirSync(join(hsm, 'tokens'), { recursive: true });
    const conf = join(hsm, 'softhsm2.conf');
    writeFileSync(
      conf,
      `directories.tokendir = ${hsm}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    process.env.SOFTHSM2_CONF = conf;
    const init = spawnSync('softhsm2-util', [
      '--init-token',
      '--free',
      '--label',
      'canary',
      '--so-pin',
      '12345678',
      '--pin',
      CANARY.pin,
    ]);
    if (init.error)
      throw new Error(`softhsm2-util not found (apt-get install softhsm2): ${init.error.message}`);
    assert.equal(init.status, 0, String(init.stderr));
    const key = await Pkcs11Signer.generate({
      module: MODULE,
      tokenLabel: 'canary',
      pin: CANARY.pin,
      keyLabel: 'canary-root',
      keyType: 'ec-p256',
    });
    try {
      const root = await new CertificateBuilder('root').subject('CN=Canary Root,O=fleetpki test').sign(key);
      writeFileSync(join(dir, 'import-root.pem'), encodePem('CERTIFICATE', root.der));
    } finally {
      key.close();
    }

    // PostgreSQL with a password-authenticated role (the postgres superuser stays trust, for setup).
    const hba = join(dir, 'pg_hba.conf');
    writeFileSync(
      hba,
      'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all fleet 127.0.0.1/32 scram-sha-256\n',
    );
    chmodSync(hba, 0o644);
    cluster = startPostgres({ settings: { hba_file: hba } });
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE fleet LOGIN PASSWORD '${CANARY.dbPassword}'`);
      await admin.query('CREATE DATABASE fleet OWNER fleet');
    } finally {
      await admin.end();
    }

    const passFile = join(dir, 'passphrase');
    writeFileSync(passFile, `${CANARY.passphrase}\n`, { mode: 0o600 });
    svc = await spawnServe(
      [
        '--data',
        join(dir, 'data'),
        '--port',
        '0',
        '--log-level',
        'debug',
        '--db',
        `postgres://fleet:${CANARY.dbPassword}@127.0.0.1:${cluster.port}/fleet`,
        '--passphrase-file',
        passFile,
        '--root-cert',
        join(dir, 'import-root.pem'),
        '--root-key',
        `pkcs11:token=canary;object=canary-root?module-path=${MODULE}`,
      ],
      {
        cwd: dir,
        env: {
          SOFTHSM2_CONF: conf,
          FLEETPKI_PKCS11_PIN: CANARY.pin,
          DATABASE_URL: undefined,
          FLEETPKI_PASSPHRASE: undefined,
        },
      },
    );
    token = readFileSync(join(dir, 'data', 'admin', 'token'), 'utf8').trim();
  });

  after(async () => {
    await svc?.stop('SIGKILL');
    cluster?.stop();
    delete process.env.SOFTHSM2_CONF;
    rmSync(dir, { recursive: true, force: true });
  });

  const keep = async (p: Promise<HttpResponse>) => {
    const r = await p;
    responses.push(r);
    return r;
  };

  test('the service runs on the PostgreSQL role and the token-held root', async () => {
    assert.match(svc!.stdout(), /store: postgres postgres:\/\/fleet:.*@127\.0\.0\.1/);
    const root = readFileSync(join(dir, 'data', 'ca', 'root.pem'), 'utf8');
    assert.equal(root, readFileSync(join(dir, 'import-root.pem'), 'utf8'), 'the imported root is served');
    const cas = await keep(api(svc!.url, '/api/v1/cas', { token, ca: root }));
    assert.equal(cas.status, 200, cas.text);
    const rootInfo = cas
      .json<{ items: { role: string; keyStorage: string; crl?: unknown }[] }>()
      .items.find((i) => i.role === 'root')!;
    assert.equal(rootInfo.keyStorage, 'pkcs11');
    assert.ok(rootInfo.crl, 'the root CRL was signed on the token');
  });

  test('successes and refusals through the API', async () => {
    const root = readFileSync(join(dir, 'data', 'ca', 'root.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'data', 'admin', 'admin.crt'), 'utf8');
    const key = readFileSync(join(dir, 'data', 'admin', 'admin.key'), 'utf8');
    const csr = encodePem('CERTIFICATE REQUEST', (await makeCsr({ subject: 'CN=device-canary' })).der);
    const issued = await keep(
      api(svc!.url, '/api/v1/certificates', { token, ca: root, json: { csr, profile: 'device' } }),
    );
    assert.equal(issued.status, 201, issued.text);
    const serial = issued.json<{ certificate: { serial: string } }>().certificate.serial;
    const asAdmin = { ca: root, cert, key };
    for (const path of [
      '/api/v1/whoami',
      '/api/v1/certificates',
      `/api/v1/certificates/${serial}`,
      `/api/v1/certificates/${serial}?format=pem`,
      '/api/v1/profiles',
      '/api/v1/statistics',
      '/api/v1/audit?limit=500',
      '/api/v1/audit/verify',
      '/healthz',
      '/metrics',
      '/ca/chain.pem',
    ])
      assert.equal((await keep(api(svc!.url, path, asAdmin))).status, 200, path);
    assert.equal(
      (
        await keep(
          api(svc!.url, `/api/v1/certificates/${serial}/revoke`, {
            ...asAdmin,
            json: { reason: 'superseded' },
          }),
        )
      ).status,
      200,
    );
    assert.equal((await keep(api(svc!.url, '/api/v1/crl', { ...asAdmin, json: {} }))).status, 200);
    assert.equal((await keep(request(`${svc!.url}/crl/issuing.crl`, { ca: root }))).status, 200);

    // Refusals, several of them carrying a secret-shaped input.
    const bad = Buffer.from(await badSignatureCsr()).toString('base64');
    const refusals: [Promise<HttpResponse>, number][] = [
      [
        api(svc!.url, '/api/v1/certificates', { token, ca: root, json: { csr: bad, profile: 'device' } }),
        400,
      ],
      [
        api(svc!.url, '/api/v1/certificates', {
          token: `${token}0`,
          ca: root,
          json: { csr, profile: 'device' },
        }),
        401,
      ],
      [
        api(svc!.url, '/api/v1/certificates', {
          token: token.replace(/.$/, 'x'),
          ca: root,
          json: { csr, profile: 'device' },
        }),
        401,
      ],
      [api(svc!.url, '/api/v1/certificates', { ca: root, json: { csr, profile: 'device' } }), 401],
      [api(svc!.url, '/api/v1/certificates', { token, ca: root, json: { csr, profile: 'nope' } }), 400],
      [
        api(svc!.url, '/api/v1/certificates', {
          token,
          ca: root,
          json: { csr, profile: 'device', passphrase: CANARY.passphrase },
        }),
        400,
      ],
      [
        api(svc!.url, `/api/v1/certificates/${serial}/revoke`, {
          token,
          ca: root,
          json: { reason: 'superseded' },
        }),
        409,
      ],
      [api(svc!.url, '/api/v1/nope', { token, ca: root }), 404],
      [
        request(`${svc!.url}/api/v1/certificates`, {
          ca: root,
          headers: { authorization: `Basic ${Buffer.from(`admin:${CANARY.pin}`).toString('base64')}` },
        }),
        401,
      ],
    ];
    for (const [p, status] of refusals) assert.equal((await keep(p)).status, status);
  });

  test('SIGTERM, then not one canary in any log line, the startup output or any response', async () => {
    assert.equal(await svc!.stop('SIGTERM'), 0, svc!.stderr());
    const secrets = {
      ...CANARY,
      token,
      tokenSecret: token.slice(-43),
      p12Password: readFileSync(join(dir, 'data', 'admin', 'admin.p12.password'), 'utf8').trim(),
      dbPasswordInUrl: encodeURIComponent(CANARY.dbPassword),
    };
    const logLines = svc!.stderr().split('\n').filter(Boolean);
    assert.ok(logLines.length > 20, `the service logged (${logLines.length} lines)`);
    assert.ok(
      logLines.some((l) => l.includes('"level":20')),
      'debug lines were written too',
    );
    const haystacks: [string, string][] = [
      ...logLines.map((l, i): [string, string] => [`log line ${i + 1}`, l]),
      ['stdout', svc!.stdout()],
      ...responses.map((r, i): [string, string] => [
        `response ${i + 1}`,
        `${JSON.stringify(r.headers)}\n${r.text}`,
      ]),
    ];
    assert.ok(responses.length >= 25);
    const found: string[] = [];
    for (const [where, text] of haystacks)
      for (const [name, value] of Object.entries(secrets))
        if (text.includes(value)) found.push(`${name} in ${where}`);
    assert.deepEqual(found, []);
    svc = undefined;
  });
});
