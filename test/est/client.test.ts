// The EST device client (src/est/client.ts) against a small real RFC 7030 endpoint (endpoint.ts:
// node:https + our mTLS helpers + our codecs + real signing), and the same endpoint driven by the
// scripted curl + openssl client of RECIPES §9, so the endpoint — and with it what the client was
// tested against — is proven RFC-shaped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportKey, generateKeyPair, importPrivateKey, KeySigner } from '../../src/crypto/index.js';
import { bytesEqual } from '../../src/der/index.js';
import { EstClient, type EstClientOptions } from '../../src/est/client.js';
import { enrollDevice } from '../../src/est/enroll.js';
import { EstError, type EstErrorCode } from '../../src/est/errors.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { MtlsError } from '../../src/mtls/index.js';
import { type Hierarchy, type Identity, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run, sh } from '../helpers/proc.js';
import { type Endpoint, startEndpoint } from './endpoint.js';

let fleet: Hierarchy;
let bootstrap: Hierarchy;
let claim: Identity;
let ep: Endpoint;
const tmp = tempDir('est-client');

before(async () => {
  [fleet, bootstrap] = await Promise.all([makeHierarchy('EST Fleet'), makeHierarchy('Manufacturing')]);
  const server = await fleet.server('est-server');
  claim = await bootstrap.device('claim-0001');
  ep = await startEndpoint(fleet, bootstrap, server);
  tmp.file('root.pem', fleet.rootPem);
  tmp.file('int.pem', fleet.intPem);
  tmp.file('claim-chain.pem', claim.chainPem);
  tmp.file('claim.key', claim.keyPem);
});
after(async () => {
  await ep?.close();
  tmp.remove();
});

const isEst = (code: EstErrorCode, status?: number) => (e: unknown) =>
  e instanceof EstError && e.code === code && (status === undefined || e.status === status);

function client(o: Partial<EstClientOptions> = {}): EstClient {
  return new EstClient({ url: ep.url, trustAnchors: [fleet.rootPem], ...o });
}
const withClaim = () => ({ certificate: { cert: claim.chainPem, key: claim.keyPem } });

async function csrFor(cn: string) {
  const key = await generateKeyPair('ec-p256');
  const signer = await KeySigner.create(key.privateKey);
  return { key, csr: await new CsrBuilder().subject(`CN=${cn}`).sign(signer) };
}

describe('EstClient', () => {
  it('/cacerts: the issuing CA and the root, without credentials', async () => {
    const certs = await client().cacerts();
    assert.deepEqual(
      certs.map((c) => c.subject.toString()),
      ['CN=EST Fleet Issuing CA,O=fleetpki test', 'CN=EST Fleet Root,O=fleetpki test'],
    );
  });

  it('/simpleenroll with a bootstrap certificate: a certificate for our key that openssl verifies -x509_strict -purpose sslclient', async () => {
    const { key, csr } = await csrFor('device-100');
    const r = await client(withClaim()).simpleenroll(csr.der);
    assert.ok(bytesEqual(r.certificate.subjectPublicKeyInfo.der, key.publicKey.spki));
    assert.equal(r.certificate.subject.toString(), 'CN=device-100');
    assert.equal(r.certificate.issuer.toString(), 'CN=EST Fleet Issuing CA,O=fleetpki test');
    tmp.file('device-100.pem', r.certificate.toPem());
    const v = await run(
      'openssl',
      [
        'verify',
        '-x509_strict',
        '-purpose',
        'sslclient',
        '-CAfile',
        'root.pem',
        '-untrusted',
        'int.pem',
        'device-100.pem',
      ],
      { cwd: tmp.dir },
    );
    assert.equal(v.stdout.trim(), 'device-100.pem: OK', v.stderr);
  });

  it('/simpleenroll with a single-use HTTP Basic credential: works once, then 401', async () => {
    ep.tokens.set('enroll-7', 's3cret:with:colons');
    const c = client({ basic: { username: 'enroll-7', password: 's3cret:with:colons' } });
    const r = await c.simpleenroll((await csrFor('device-101')).csr);
    assert.equal(r.certificate.subject.toString(), 'CN=device-101');
    await assert.rejects(c.simpleenroll((await csrFor('device-101')).csr), isEst('unauthorized', 401));
  });

  it('/simpleenroll without credentials: unauthorized (401)', async () => {
    await assert.rejects(client().simpleenroll((await csrFor('device-102')).csr), isEst('unauthorized', 401));
  });

  it('/simplereenroll with the enrolled certificate keeps the subject and may rekey; a changed subject is forbidden (403)', async () => {
    const first = await csrFor('device-103');
    const enrolled = await client(withClaim()).simpleenroll(first.csr);
    const keyPem = await exportKey(first.key.privateKey, { format: 'pkcs8' });
    const own = client({ certificate: { cert: enrolled.certificate.toPem() + fleet.intPem, key: keyPem } });
    const rekeyed = await csrFor('device-103');
    const r = await own.simplereenroll(rekeyed.csr);
    assert.equal(r.certificate.subject.toString(), 'CN=device-103');
    assert.ok(bytesEqual(r.certificate.subjectPublicKeyInfo.der, rekeyed.key.publicKey.spki));
    await assert.rejects(
      own.simplereenroll((await csrFor('device-999')).csr),
      (e: unknown) => isEst('forbidden', 403)(e) && /subject-changed/.test((e as Error).message),
    );
    // The bootstrap certificate does not renew anything.
    await assert.rejects(client(withClaim()).simplereenroll(rekeyed.csr), isEst('forbidden', 403));
  });

  it('/csrattrs: the RFC 7030 §4.5.2 attributes; 204 means none', async () => {
    const attrs = await client().csrattrs();
    assert.deepEqual(
      attrs.map((a) => ('oid' in a ? a.oid : a.type)),
      ['1.2.840.113549.1.9.7', '1.2.840.10045.2.1', '1.2.840.10045.4.3.2'],
    );
    assert.deepEqual(await client({ label: 'none' }).csrattrs(), []);
  });

  it('/serverkeygen: a PKCS#8 key and a certificate for exactly that key', async () => {
    const r = await client(withClaim()).serverkeygen((await csrFor('device-104')).csr);
    const key = await importPrivateKey(r.privateKey);
    assert.ok(bytesEqual(key.spki, r.certificate.subjectPublicKeyInfo.der));
    assert.equal(r.certificate.subject.toString(), 'CN=device-104');
  });

  it('202 + Retry-After: pending within no wait; repeated after the wait and issued', async () => {
    ep.held.add('approval');
    const label = { label: 'approval', ...withClaim() };
    await assert.rejects(
      client(label).simpleenroll((await csrFor('device-105')).csr),
      (e: unknown) => isEst('pending', 202)(e) && (e as EstError).retryAfter === 1,
    );
    // The endpoint approves after the first ask: the same request, repeated, is issued.
    const { csr } = await csrFor('device-106');
    const r = await client({ ...label, maxWaitMs: 10_000 }).simpleenroll(csr);
    assert.equal(r.certificate.subject.toString(), 'CN=device-106');
    assert.deepEqual(ep.log.slice(-3), [
      'simpleenroll cert 202',
      'simpleenroll cert 202',
      'simpleenroll cert 200',
    ]);
  });

  it("a device's operations share one verified connection (keep-alive); close() ends it", async () => {
    const est = client(withClaim());
    const before = ep.tlsConnections();
    // /simpleenroll, then /cacerts to build the path: one handshake for both.
    const r = await enrollDevice(est, {
      subject: 'CN=device-keepalive',
      trustAnchors: [fleet.root.certificate],
    });
    assert.equal(r.certificate.subject.toString(), 'CN=device-keepalive');
    assert.equal(ep.tlsConnections() - before, 1);
    est.close();
    assert.equal((await est.cacerts()).length, 2);
    assert.equal(ep.tlsConnections() - before, 2, 'after close() the next operation opens a new connection');
    est.close();
  });

  it('a malformed or badly signed CSR: bad-request (400)', async () => {
    const { csr } = await csrFor('device-107');
    const bad = Uint8Array.from(csr.der);
    bad[bad.length - 2]! ^= 0x01; // inside the signature: parses, does not verify
    await assert.rejects(client(withClaim()).simpleenroll(bad), isEst('bad-request', 400));
  });

  it('trust anchor pinning (RFC 7030 §3.6.1): a server outside the explicit anchors is refused in TLS', async () => {
    await assert.rejects(
      client({ trustAnchors: [bootstrap.rootPem] }).cacerts(),
      (e: unknown) =>
        isEst('tls')(e) &&
        (e as EstError).cause instanceof MtlsError &&
        ((e as EstError).cause as MtlsError).verifyCode === 'unknown-issuer',
    );
  });

  it('a client certificate the server refuses: tls', async () => {
    const rogue = await makeHierarchy('Rogue');
    const r = await rogue.device('rogue-1');
    await assert.rejects(
      client({ certificate: { cert: r.chainPem, key: r.keyPem } }).simpleenroll(
        (await csrFor('device-108')).csr,
      ),
      isEst('tls'),
    );
  });

  const badOptions: { name: string; o: Partial<EstClientOptions> }[] = [
    { name: 'an http URL', o: { url: 'http://localhost:1/' } },
    { name: 'a label with a slash', o: { label: 'a/b' } },
    { name: 'no trust anchor', o: { trustAnchors: [] } },
  ];
  for (const c of badOptions)
    it(`refuses ${c.name}: bad-input`, () => assert.throws(() => client(c.o), isEst('bad-input')));
});

describe('the endpoint with the RFC 7030 scripted client (curl + openssl, RECIPES §9)', () => {
  const E = () => `${ep.url}/.well-known/est`;
  const curl = `curl -sS --fail --cacert root.pem`;

  it('cacerts: base64 -d | openssl pkcs7 -print_certs gives the two CA certificates', async () => {
    const r = await sh(
      `${curl} ${E()}/cacerts -o cacerts.b64 && base64 -d cacerts.b64 | openssl pkcs7 -inform DER -print_certs | grep -c '^subject='`,
      { cwd: tmp.dir },
    );
    assert.equal(r.stdout.trim(), '2', r.stderr);
  });

  it('simpleenroll over mTLS with an openssl-made CSR: openssl verify -x509_strict -purpose sslclient', async () => {
    const r = await sh(
      [
        `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout new.key -subj /CN=device-010 -outform DER 2>/dev/null | base64 -w 64 > csr.b64`,
        `${curl} --cert claim-chain.pem --key claim.key -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 ${E()}/simpleenroll -o new.b64`,
        `base64 -d new.b64 | openssl pkcs7 -inform DER -print_certs -out new.pem`,
        `openssl x509 -in new.pem -noout -subject -issuer`,
        `openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted int.pem new.pem`,
      ].join(' && '),
      { cwd: tmp.dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'subject=CN = device-010\nissuer=O = fleetpki test, CN = EST Fleet Issuing CA\nnew.pem: OK\n',
    );
  });

  it('simplereenroll with the certificate just issued (curl --cert new.pem)', async () => {
    const r = await sh(
      [
        `cat new.pem int.pem > new-chain.pem`,
        `openssl req -new -key new.key -subj /CN=device-010 -outform DER | base64 -w 64 > re.b64`,
        `${curl} --cert new-chain.pem --key new.key -H 'Content-Type: application/pkcs10' --data-binary @re.b64 ${E()}/simplereenroll | base64 -d | openssl pkcs7 -inform DER -print_certs | openssl x509 -noout -subject`,
      ].join(' && '),
      { cwd: tmp.dir },
    );
    assert.equal(r.stdout.trim(), 'subject=CN = device-010', r.stderr);
  });

  it('HTTP Basic: 200 once, then 401; no credentials: 401', async () => {
    ep.tokens.set('bootstrap', 's3cret');
    const code = (auth: string) =>
      sh(
        `curl -sS --cacert root.pem ${auth} -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 -o /dev/null -w '%{http_code}' ${E()}/simpleenroll`,
        { cwd: tmp.dir },
      );
    assert.equal((await code('-u bootstrap:s3cret')).stdout, '200');
    assert.equal((await code('-u bootstrap:s3cret')).stdout, '401');
    assert.equal((await code('')).stdout, '401');
  });

  it('csrattrs: openssl asn1parse reads the answer', async () => {
    const r = await sh(`${curl} ${E()}/csrattrs | base64 -d | openssl asn1parse -inform DER`, {
      cwd: tmp.dir,
    });
    assert.match(r.stdout, /challengePassword/);
    assert.match(r.stdout, /prime256v1/);
    assert.match(r.stdout, /ecdsa-with-SHA256/);
  });

  it('serverkeygen: split the multipart answer in the shell, openssl reads the key and the certificate, and they match', async () => {
    const r = await sh(
      [
        `${curl} --cert claim-chain.pem --key claim.key -H 'Content-Type: application/pkcs10' --data-binary @csr.b64 -D kg.headers -o kg.body ${E()}/serverkeygen`,
        `b=$(tr -d '\\r' < kg.headers | sed -n 's/^content-type: multipart\\/mixed; boundary=//ip')`,
        `part() { tr -d '\\r' < kg.body | awk -v b="--$b" -v n=$1 '$0==b||$0==b"--"{p++;h=1;next} p==n&&h&&$0==""{h=0;next} p==n&&!h{print}' | base64 -d; }`,
        `part 1 | openssl pkey -inform DER -pubout > kg.pub.pem`,
        `part 2 | openssl pkcs7 -inform DER -print_certs | openssl x509 -noout -pubkey > kg.certpub.pem`,
        `cmp kg.pub.pem kg.certpub.pem && echo match`,
      ].join(' && '),
      { cwd: tmp.dir },
    );
    assert.equal(r.stdout.trim(), 'match', r.stderr);
  });
});
