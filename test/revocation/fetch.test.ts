// End to end over real HTTP on 127.0.0.1: certificates issued with cRLDistributionPoints and
// authorityInfoAccess pointing at our fastify routes (registerCrlRoutes over a CrlPublisher,
// registerOcspRoutes over an OcspResponder, both on one MemoryStatusSource); verifyPath with
// `sources: ['crldp']` or `['ocsp']` finds the status through them; curl sees the HTTP headers.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { generateKeyPair, KeySigner, nodeCrypto, type Signer } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';
import { base64Encode } from '../../src/pem/index.js';
import {
  buildOcspRequest,
  CrlPublisher,
  checkOcspResponse,
  createRevocationChecker,
  MemoryStatusSource,
  OcspResponder,
  parseOcspResponse,
  type RevocationPolicy,
} from '../../src/revocation/index.js';
import { registerCrlRoutes } from '../../src/server/crl.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { verifyPath } from '../../src/verify/index.js';
import { type Certificate, parseCrl } from '../../src/x509/index.js';
import { requireTool, run } from './pki.js';

const T0 = Math.floor(Date.now() / 1000) * 1000;
let clock = T0;
const HOUR = 3_600_000;

let app: FastifyInstance;
let base: string;
let deadUrl: string;
let dead: NetServer | undefined;
const requests: string[] = [];
let source: MemoryStatusSource;
let publisher: CrlPublisher;
let rootCert: Certificate;
let intCert: Certificate;
let rootIssuer: Issuer;
let intSigner: Signer;
let tmp: string;
let server: Server | undefined;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fleetpki-fetch-'));
  // A port held by this test whose every connection is dropped before a byte is read. (A port
  // closed after binding, as before, could be handed to another test file's server running at the
  // same time, which then answered — seen once in CI.)
  dead = createNetServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => dead!.listen(0, '127.0.0.1', resolve));
  const deadAddr = dead.address();
  deadUrl = `http://127.0.0.1:${typeof deadAddr === 'object' && deadAddr ? deadAddr.port : 0}`;

  // The certificates must name the server's port, and the routes need the certificates: the HTTP
  // server is created for fastify (serverFactory) and bound to port 0 first; routes come after.
  app = Fastify({
    serverFactory: (handler) => {
      server = createServer(handler);
      return server;
    },
  });
  app.addHook('onRequest', (req, _reply, done) => {
    requests.push(`${req.method} ${req.url}`);
    done();
  });
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(0, '127.0.0.1', resolve);
  });
  const addr = server!.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  const [rk, ik] = await Promise.all([generateKeyPair('ec-p256'), generateKeyPair('ec-p256')]);
  const rootSigner = await KeySigner.create(rk.privateKey);
  intSigner = await KeySigner.create(ik.privateKey);
  rootCert = (await new CertificateBuilder('root').subject('CN=Fetch Root').sign(rootSigner)).certificate;
  // The root publishes the intermediate's status: the intermediate points at the root's CRL and OCSP.
  rootIssuer = Issuer.fromCertificate(rootCert, rootSigner, {
    crlDistributionPoints: [`${base}/crl/root.crl`],
    authorityInfoAccess: { ocsp: [`${base}/ocsp`] },
  });
  intCert = (
    await new CertificateBuilder('intermediate')
      .subject('CN=Fetch Issuing CA')
      .publicKey(ik.publicKey)
      .issuer(rootIssuer)
      .sign()
  ).certificate;

  source = new MemoryStatusSource();
  source.issue('root', intCert.serialNumber);
  const now = () => clock;
  publisher = await CrlPublisher.create({
    issuers: [
      { id: 'root', certificate: rootCert, signer: rootSigner, validitySeconds: 3600 },
      { id: 'int', certificate: intCert, signer: intSigner, validitySeconds: 3600 },
    ],
    source,
    now,
  });
  const responder = await OcspResponder.create({
    issuers: [
      { id: 'root', certificate: rootCert, signer: rootSigner },
      { id: 'int', certificate: intCert, signer: intSigner },
    ],
    source,
  });
  await registerCrlRoutes(app, { publisher });
  await registerOcspRoutes(app, { responder });
  await app.ready();
});

after(async () => {
  publisher?.stop();
  await app?.close();
  // fetch (undici) keeps connections alive; the server was bound by us, so we close it.
  server?.closeAllConnections();
  await new Promise((resolve) => (server?.listening ? server.close(resolve) : resolve(undefined)));
  await new Promise((resolve) => (dead?.listening ? dead.close(resolve) : resolve(undefined)));
  rmSync(tmp, { recursive: true, force: true });
});

/** A device certificate from the intermediate whose CRL/OCSP URLs are `urls` (recorded as issued unless `unknown`). */
async function device(
  cn: string,
  urls: { crl?: string; ocsp?: string },
  opts: { unknown?: boolean } = {},
): Promise<Certificate> {
  const ca = Issuer.fromCertificate(intCert, intSigner, {
    crlDistributionPoints: urls.crl ? [urls.crl] : undefined,
    authorityInfoAccess: urls.ocsp ? { ocsp: [urls.ocsp] } : undefined,
  });
  const k = await generateKeyPair('ec-p256');
  const c = (
    await new CertificateBuilder('device').subject(`CN=${cn}`).publicKey(k.publicKey).issuer(ca).sign()
  ).certificate;
  if (!opts.unknown) source.issue('int', c.serialNumber);
  return c;
}

function verify(
  leaf: Certificate,
  time: number,
  policy: Partial<RevocationPolicy>,
  checker = createRevocationChecker(policy),
) {
  return verifyPath({
    leaf,
    intermediates: [intCert],
    trustAnchors: [rootCert],
    purpose: 'clientAuth',
    time,
    revocation: checker,
  });
}

const count = (prefix: string) => requests.filter((r) => r.startsWith(prefix)).length;

describe('CRL distribution points over HTTP (sources: crldp)', () => {
  test('good leaf → valid; the CRLs are fetched once and cached until nextUpdate', async () => {
    const leaf = await device('crl-good', { crl: `${base}/crl/int.crl` });
    const checker = createRevocationChecker({ sources: ['crldp'] });
    const before = count('GET /crl/');
    const r1 = await verify(leaf, clock + 10_000, {}, checker);
    assert.equal(r1.ok, true, r1.ok ? '' : `${r1.code}: ${r1.message}`);
    // The leaf's CRL and the root's CRL (for the intermediate): one request each.
    assert.equal(count('GET /crl/') - before, 2);
    const r2 = await verify(leaf, clock + 20_000, {}, checker);
    assert.equal(r2.ok, true);
    assert.equal(count('GET /crl/') - before, 2, 'second validation served from the cache');
  });

  test('revoked and republished → revoked with reason; a cached CRL is kept until its nextUpdate', async () => {
    const leaf = await device('crl-revoked', { crl: `${base}/crl/int.crl` });
    const cached = createRevocationChecker({ sources: ['crldp'] });
    assert.equal((await verify(leaf, clock + 10_000, {}, cached)).ok, true);
    const fetchedBefore = count('GET /crl/int.crl');

    clock = T0 + 60_000;
    source.revoke('int', leaf.serialNumber, { revocationTime: clock - 1000, reason: 'keyCompromise' });
    const pub = await publisher.publish('int');
    assert.equal(parseCrl(pub.der).find(leaf.serialNumber)?.reasonCode, 'keyCompromise');

    // The checker that fetched the old CRL keeps it until its nextUpdate (T0 + 1 h) …
    assert.equal((await verify(leaf, clock + 1000, {}, cached)).ok, true);
    assert.equal(count('GET /crl/int.crl'), fetchedBefore);
    // … and fetches again after it.
    const late = await verify(leaf, T0 + HOUR + 30_000, {}, cached);
    assert.equal(late.ok, false);
    assert.equal(!late.ok && late.code, 'revoked');
    assert.equal(count('GET /crl/int.crl'), fetchedBefore + 1);

    // A fresh checker sees the revocation at once, with reason and date.
    const fresh = createRevocationChecker({ sources: ['crldp'] });
    const r = await verify(leaf, clock + 1000, {}, fresh);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.code, 'revoked');
      assert.equal(r.certIndex, 0);
      assert.match(r.message, /keyCompromise/);
    }
    const st = await fresh.check({
      cert: leaf,
      issuer: intCert,
      chain: [leaf, intCert, rootCert],
      index: 0,
      time: clock + 1000,
    });
    assert.deepEqual(st.status === 'revoked' && [st.reason, st.revocationDate, st.source], [
      'keyCompromise',
      clock - 1000,
      'crldp',
    ]);
  });

  test('unreachable CRL URL → revocation-unknown under hard-fail, valid under soft-fail', async () => {
    const leaf = await device('crl-dead', { crl: `${deadUrl}/crl/int.crl` });
    const hard = await verify(leaf, clock + 1000, {
      sources: ['crldp'],
      crldp: { timeoutMs: 3000, maxResponseBytes: 1 << 20 },
    });
    assert.equal(hard.ok, false);
    assert.equal(!hard.ok && hard.code, 'revocation-unknown');
    assert.match(!hard.ok ? hard.message : '', /fetch-failed/);
    const soft = await verify(leaf, clock + 1000, { sources: ['crldp'], unavailable: 'soft-fail' });
    assert.equal(soft.ok, true);
  });
});

describe('OCSP via authorityInfoAccess (sources: ocsp)', () => {
  const ocsp = () => `${base}/ocsp`;

  test('good, with a nonce (POST)', async () => {
    const leaf = await device('ocsp-good', { ocsp: ocsp() });
    const before = count('POST /ocsp');
    const r = await verify(leaf, Date.now(), { sources: ['ocsp'] });
    assert.equal(r.ok, true, r.ok ? '' : `${r.code}: ${r.message}`);
    // Leaf and intermediate: two nonce requests, so both POST (RFC 5019 §5: GET only for small, nonce-less).
    assert.equal(count('POST /ocsp') - before, 2);
  });

  test('good without a nonce goes over GET', async () => {
    const leaf = await device('ocsp-get', { ocsp: ocsp() });
    const before = count('GET /ocsp/');
    const r = await verify(leaf, Date.now(), {
      sources: ['ocsp'],
      ocsp: { nonce: false } as RevocationPolicy['ocsp'],
    });
    assert.equal(r.ok, true, r.ok ? '' : `${r.code}: ${r.message}`);
    assert.equal(count('GET /ocsp/') - before, 2);
  });

  test('revoked → revoked with reason and time', async () => {
    const leaf = await device('ocsp-revoked', { ocsp: ocsp() });
    const when = Date.now() - 5000;
    source.revoke('int', leaf.serialNumber, { revocationTime: when, reason: 'cessationOfOperation' });
    const r = await verify(leaf, Date.now(), { sources: ['ocsp'] });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'revoked');
    assert.match(!r.ok ? r.message : '', /cessationOfOperation/);
    const st = await createRevocationChecker({ sources: ['ocsp'] }).check({
      cert: leaf,
      issuer: intCert,
      chain: [leaf, intCert, rootCert],
      index: 0,
      time: Date.now(),
    });
    assert.deepEqual(st.status === 'revoked' && [st.reason, st.revocationDate, st.source], [
      'cessationOfOperation',
      Math.floor(when / 1000) * 1000,
      'ocsp',
    ]);
  });

  test('a serial the CA never issued → unknown → revocation-unknown (hard-fail)', async () => {
    const leaf = await device('ocsp-unknown', { ocsp: ocsp() }, { unknown: true });
    const r = await verify(leaf, Date.now(), { sources: ['ocsp'] });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'revocation-unknown');
    assert.equal(!r.ok && r.certIndex, 0);
  });

  test('unreachable responder → revocation-unknown under hard-fail, valid under soft-fail', async () => {
    const leaf = await device('ocsp-dead', { ocsp: `${deadUrl}/ocsp` });
    const hard = await verify(leaf, Date.now(), { sources: ['ocsp'] });
    assert.equal(!hard.ok && hard.code, 'revocation-unknown');
    const soft = await verify(leaf, Date.now(), { sources: ['ocsp'], unavailable: 'soft-fail' });
    assert.equal(soft.ok, true);
  });
});

describe('curl against the routes', () => {
  before(() => requireTool('curl'));

  function headers(raw: string): Map<string, string> {
    const m = new Map<string, string>();
    const blocks = raw.trim().split(/\r?\n\r?\n/);
    const last = blocks[blocks.length - 1]!.split(/\r?\n/);
    m.set(':status', last[0]!.split(' ')[1]!);
    for (const line of last.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    return m;
  }

  test('CRL: application/pkix-crl, Cache-Control max-age, ETag; If-None-Match → 304', async () => {
    clock = Date.now();
    const pub = await publisher.publish('int');
    const out = join(tmp, 'int.crl');
    const r = await run('curl', ['-sS', '-D', '-', '-o', out, `${base}/crl/int.crl`]);
    assert.equal(r.status, 0, r.stderr);
    const h = headers(r.stdout);
    assert.equal(h.get(':status'), '200');
    assert.equal(h.get('content-type'), 'application/pkix-crl');
    assert.match(h.get('cache-control') ?? '', /^max-age=\d+, public, no-transform, must-revalidate$/);
    assert.equal(h.get('etag'), pub.etag);
    assert.equal(h.get('expires'), new Date(pub.nextUpdate).toUTCString());
    assert.deepEqual(new Uint8Array(readFileSync(out)), pub.der);
    const again = await run('curl', [
      '-sS',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      `If-None-Match: ${pub.etag}`,
      `${base}/crl/int.crl`,
    ]);
    assert.equal(headers(again.stdout).get(':status'), '304');
  });

  test('OCSP GET: application/ocsp-response, Cache-Control max-age, ETag; the body says good', async () => {
    const leaf = await device('curl-ocsp', { ocsp: `${base}/ocsp` });
    const req = await buildOcspRequest(leaf, intCert, { nonce: false });
    const out = join(tmp, 'resp.der');
    const url = `${base}/ocsp/${encodeURIComponent(base64Encode(req.der))}`;
    const r = await run('curl', ['-sS', '-D', '-', '-o', out, url]);
    assert.equal(r.status, 0, r.stderr);
    const h = headers(r.stdout);
    assert.equal(h.get(':status'), '200');
    assert.equal(h.get('content-type'), 'application/ocsp-response');
    assert.match(h.get('cache-control') ?? '', /^max-age=\d+, public, no-transform, must-revalidate$/);
    assert.match(h.get('etag') ?? '', /^"[^"]+"$/);
    const der = new Uint8Array(readFileSync(out));
    const st = await checkOcspResponse(parseOcspResponse(der), leaf, intCert, {
      crypto: nodeCrypto,
      time: Date.now(),
    });
    assert.equal(st.status, 'good');
    const again = await run('curl', [
      '-sS',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      `If-None-Match: ${h.get('etag')}`,
      url,
    ]);
    assert.equal(headers(again.stdout).get(':status'), '304');
  });

  test('OCSP POST with a nonce: no-store (a nonce answer is not cacheable)', async () => {
    const leaf = await device('curl-ocsp-post', { ocsp: `${base}/ocsp` });
    const req = await buildOcspRequest(leaf, intCert, { nonce: true });
    const reqFile = join(tmp, 'req.der');
    writeFileSync(reqFile, req.der);
    const out = join(tmp, 'resp-post.der');
    const r = await run('curl', [
      '-sS',
      '-D',
      '-',
      '-o',
      out,
      '-H',
      'Content-Type: application/ocsp-request',
      '--data-binary',
      `@${reqFile}`,
      `${base}/ocsp`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const h = headers(r.stdout);
    assert.equal(h.get('content-type'), 'application/ocsp-response');
    assert.equal(h.get('cache-control'), 'no-store');
    const st = await checkOcspResponse(new Uint8Array(readFileSync(out)), leaf, intCert, {
      crypto: nodeCrypto,
      time: Date.now(),
      nonce: req.nonce,
    });
    assert.equal(st.status, 'good');
  });
});
