// Bad input over HTTPS: each refused with a 4xx problem+json carrying its code, nothing stored,
// and no CA key used — the service's own signature counter (the KeyStore wraps every CA key in a
// counting signer) proves the last. The service runs in this process on 127.0.0.1:0, on a real
// SQLite store, behind its real TLS; the clients are real HTTPS clients.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/ca/config.js';
import { encodePem } from '../../src/pem/pem.js';
import {
  CaList,
  CertificateDetail,
  CertificatePage,
  IssueResponse,
  Problem,
  ProfileList,
  Statistics,
} from '../../src/server/api/schemas.js';
import { STATUS_BY_CODE } from '../../src/server/errors.js';
import { PUBLIC_ROUTES } from '../../src/server/routes/public.js';
import { Service } from '../../src/server/service.js';
import { badSignatureCsr, evenExponentCsr, makeCsr, offCurveCsr, rsa1024Csr } from '../ca/requests.js';
import { makeHierarchy } from '../helpers/fleet.js';
import { api, type HttpResponse, request } from './helpers.js';

const PASSPHRASE = 'bad-input test passphrase';

describe('admin API: bad input is refused before any key is used', () => {
  let dir: string;
  let svc: Service;
  let root: string;
  let token: string;
  let adminCert: string;
  let adminKey: string;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetpki-badin-'));
    svc = await Service.start({
      dataDir: join(dir, 'data'),
      port: 0,
      env: { FLEETPKI_PASSPHRASE: PASSPHRASE },
      config: parseConfig({}),
      logDestination: new Writable({
        write(chunk, _enc, cb) {
          logs.push(...String(chunk).split('\n').filter(Boolean));
          cb();
        },
      }),
      limits: { bodyLimit: 16 * 1024 },
    });
    root = readFileSync(svc.rootPath, 'utf8');
    token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
    adminCert = readFileSync(svc.admin.certPath, 'utf8');
    adminKey = readFileSync(svc.admin.keyPath, 'utf8');
  });
  after(async () => {
    await svc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Certificates in the store, any state (reserved and void rows included). */
  const stored = async () =>
    (await svc.authority.find({ states: ['reserved', 'issued', 'void'], limit: 500 })).items.length;

  const asPem = (der: Uint8Array) => encodePem('CERTIFICATE REQUEST', der);
  const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64');

  /** Sends a request and checks: status, problem code, nothing stored, no signature. */
  async function refused(send: () => Promise<HttpResponse>, status: number, code: string): Promise<Problem> {
    const before = { rows: await stored(), sigs: svc.signatures() };
    const r = await send();
    assert.equal(r.status, status, r.text);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    const p = Problem.parse(r.json());
    assert.equal(p.code, code, r.text);
    assert.equal(p.status, status);
    assert.ok(!/\n\s+at /.test(r.text), 'no stack trace');
    assert.equal(await stored(), before.rows, 'nothing stored');
    assert.equal(svc.signatures(), before.sigs, 'no CA key used');
    return p;
  }

  const issue = (csr: string, profile = 'device', extra: Record<string, unknown> = {}) =>
    api(svc.url, '/api/v1/certificates', { token, ca: root, json: { csr, profile, ...extra } });

  const cases: { name: string; csr: () => Promise<string>; profile?: string; code: string }[] = [
    {
      name: 'malformed CSR (not PEM, not base64)',
      csr: async () => 'this is not a CSR!',
      code: 'malformed-csr',
    },
    {
      name: 'malformed CSR (base64 of garbage DER)',
      csr: async () => b64(Uint8Array.of(0x30, 0x03, 0x02, 0x01)),
      code: 'malformed-csr',
    },
    {
      name: 'malformed CSR (truncated)',
      csr: async () => b64((await makeCsr({ subject: 'CN=device-trunc' })).der.slice(0, 60)),
      code: 'malformed-csr',
    },
    { name: 'bad CSR signature', csr: async () => b64(await badSignatureCsr()), code: 'bad-csr-signature' },
    { name: 'weak key: RSA-1024', csr: async () => asPem((await rsa1024Csr()).der), code: 'weak-key' },
    {
      name: 'weak key: RSA even exponent',
      csr: async () => asPem((await evenExponentCsr()).der),
      code: 'weak-key',
    },
    {
      name: 'weak key: EC point off the curve',
      csr: async () => asPem((await offCurveCsr()).der),
      code: 'weak-key',
    },
    {
      name: 'subject outside the profile',
      csr: async () => asPem((await makeCsr({ subject: 'CN=device-1,C=DE,L=Berlin' })).der),
      code: 'subject-not-allowed',
    },
    {
      name: 'SAN outside the profile (IP on a device)',
      csr: async () => asPem((await makeCsr({ subject: 'CN=device-1', sans: ['ip:10.0.0.1'] })).der),
      code: 'san-not-allowed',
    },
    {
      name: 'DNS:*.com',
      csr: async () => asPem((await makeCsr({ subject: 'CN=srv', sans: ['dns:*.com'] })).der),
      profile: 'server',
      code: 'san-not-allowed',
    },
    {
      name: 'URI:javascript:…',
      csr: async () =>
        asPem(
          (await makeCsr({ subject: 'CN=device-1', sans: ['uri:javascript:alert(document.cookie)'] })).der,
        ),
      code: 'san-not-allowed',
    },
    {
      name: "subject equal to the issuing CA's",
      csr: async () => asPem((await makeCsr({ subject: 'CN=fleetpki Issuing CA' })).der),
      code: 'subject-equals-issuer',
    },
    {
      name: 'unknown profile',
      csr: async () => asPem((await makeCsr({ subject: 'CN=device-1' })).der),
      profile: 'nosuch',
      code: 'unknown-profile',
    },
    {
      name: 'a profile the admin may not use (the service certificate)',
      csr: async () => asPem((await makeCsr({ subject: 'CN=evil', sans: ['dns:evil.example'] })).der),
      profile: 'service',
      code: 'forbidden',
    },
  ];
  for (const c of cases)
    test(`${c.name} → ${c.code}`, async () => {
      const csr = await c.csr();
      const p = await refused(
        () => issue(csr, c.profile),
        STATUS_BY_CODE[c.code as keyof typeof STATUS_BY_CODE],
        c.code,
      );
      assert.ok(p.detail && p.detail.length > 0);
    });

  test('oversize body → 413 body-too-large', async () => {
    await refused(() => issue('A'.repeat(20 * 1024)), 413, 'body-too-large');
  });

  test('invalid JSON, wrong field types and unknown fields → 400 bad-request naming the field', async () => {
    await refused(
      () =>
        request(`${svc.url}/api/v1/certificates`, {
          ca: root,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{"csr": ',
        }),
      400,
      'bad-request',
    );
    const p = await refused(() => issue('x', 'device', { validityDays: 'ten' }), 400, 'bad-request');
    assert.equal(p.path, 'body.validityDays');
    const q = await refused(() => issue('x', 'device', { admin: true }), 400, 'bad-request');
    assert.equal(q.path, 'body.admin');
    const t = await refused(
      () => api(svc.url, '/api/v1/certificates?limit=0', { token, ca: root }),
      400,
      'bad-request',
    );
    assert.equal(t.path, 'query.limit');
  });

  test('a CSR sent as text/plain → 415', async () => {
    await refused(
      () =>
        request(`${svc.url}/api/v1/certificates`, {
          ca: root,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
          body: 'csr',
        }),
      415,
      'unsupported-media-type',
    );
  });

  test('missing credential → 401 unauthorized (also on unknown paths: default-deny)', async () => {
    const csr = asPem((await makeCsr({ subject: 'CN=device-nocred' })).der);
    const r = await refused(
      () => api(svc.url, '/api/v1/certificates', { ca: root, json: { csr, profile: 'device' } }),
      401,
      'unauthorized',
    );
    assert.match(r.detail!, /client-certificate or bearer/);
    await refused(() => api(svc.url, '/api/v1/nothing-here', { ca: root }), 401, 'unauthorized');
    await refused(() => api(svc.url, '/admin', { ca: root }), 401, 'unauthorized');
    // With a credential, an unknown path is a plain 404.
    await refused(() => api(svc.url, '/api/v1/nothing-here', { ca: root, token }), 404, 'not-found');
  });

  test('wrong or malformed bearer token → 401 bad-credential', async () => {
    const csr = asPem((await makeCsr({ subject: 'CN=device-wrong' })).der);
    const body = { csr, profile: 'device' };
    const [, id] = /^fpk_([0-9a-f]{16})_/.exec(token)!;
    const wrongSecret = `fpk_${id}_${'A'.repeat(43)}`;
    const unknownId = `fpk_0000000000000000_${token.slice(-43)}`;
    for (const t of [wrongSecret, unknownId, 'not-a-token', `${token}x`])
      await refused(
        () => api(svc.url, '/api/v1/certificates', { ca: root, token: t, json: body }),
        401,
        'bad-credential',
      );
    // A wrong token is refused even alongside a valid admin certificate (it was sent on purpose).
    await refused(
      () =>
        api(svc.url, '/api/v1/certificates', {
          ca: root,
          token: wrongSecret,
          cert: adminCert,
          key: adminKey,
          json: body,
        }),
      401,
      'bad-credential',
    );
  });

  test('a client certificate from another CA → 401 client-certificate-rejected (unknown issuer)', async () => {
    const rogue = await makeHierarchy('rogue');
    const id = await rogue.device('fleetpki-admin');
    const csr = asPem((await makeCsr({ subject: 'CN=device-rogue' })).der);
    const p = await refused(
      () =>
        api(svc.url, '/api/v1/certificates', {
          ca: root,
          cert: id.chainPem,
          key: id.keyPem,
          json: { csr, profile: 'device' },
        }),
      401,
      'client-certificate-rejected',
    );
    assert.ok(p.verifyCode && p.verifyCode !== 'not-admin', p.verifyCode);
  });

  test('a device certificate of this CA is not an admin credential → 401 (not-admin)', async () => {
    const key = await import('../../src/crypto/index.js');
    const pair = await key.generateKeyPair('ec-p256');
    const csr = await makeCsr(
      { subject: 'CN=device-not-admin' },
      await key.KeySigner.create(pair.privateKey),
    );
    const issued = await issue(asPem(csr.der));
    assert.equal(issued.status, 201, issued.text);
    const deviceCert = IssueResponse.parse(issued.json());
    assert.equal(deviceCert.status, 'issued');
    const keyPem = await key.exportKey(pair.privateKey, { format: 'pkcs8' });
    const p = await refused(
      () =>
        api(svc.url, '/api/v1/cas', {
          ca: root,
          cert: deviceCert.status === 'issued' ? deviceCert.pem + deviceCert.chainPem : '',
          key: keyPem,
        }),
      401,
      'client-certificate-rejected',
    );
    assert.equal(p.verifyCode, 'not-admin');
  });

  test('a valid request still works, and its responses match the schemas', async () => {
    const csr = await makeCsr({ subject: 'CN=device-ok', sans: ['dns:device-ok.fleet.example'] });
    const before = svc.signatures();
    const r = await issue(b64(csr.der));
    assert.equal(r.status, 201, r.text);
    assert.ok(svc.signatures() > before, 'the key signed');
    const body = IssueResponse.parse(r.json());
    assert.equal(body.status, 'issued');
    const serial = body.status === 'issued' ? body.certificate.serial : '';
    const get = (path: string) => api(svc.url, path, { ca: root, cert: adminCert, key: adminKey });
    CertificateDetail.parse((await get(`/api/v1/certificates/${serial}`)).json());
    const der = await get(`/api/v1/certificates/${serial}?format=der`);
    assert.equal(der.headers['content-type'], 'application/pkix-cert');
    assert.equal(der.body[0], 0x30);
    const page = CertificatePage.parse((await get('/api/v1/certificates?san=dns:device-ok*')).json());
    assert.deepEqual(
      page.items.map((i) => i.serial),
      [serial],
    );
    CaList.parse((await get('/api/v1/cas')).json());
    ProfileList.parse((await get('/api/v1/profiles')).json());
    Statistics.parse((await get('/api/v1/statistics')).json());
  });

  test('the public routes are exactly the allow-list; everything else needs a credential', async () => {
    const routes = svc.server.routes().filter((r) => r.method !== 'HEAD');
    const publicRoutes = routes.filter((r) => r.auth === 'public').map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(publicRoutes.sort(), [...PUBLIC_ROUTES].sort());
    assert.ok(routes.filter((r) => r.url.startsWith('/api/')).every((r) => r.auth === 'admin'));
    // Every non-public route refuses an anonymous client, except EST's distribution of the CA
    // certificates and CSR attributes, which RFC 7030 (§4.1.1, §4.5.1) has served without client
    // authentication (EST's own credential set decides per operation).
    const anonymousEst = /^\/\.well-known\/est(\/:label)?\/(cacerts|csrattrs)$/;
    for (const r of routes.filter((x) => x.auth !== 'public')) {
      const url = r.url
        .replace(/:[a-z]+/g, '00ff')
        .replace('/.well-known/est/00ff/', '/.well-known/est/default/');
      const res = await request(`${svc.url}${url}`, { method: r.method, ca: root });
      if (anonymousEst.test(r.url)) assert.equal(res.status, 200, `${r.method} ${r.url}`);
      else assert.equal(res.status, 401, `${r.method} ${r.url}`);
    }
  });

  test('logs are JSON lines', () => {
    assert.ok(logs.length > 0);
    for (const l of logs) assert.doesNotThrow(() => JSON.parse(l), l);
  });
});
