// createMtlsServer with revocation from OCSP fetched live during verification: the devices'
// authorityInfoAccess points to our OCSP route (fastify + OcspResponder on 127.0.0.1); the
// verifier goes asynchronous and every handshake asks the responder (with a nonce).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import { exportKey, generateKeyPair } from '../../src/crypto/index.js';
import { CertificateBuilder, Issuer } from '../../src/issue/index.js';
import { createMtlsServer, type MtlsRejection } from '../../src/mtls/index.js';
import { createRevocationChecker, MemoryStatusSource, OcspResponder } from '../../src/revocation/index.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { type Hierarchy, type Identity, makeHierarchy } from '../helpers/fleet.js';

let h: Hierarchy;
let app: FastifyInstance;
let ocspUrl: string;
const source = new MemoryStatusSource();
const requests: string[] = [];

before(async () => {
  h = await makeHierarchy('OCSP Fetch');
  const responder = await OcspResponder.create({
    issuers: [{ id: 'int', certificate: h.int.certificate, signer: h.intIssuer.signer }],
    source,
  });
  app = Fastify();
  app.addHook('onRequest', async (req) => {
    requests.push(`${req.method} ${req.url.split('/').slice(0, 2).join('/')}`);
  });
  await registerOcspRoutes(app, { responder });
  await app.listen({ port: 0, host: '127.0.0.1' });
  ocspUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ocsp`;
});
after(() => app?.close());

async function device(
  cn: string,
  o: { record?: boolean; revoked?: boolean; url?: string } = {},
): Promise<Identity> {
  const ca = Issuer.fromCertificate(h.int.certificate, h.intIssuer.signer, {
    authorityInfoAccess: { ocsp: [o.url ?? ocspUrl] },
  });
  const key = await generateKeyPair('ec-p256');
  const cert = await new CertificateBuilder('device')
    .subject(`CN=${cn}`)
    .publicKey(key.publicKey)
    .issuer(ca)
    .subjectAltName([`uri:urn:fleetpki:device:${cn}`])
    .sign();
  if (o.record !== false) source.issue('int', cert.serialNumber);
  if (o.revoked)
    source.revoke('int', cert.serialNumber, { revocationTime: Date.now() - 60_000, reason: 'keyCompromise' });
  return {
    name: cn,
    cert,
    certificate: cert.certificate,
    key,
    keyPem: await exportKey(key.privateKey, { format: 'pkcs8' }),
    certPem: cert.toPem(),
    chainPem: cert.toPem() + h.intPem,
  };
}

function client(port: number, id: Identity): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const s = tlsConnect({ host: '127.0.0.1', port, ca: h.rootPem, cert: id.chainPem, key: id.keyPem });
    s.on('data', (d) => {
      data += d;
    });
    s.on('error', () => {});
    s.on('close', () => resolve(data));
  });
}

it('good → accepted, revoked → revoked, unknown to the responder or responder unreachable → revocation-unknown', async () => {
  const server = await h.server('ocsp-fetch-server');
  const rejections: MtlsRejection[] = [];
  const srv = createMtlsServer(
    {
      tls: { key: server.keyPem, cert: server.chainPem },
      clientAuth: {
        trustAnchors: [h.rootPem],
        revocation: createRevocationChecker({
          sources: ['ocsp'],
          scope: 'leaf',
          ocsp: { method: 'POST' } as never,
        }),
      },
      onReject: (r) => rejections.push(r),
    },
    (s, id) => s.end(`hello ${id.commonName}`),
  );
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    const dead = `http://127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}/ocsp-nowhere`;
    const cases: [Identity, string][] = [
      [await device('ocsp-good'), 'accept'],
      [await device('ocsp-revoked', { revoked: true }), 'revoked'],
      [await device('ocsp-unrecorded', { record: false }), 'revocation-unknown'],
      [await device('ocsp-dead', { url: dead }), 'revocation-unknown'],
    ];
    for (const [id, want] of cases) {
      const before = requests.length;
      const got = await client(port, id);
      if (want === 'accept') assert.equal(got, `hello ${id.name}`);
      else {
        assert.equal(got, '', id.name);
        assert.equal(rejections.at(-1)?.error.verifyCode, want, id.name);
      }
      if (id.name !== 'ocsp-dead')
        assert.deepEqual(requests.slice(before), ['POST /ocsp'], `${id.name}: one live OCSP request`);
    }
    assert.equal(srv.mtls.verifier.isAsync, true);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});
