// The EST server of `fleetpki serve` (RFC 7030 with RFC 8951) against real clients: curl and the
// OpenSSL CLI scripted as RFC 7030 describes them (RECIPES §9), Node's TLS for channel binding;
// every bad path with its exact status and code, and nothing stored by a refused request.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { parseConfig } from '../../src/ca/config.js';
import { exportKey, generateKeyPair, KeySigner } from '../../src/crypto/index.js';
import { importBootstrapTrust } from '../../src/est/bootstrap.js';
import { bindingPassword, channelBinding } from '../../src/est/channel-binding.js';
import { createEnrollmentCredential } from '../../src/est/credentials.js';
import { parseCertsOnly } from '../../src/est/index.js';
import { CsrBuilder } from '../../src/issue/index.js';
import { Service } from '../../src/server/service.js';
import { parseCrl } from '../../src/x509/index.js';
import { badSignatureCsr } from '../ca/requests.js';
import { type Hierarchy, type Identity, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run } from '../helpers/proc.js';
import { type HttpResponse, request } from '../server/helpers.js';

const tmp = tempDir('est-server');
let svc: Service;
let factory: Hierarchy;
let rogue: Hierarchy;
let rootPem: string;
let E: string;
const boot: Record<string, Identity> = {};

before(async () => {
  factory = await makeHierarchy('Factory');
  rogue = await makeHierarchy('Rogue');
  svc = await Service.start({
    dataDir: join(tmp.dir, 'data'),
    port: 0,
    revocationPort: 0,
    logLevel: 'silent',
    env: { FLEETPKI_PASSPHRASE: 'est server test passphrase' },
    config: parseConfig({
      profiles: { sensor: { approval: 'manual' } },
      est: {
        labels: {
          default: { subject: 'device-[0-9]+', bootstrap: { subject: '{cn}' } },
          bound: { channelBinding: 'require' },
          approve: { profile: 'sensor', credentials: ['token'] },
        },
      },
    }),
  });
  rootPem = svc.authority.rootCertificate().toPem();
  tmp.file('root.pem', rootPem);
  E = `${svc.url.replace('127.0.0.1', 'localhost')}/.well-known/est`;
  for (const cn of ['device-1', 'device-2', 'device-3', 'device-4', 'device-5'])
    boot[cn] = await factory.device(cn);
  boot.revoked = await factory.device('device-66');
  boot.expired = await factory.device('device-77', {
    notBefore: Date.now() - 10 * 86_400_000,
    notAfter: Date.now() - 86_400_000,
  });
  boot.rogue = await rogue.device('device-88');
  for (const [name, id] of Object.entries(boot)) {
    tmp.file(`${name}.chain.pem`, id.chainPem);
    tmp.file(`${name}.key`, id.keyPem);
  }
  await importBootstrapTrust(svc.authority, 'default', {
    certificates: [factory.int.certificate],
    crls: [parseCrl(await factory.crl([boot.revoked.certificate]))],
    requester: 'cli:test',
  });
  await importBootstrapTrust(svc.authority, 'bound', {
    certificates: [factory.int.certificate],
    requester: 'cli:test',
  });
  await svc.est!.reload();
});

after(async () => {
  await svc?.close();
  tmp.remove();
});

const sh = (script: string) =>
  run('bash', ['-euo', 'pipefail', '-c', script], { cwd: tmp.dir, timeoutMs: 60_000 });

/** Everything the store holds that a request could have added. */
async function stored(): Promise<string> {
  const ca = svc.authority;
  const certs = await ca.find({ limit: 500, states: ['reserved', 'issued', 'void'] });
  const pending = await ca.listPending({ limit: 500 });
  const creds = await ca.store.listEnrollmentCredentials({ limit: 500 });
  return JSON.stringify([certs.items.map((c) => c.serialHex), pending.map((p) => p.id), creds]);
}

async function csr(cn: string, o: { password?: string } = {}): Promise<{ der: Uint8Array; keyPem: string }> {
  const k = await generateKeyPair('ec-p256');
  const b = new CsrBuilder().subject(`CN=${cn}`);
  if (o.password) b.challengePassword(o.password);
  const c = await b.sign(await KeySigner.create(k.privateKey));
  return { der: c.der, keyPem: await exportKey(k.privateKey, { format: 'pkcs8' }) };
}

function b64(der: Uint8Array): string {
  return `${Buffer.from(der).toString('base64')}\n`;
}

function post(
  op: string,
  body: string,
  o: { id?: Identity; basic?: string; label?: string } = {},
): Promise<HttpResponse> {
  return request(`${E}${o.label ? `/${o.label}` : ''}/${op}`, {
    ca: rootPem,
    cert: o.id?.chainPem,
    key: o.id?.keyPem,
    headers: {
      'content-type': 'application/pkcs10',
      ...(o.basic ? { authorization: `Basic ${Buffer.from(o.basic).toString('base64')}` } : {}),
    },
    body,
  });
}

function problem(r: HttpResponse): { code: string; verifyCode?: string } {
  assert.match(String(r.headers['content-type']), /application\/problem\+json/);
  return r.json();
}

describe('EST with curl and openssl as the client (RFC 7030, RECIPES §9)', () => {
  it('cacerts, csrattrs, simpleenroll (bootstrap certificate and Basic), simplereenroll, serverkeygen', async () => {
    const token = await createEnrollmentCredential(svc.authority, {
      label: 'default',
      subject: 'device-20',
      validityHours: 1,
      requester: 'cli:test',
    });
    const r = await sh(`
      E=${E}
      curl -sS --fail --cacert root.pem $E/cacerts -o cacerts.b64
      base64 -di cacerts.b64 | openssl pkcs7 -inform DER -print_certs -out cacerts.pem
      test "$(grep -c 'BEGIN CERTIFICATE' cacerts.pem)" = 2
      curl -sS --fail --cacert root.pem $E/csrattrs -o attrs.b64 -D attrs.h
      grep -qi '^content-type: application/csrattrs' attrs.h
      base64 -di attrs.b64 | openssl asn1parse -inform DER | grep -q prime256v1

      # first enrollment with the factory's bootstrap certificate (TLS client authentication)
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout d1.key \\
        -subj /CN=device-1 -outform DER 2>/dev/null | base64 -w 64 > d1.csr.b64
      curl -sS --fail --cacert root.pem --cert device-1.chain.pem --key device-1.key \\
        -H 'Content-Type: application/pkcs10' --data-binary @d1.csr.b64 $E/simpleenroll -o d1.b64 -D d1.h
      grep -qi '^content-type: application/pkcs7-mime; smime-type=certs-only' d1.h
      base64 -di d1.b64 | openssl pkcs7 -inform DER -print_certs -out d1.pem
      openssl x509 -in d1.pem -noout -subject | grep -q 'CN = device-1'
      openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted cacerts.pem d1.pem

      # first enrollment with a single-use credential (HTTP Basic over TLS)
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout d20.key \\
        -subj /CN=device-20 -outform DER 2>/dev/null | base64 -w 64 > d20.csr.b64
      curl -sS --fail --cacert root.pem -u '${token.username}:${token.password}' \\
        -H 'Content-Type: application/pkcs10' --data-binary @d20.csr.b64 $E/simpleenroll -o d20.b64
      base64 -di d20.b64 | openssl pkcs7 -inform DER -print_certs -out d20.pem
      openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted cacerts.pem d20.pem

      # re-enrollment with the device's own certificate and a new key (RFC 7030 §4.2.2)
      cat d1.pem cacerts.pem > d1.chain.pem
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout d1b.key \\
        -subj /CN=device-1 -outform DER 2>/dev/null | base64 -w 64 > d1b.csr.b64
      curl -sS --fail --cacert root.pem --cert d1.chain.pem --key d1.key \\
        -H 'Content-Type: application/pkcs10' --data-binary @d1b.csr.b64 $E/simplereenroll -o d1b.b64
      base64 -di d1b.b64 | openssl pkcs7 -inform DER -print_certs -out d1b.pem
      openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted cacerts.pem d1b.pem
      test "$(openssl x509 -in d1b.pem -noout -serial)" != "$(openssl x509 -in d1.pem -noout -serial)"
      test "$(openssl x509 -in d1b.pem -noout -pubkey)" = "$(openssl pkey -in d1b.key -pubout)"

      # the server makes the key (RFC 7030 §4.4): multipart, PKCS#8 + certs-only
      openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout throwaway.key \\
        -subj /CN=device-2 -outform DER 2>/dev/null | base64 -w 64 > d2.csr.b64
      curl -sS --fail --cacert root.pem --cert device-2.chain.pem --key device-2.key \\
        -H 'Content-Type: application/pkcs10' --data-binary @d2.csr.b64 $E/serverkeygen -o kg.body -D kg.h
      grep -qi '^content-type: multipart/mixed; boundary=' kg.h
      awk '/application\\/pkcs8/{f=1;next} f&&/^--/{f=0} f' kg.body | tr -d '\\r' | sed '/^Content-/d;/^$/d' | base64 -d > kg.key.der
      awk '/smime-type=certs-only/{f=1;next} f&&/^--/{f=0} f' kg.body | tr -d '\\r' | sed '/^Content-/d;/^$/d' | base64 -d \\
        | openssl pkcs7 -inform DER -print_certs -out kg.pem
      openssl verify -x509_strict -purpose sslclient -CAfile root.pem -untrusted cacerts.pem kg.pem
      test "$(openssl x509 -in kg.pem -noout -pubkey)" = "$(openssl pkey -inform DER -in kg.key.der -pubout)"
    `);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /d1\.pem: OK/);
    assert.match(r.stdout, /d20\.pem: OK/);
    assert.match(r.stdout, /d1b\.pem: OK/);
    assert.match(r.stdout, /kg\.pem: OK/);
    // The server-made key is nowhere in the store.
    const keyDer = readFileSync(join(tmp.dir, 'kg.key.der'));
    const db = readFileSync(join(tmp.dir, 'data', 'fleetpki.db'));
    assert.equal(db.indexOf(keyDer.subarray(-32)), -1);
  });

  it('answers 401 with a Basic challenge when no credential is sent', async () => {
    const r = await sh(`curl -s -o /dev/null -D - --cacert root.pem -H 'Content-Type: application/pkcs10' \\
      --data-binary @d1.csr.b64 ${E}/simpleenroll`);
    assert.match(r.stdout, /^HTTP\/1\.1 401/);
    assert.match(r.stdout, /www-authenticate: Basic realm="fleetpki EST"/i);
  });

  it('OCSP over the plain-HTTP listener answers for the enrolled certificate (openssl ocsp)', async () => {
    const url = svc.revocation!.url;
    const r = await sh(`awk '/BEGIN/{n++} n==1' cacerts.pem > int.pem
      openssl x509 -in d1.pem -noout -ocsp_uri
      openssl ocsp -issuer int.pem -cert d1.pem -url ${url}/ocsp -CAfile root.pem -no_nonce`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`${url}/ocsp`), r.stdout);
    assert.match(r.stdout, /d1\.pem: good/);
    assert.match(r.stderr, /Response verify OK/);
    const admin = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}/api/v1/cas`]);
    assert.equal(admin.stdout, '404');
  });
});

describe('EST bad paths: exact outcome, nothing stored', () => {
  const cases: {
    name: string;
    status: number;
    code: string;
    verifyCode?: string;
    send: () => Promise<HttpResponse>;
  }[] = [
    {
      name: 'no client certificate and no credential',
      status: 401,
      code: 'unauthorized',
      send: async () => post('simpleenroll', b64((await csr('device-3')).der)),
    },
    {
      name: 'an expired bootstrap certificate',
      status: 401,
      code: 'unauthorized',
      verifyCode: 'expired',
      send: async () => post('simpleenroll', b64((await csr('device-77')).der), { id: boot.expired }),
    },
    {
      name: 'a revoked bootstrap certificate (the factory CA imported with its CRL)',
      status: 401,
      code: 'unauthorized',
      verifyCode: 'revoked',
      send: async () => post('simpleenroll', b64((await csr('device-66')).der), { id: boot.revoked }),
    },
    {
      name: 'a bootstrap certificate from an untrusted CA',
      status: 401,
      code: 'unauthorized',
      verifyCode: 'unknown-issuer',
      send: async () => post('simpleenroll', b64((await csr('device-88')).der), { id: boot.rogue }),
    },
    {
      name: 'a CSR whose subject is outside the label (device-NN only)',
      status: 403,
      code: 'subject-not-authorized',
      send: async () => post('simpleenroll', b64((await csr('gateway-3')).der), { id: boot['device-3'] }),
    },
    {
      name: "a bootstrap certificate enrolling another device's name ({cn})",
      status: 403,
      code: 'subject-not-authorized',
      send: async () => post('simpleenroll', b64((await csr('device-4')).der), { id: boot['device-3'] }),
    },
    {
      name: 'a malformed CSR',
      status: 400,
      code: 'malformed-csr',
      send: () =>
        post('simpleenroll', b64(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00)), { id: boot['device-3'] }),
    },
    {
      name: 'a badly signed CSR',
      status: 400,
      code: 'bad-csr-signature',
      send: async () => post('simpleenroll', b64(await badSignatureCsr()), { id: boot['device-3'] }),
    },
    {
      name: 'a body that is not base64',
      status: 400,
      code: 'bad-request',
      send: () => post('simpleenroll', '%%% not base64 %%%', { id: boot['device-3'] }),
    },
    {
      name: 'a bootstrap certificate on /simplereenroll',
      status: 403,
      code: 'credential-not-accepted',
      send: async () => post('simplereenroll', b64((await csr('device-3')).der), { id: boot['device-3'] }),
    },
    {
      name: 'an unknown label',
      status: 404,
      code: 'not-found',
      send: async () =>
        post('simpleenroll', b64((await csr('device-3')).der), { id: boot['device-3'], label: 'nope' }),
    },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.status} ${c.code}${c.verifyCode ? ` (${c.verifyCode})` : ''}`, async () => {
      const before = await stored();
      const r = await c.send();
      assert.equal(r.status, c.status, r.text);
      const p = problem(r);
      assert.equal(p.code, c.code);
      if (c.verifyCode) assert.equal(p.verifyCode, c.verifyCode);
      assert.equal(await stored(), before);
    });

  it('an enrollment credential used twice → 401 credential-used; the first use holds', async () => {
    const t = await createEnrollmentCredential(svc.authority, {
      label: 'default',
      validityHours: 1,
      requester: 'cli:test',
    });
    const basic = `${t.username}:${t.password}`;
    const first = await post('simpleenroll', b64((await csr('device-30')).der), { basic });
    assert.equal(first.status, 200, first.text);
    const before = await stored();
    const second = await post('simpleenroll', b64((await csr('device-31')).der), { basic });
    assert.equal(second.status, 401);
    assert.equal(problem(second).code, 'credential-used');
    assert.equal(await stored(), before);
    const wrong = await post('simpleenroll', b64((await csr('device-32')).der), {
      basic: `${t.username}:${'x'.repeat(43)}`,
    });
    assert.equal(problem(wrong).code, 'unauthorized');
  });

  it('a credential is given back when the Authority refuses the request, and spent by the next good one', async () => {
    const t = await createEnrollmentCredential(svc.authority, {
      label: 'default',
      validityHours: 1,
      requester: 'cli:test',
    });
    const basic = `${t.username}:${t.password}`;
    const weak = await post('simpleenroll', b64(await badSignatureCsr()), { basic });
    assert.equal(weak.status, 400);
    assert.equal((await svc.authority.store.getEnrollmentCredential(t.username))?.usedAt, undefined);
    const ok = await post('simpleenroll', b64((await csr('device-33')).der), { basic });
    assert.equal(ok.status, 200, ok.text);
  });

  it('a re-enrollment that changes the subject → 403 reenroll-mismatch', async () => {
    const first = await csr('device-5');
    const r = await post('simpleenroll', b64(first.der), { id: boot['device-5'] });
    assert.equal(r.status, 200, r.text);
    const cert = parseCertsOnly(Buffer.from(r.text, 'base64')).certificates[0]!;
    const own = {
      ...boot['device-5']!,
      chainPem: cert.toPem() + svc.authority.chain()[0]!.toPem(),
      keyPem: first.keyPem,
    };
    const before = await stored();
    const bad = await post('simplereenroll', b64((await csr('device-6')).der), { id: own as Identity });
    assert.equal(bad.status, 403, bad.text);
    assert.equal(problem(bad).code, 'reenroll-mismatch');
    assert.equal(await stored(), before);
    const good = await post('simplereenroll', b64((await csr('device-5')).der), { id: own as Identity });
    assert.equal(good.status, 200, good.text);
  });
});

describe('EST channel binding (RFC 7030 §3.5) and manual approval (§4.2.3)', () => {
  /** One TLS connection; the CSR is made after the handshake, from this session's binding. */
  async function onOneConnection(
    id: Identity,
    version: 'TLSv1.2' | 'TLSv1.3',
    makeBody: (s: TLSSocket) => Promise<string>,
  ): Promise<HttpResponse> {
    const url = new URL(`${E}/bound/simpleenroll`);
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect(
        {
          host: '127.0.0.1',
          servername: 'localhost',
          port: Number(url.port),
          ca: rootPem,
          cert: id.chainPem,
          key: id.keyPem,
          minVersion: version,
          maxVersion: version,
        },
        () => resolve(s),
      );
      s.once('error', reject);
    });
    const body = await makeBody(socket);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/pkcs10' },
          createConnection: () => socket,
        } as never,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            socket.destroy();
            const b = Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: b,
              text: b.toString(),
              json: () => JSON.parse(b.toString()),
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const)
    it(`${version}: a CSR bound to its session is issued; the same CSR on another session → 403 channel-binding-failed`, async () => {
      const id = await factory.device(`device-${version === 'TLSv1.2' ? 40 : 41}`);
      let body = '';
      const first = await onOneConnection(id, version, async (s) => {
        assert.equal(s.getProtocol(), version);
        const b = channelBinding(s, 'client')!;
        assert.equal(b.type, version === 'TLSv1.2' ? 'tls-unique' : 'tls-exporter');
        body = b64((await csr(id.name, { password: bindingPassword(b) })).der);
        return body;
      });
      assert.equal(first.status, 200, first.text);
      const before = await stored();
      const replay = await onOneConnection(id, version, async () => body);
      assert.equal(replay.status, 403, replay.text);
      assert.equal(problem(replay).code, 'channel-binding-failed');
      const none = await post('simpleenroll', b64((await csr(id.name)).der), { id, label: 'bound' });
      assert.equal(problem(none).code, 'channel-binding-failed');
      assert.equal(await stored(), before);
    });

  it('a profile with manual approval: 202 + Retry-After, approved through the admin API, the retry gets the certificate', async () => {
    const t = await createEnrollmentCredential(svc.authority, {
      label: 'approve',
      validityHours: 1,
      requester: 'cli:test',
    });
    const basic = `${t.username}:${t.password}`;
    const body = b64((await csr('sensor-1')).der);
    const r1 = await post('simpleenroll', body, { basic, label: 'approve' });
    assert.equal(r1.status, 202, r1.text);
    assert.equal(r1.headers['retry-after'], '60');
    const r2 = await post('simpleenroll', body, { basic, label: 'approve' });
    assert.equal(r2.status, 202, 'polling is not a second use of the credential');
    const [pending] = await svc.authority.listPending({ limit: 10 });
    assert.ok(pending);
    const token = readFileSync(svc.admin.tokenPath, 'utf8').trim();
    const ok = await request(`${svc.url}/api/v1/requests/${pending.id}/approve`, {
      ca: rootPem,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(ok.status, 201, ok.text);
    const r3 = await post('simpleenroll', body, { basic, label: 'approve' });
    assert.equal(r3.status, 200, r3.text);
    const cert = parseCertsOnly(Buffer.from(r3.text, 'base64')).certificates[0]!;
    assert.equal(cert.subject.commonName, 'sensor-1');
  });
});
