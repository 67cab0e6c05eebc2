// Acceptance 1 (issue 3): fleetpki builds root → intermediate → leaf for every key type and
// profile, and OpenSSL (-x509_strict), GnuTLS certtool and Go crypto/x509 all accept the chain;
// our parser reads every object back byte-identically. Negative controls keep the checks honest.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { KeyType } from '../../src/crypto/index.js';
import { bytesEqual } from '../../src/der/index.js';
import { CertificateBuilder } from '../../src/issue/index.js';
import { parseCertificate, reencodeCertificate } from '../../src/x509/index.js';
import { assertOpenSslOk, buildPki, goVerifier, type Pki, run, tempDir } from './helpers.js';

const TYPES: KeyType[] = ['ec-p256', 'ec-p384', 'ec-p521', 'rsa-2048', 'rsa-3072', 'ed25519'];
const PROFILES = [
  { profile: 'device', purpose: 'sslclient', eku: 'client', oid: '1.3.6.1.5.5.7.3.2' },
  { profile: 'server', purpose: 'sslserver', eku: 'server', oid: '1.3.6.1.5.5.7.3.1' },
] as const;

const tmp = tempDir('interop-chain');
const pkis = new Map<KeyType, Pki>();
let go: string;

before(async () => {
  go = await goVerifier();
  // All key types at once: RSA generation runs on the libuv pool, in parallel.
  const built = await Promise.all(TYPES.map((t) => buildPki(t)));
  for (const p of built) pkis.set(p.type, p);
});
after(() => tmp.remove());

function roundTrips(der: Uint8Array, what: string): void {
  const c = parseCertificate(der);
  assert.ok(bytesEqual(reencodeCertificate(c), der), `${what}: re-encoding differs`);
}

describe('interop matrix: fleetpki chains accepted by OpenSSL, GnuTLS and Go', () => {
  for (const type of TYPES)
    for (const { profile, purpose, eku, oid } of PROFILES)
      test(`${type} ${profile}`, async () => {
        const pki = pkis.get(type)!;
        const b = new CertificateBuilder(profile)
          .subject(`CN=${profile}-${type},O=fleetpki test`)
          .publicKey(pki.leafKey.publicKey)
          .issuer(pki.intIssuer);
        if (profile === 'server') b.subjectAltName(['dns:localhost', 'ip:127.0.0.1']);
        const leaf = await b.sign();
        for (const [what, der] of [
          ['root', pki.root.der],
          ['intermediate', pki.intermediate.der],
          ['leaf', leaf.der],
        ] as const)
          roundTrips(der, `${type} ${what}`);

        const name = `${type}-${profile}`;
        const root = tmp.file(`${name}-root.pem`, pki.root.toPem());
        const int = tmp.file(`${name}-int.pem`, pki.intermediate.toPem());
        const leafPem = tmp.file(`${name}-leaf.pem`, leaf.toPem());
        const chain = tmp.file(`${name}-chain.pem`, leaf.toPem() + pki.intermediate.toPem());

        assertOpenSslOk(
          run('openssl', [
            'verify',
            '-x509_strict',
            '-purpose',
            purpose,
            '-CAfile',
            root,
            '-untrusted',
            int,
            leafPem,
          ]),
          'openssl verify',
        );

        const g = run('certtool', [
          '--verify',
          '--load-ca-certificate',
          root,
          '--infile',
          chain,
          `--verify-purpose=${oid}`,
        ]);
        assert.equal(g.code, 0, `certtool exit ${g.code}\n${g.stdout}${g.stderr}`);
        assert.match(g.stdout, /Chain verification output: Verified\. The certificate is trusted\./);

        const goArgs = ['-roots', root, '-intermediates', int, '-eku', eku];
        if (profile === 'server') goArgs.push('-dns', 'localhost');
        const r = run(go, [...goArgs, leafPem]);
        assert.equal(r.code, 0, `goverify: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /^OK/);
      });
});

describe('negative controls (the verifiers really check)', () => {
  test('a device certificate is refused for sslserver / serverAuth', async () => {
    const pki = pkis.get('ec-p256')!;
    const leaf = await new CertificateBuilder('device')
      .subject('CN=not-a-server')
      .publicKey(pki.leafKey.publicKey)
      .issuer(pki.intIssuer)
      .sign();
    const root = tmp.file('neg-root.pem', pki.root.toPem());
    const int = tmp.file('neg-int.pem', pki.intermediate.toPem());
    const leafPem = tmp.file('neg-leaf.pem', leaf.toPem());
    const o = run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslserver',
      '-CAfile',
      root,
      '-untrusted',
      int,
      leafPem,
    ]);
    assert.notEqual(o.code, 0);
    assert.match(o.stdout + o.stderr, /unsupported certificate purpose|error 26/);
    const r = run(go, ['-roots', root, '-intermediates', int, '-eku', 'server', leafPem]);
    assert.equal(r.code, 1, r.stdout);
  });

  test('a chain under another root is refused by all three', async () => {
    const a = pkis.get('ec-p256')!;
    const b = pkis.get('ec-p384')!;
    const leaf = await new CertificateBuilder('device')
      .subject('CN=rogue')
      .publicKey(b.leafKey.publicKey)
      .issuer(b.intIssuer)
      .sign();
    const root = tmp.file('rogue-root.pem', a.root.toPem());
    const int = tmp.file('rogue-int.pem', b.intermediate.toPem());
    const leafPem = tmp.file('rogue-leaf.pem', leaf.toPem());
    const chain = tmp.file('rogue-chain.pem', leaf.toPem() + b.intermediate.toPem());
    assert.notEqual(run('openssl', ['verify', '-CAfile', root, '-untrusted', int, leafPem]).code, 0);
    const g = run('certtool', ['--verify', '--load-ca-certificate', root, '--infile', chain]);
    assert.notEqual(g.code, 0, g.stdout);
    assert.equal(run(go, ['-roots', root, '-intermediates', int, leafPem]).code, 1);
  });
});
