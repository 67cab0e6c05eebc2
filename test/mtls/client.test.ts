// mtlsConnect (clients checking servers with our verifyPath: serverAuth + RFC 9525 names) and
// OcspStapler (a server stapling a checked, fresh response for its own certificate), against our
// servers and openssl s_client -status.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import {
  createMtlsHttpsServer,
  createMtlsServer,
  MtlsError,
  type MtlsErrorCode,
  mtlsConnect,
  mtlsCreateConnection,
  OcspStapler,
  peerIdentity,
} from '../../src/mtls/index.js';
import { MemoryStatusSource, OcspResponder } from '../../src/revocation/index.js';
import { type Hierarchy, type Identity, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run } from '../helpers/proc.js';

const DAY = 86_400_000;
let h: Hierarchy;
let rogue: Hierarchy;
let server: Identity;
let device: Identity;
let revokedDevice: Identity;
const tmp = tempDir('mtls-client');
const closers: (() => Promise<void>)[] = [];

before(async () => {
  [h, rogue] = await Promise.all([makeHierarchy('Client'), makeHierarchy('Rogue')]);
  [server, device, revokedDevice] = await Promise.all([
    h.server('client-test-server'),
    h.device('client-device'),
    h.device('client-revoked'),
  ]);
  tmp.file('root.pem', h.rootPem);
});
after(async () => {
  for (const c of closers) await c();
  tmp.remove();
});

async function listen(s: TlsServer): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => s.close(() => r())));
  return (s.address() as AddressInfo).port;
}

/** A plain node:tls server presenting `id` (no client certificates asked). */
function plainServer(id: Identity): Promise<number> {
  return listen(createTlsServer({ key: id.keyPem, cert: id.chainPem }, (s) => s.end('plain')));
}

const rejected =
  (code: MtlsErrorCode, verifyCode?: string) =>
  (e: unknown): boolean =>
    e instanceof MtlsError && e.code === code && e.verifyCode === verifyCode;

describe('mtlsConnect: our verification of the server', () => {
  let port: number;
  before(async () => {
    port = await listen(
      createMtlsServer(
        {
          tls: { key: server.keyPem, cert: server.chainPem },
          clientAuth: { trustAnchors: [h.rootPem], revocation: 'none' },
        },
        (s, id) => s.end(`hi ${id.commonName}`),
      ),
    );
  });

  const read = (s: TLSSocket) =>
    new Promise<string>((resolve) => {
      let d = '';
      s.on('data', (x) => {
        d += x;
      });
      s.on('close', () => resolve(d));
    });

  it('mutual TLS to our server: the server is identified and our certificate accepted', async () => {
    const c = await mtlsConnect({
      host: '127.0.0.1',
      port,
      trustAnchors: [h.rootPem],
      revocation: 'none',
      cert: device.chainPem,
      key: device.keyPem,
    });
    assert.equal(c.identity.subject, 'CN=client-test-server');
    assert.deepEqual(c.identity.ipAddresses, ['127.0.0.1']);
    assert.deepEqual(c.identity.dnsNames, ['localhost']);
    assert.equal(await read(c.socket), 'hi client-device');
  });

  it('by DNS name: host localhost matches the dNSName SAN (and is sent as SNI)', async () => {
    const c = await mtlsConnect({
      host: 'localhost',
      port,
      trustAnchors: [h.rootPem],
      revocation: 'none',
      cert: device.chainPem,
      key: device.keyPem,
    });
    assert.equal(c.socket.servername, 'localhost');
    c.socket.destroy();
  });

  it('a name the certificate does not hold is refused: hostname-mismatch', async () => {
    await assert.rejects(
      mtlsConnect({
        host: '127.0.0.1',
        port,
        expect: { hostname: 'broker.example.com' },
        trustAnchors: [h.rootPem],
        revocation: 'none',
      }),
      rejected('peer-rejected', 'hostname-mismatch'),
    );
  });

  const servers: { name: string; make: () => Promise<Identity>; verifyCode: string }[] = [
    {
      name: 'a server from an untrusted CA',
      make: () => rogue.server('rogue-server'),
      verifyCode: 'unknown-issuer',
    },
    {
      name: 'a server presenting a device (clientAuth) certificate',
      make: () => h.device('not-a-server', { san: ['ip:127.0.0.1'] }),
      verifyCode: 'eku',
    },
    {
      name: 'an expired server certificate',
      make: () =>
        h.server('expired-server', { notBefore: Date.now() - 10 * DAY, notAfter: Date.now() - DAY }),
      verifyCode: 'expired',
    },
  ];
  for (const c of servers)
    it(`${c.name} is refused: ${c.verifyCode}`, async () => {
      const p = await plainServer(await c.make());
      await assert.rejects(
        mtlsConnect({ host: '127.0.0.1', port: p, trustAnchors: [h.rootPem], revocation: 'none' }),
        rejected('peer-rejected', c.verifyCode),
      );
    });

  it('a server refusing OUR certificate: TLS 1.3 resolves then closes on the first read; TLS 1.2 fails the handshake', async () => {
    const source = new MemoryStatusSource();
    source.issue('int', device.certificate.serialNumber);
    const { StatusLookupRevocation, lookupFromStatusSource } = await import('../../src/mtls/index.js');
    const strict = await listen(
      createMtlsServer(
        {
          tls: { key: server.keyPem, cert: server.chainPem },
          clientAuth: {
            trustAnchors: [h.rootPem],
            revocation: new StatusLookupRevocation(
              lookupFromStatusSource(source, [{ id: 'int', certificate: h.int.certificate }]),
              {
                scope: 'leaf',
              },
            ),
          },
        },
        (s) => s.end('welcome'),
      ),
    );
    const opts = {
      host: '127.0.0.1',
      port: strict,
      trustAnchors: [h.rootPem],
      revocation: 'none' as const,
      cert: revokedDevice.chainPem,
      key: revokedDevice.keyPem,
    };
    const c = await mtlsConnect(opts);
    assert.equal(await read(c.socket), '');
    await assert.rejects(
      mtlsConnect({ ...opts, tls: { maxVersion: 'TLSv1.2' } }),
      rejected('handshake-failed'),
    );
    // …and the recorded device is welcome.
    const ok = await mtlsConnect({ ...opts, cert: device.chainPem, key: device.keyPem });
    assert.equal(await read(ok.socket), 'welcome');
  });

  it('nothing listening: handshake-failed', async () => {
    const s = createTlsServer();
    const p = await new Promise<number>((r) =>
      s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)),
    );
    await new Promise((r) => s.close(r));
    await assert.rejects(
      mtlsConnect({ host: '127.0.0.1', port: p, trustAnchors: [h.rootPem], revocation: 'none' }),
      rejected('handshake-failed'),
    );
  });

  it('HTTPS through mtlsCreateConnection: a request over a verified connection', async () => {
    const https = createMtlsHttpsServer(
      {
        tls: { key: server.keyPem, cert: server.chainPem },
        clientAuth: { trustAnchors: [h.rootPem], revocation: 'none' },
      },
      (req, res) => res.end(`GET ${req.url} from ${peerIdentity(req.socket)?.commonName}`),
    );
    const p = await listen(https);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `https://127.0.0.1:${p}/hello`,
        {
          createConnection: mtlsCreateConnection({
            trustAnchors: [h.rootPem],
            revocation: 'none',
            cert: device.chainPem,
            key: device.keyPem,
          }),
        } as object,
        (res) => {
          let d = '';
          res.on('data', (x) => {
            d += x;
          });
          res.on('end', () => resolve(d));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'GET /hello from client-device');
  });
});

describe('OCSP stapling of the server certificate', () => {
  let source: MemoryStatusSource;
  let responder: OcspResponder;
  let stapler: OcspStapler;
  let port: number;
  let clock = Date.now();

  before(async () => {
    source = new MemoryStatusSource();
    source.issue('int', server.certificate.serialNumber);
    const intSigner = h.intIssuer.signer;
    responder = await OcspResponder.create({
      issuers: [{ id: 'int', certificate: h.int.certificate, signer: intSigner }],
      source,
    });
    stapler = await OcspStapler.start({
      certificate: server.certificate,
      issuer: h.int.certificate,
      source: responder,
      now: () => clock,
    });
    closers.push(async () => stapler.stop());
    port = await listen(
      createMtlsServer(
        {
          tls: { key: server.keyPem, cert: server.chainPem },
          clientAuth: { trustAnchors: [h.rootPem], revocation: 'none' },
          stapling: stapler,
        },
        (s) => s.end('stapled'),
      ),
    );
  });

  const connect = () =>
    mtlsConnect({
      host: '127.0.0.1',
      port,
      trustAnchors: [h.rootPem],
      cert: device.chainPem,
      key: device.keyPem,
      // Only what the server staples: without a stapled response the status is unknown.
      revocation: { policy: { sources: ['stapled'], scope: 'leaf' } },
    });

  it('openssl s_client -status sees a successful response saying good', async () => {
    const r = await run(
      'sh',
      [
        '-c',
        `echo | openssl s_client -connect 127.0.0.1:${port} -CAfile root.pem -status 2>&1 | grep -E 'OCSP Response Status|Cert Status'`,
      ],
      { cwd: tmp.dir },
    );
    assert.match(r.stdout, /OCSP Response Status: successful \(0x0\)/);
    assert.match(r.stdout, /Cert Status: good/);
  });

  it('refreshes when half of the response validity has passed', () => {
    const st = stapler.status!;
    assert.equal(st.status, 'good');
    assert.equal(stapler.nextRefreshAt, st.thisUpdate + (st.nextUpdate! - st.thisUpdate) / 2);
  });

  it('mtlsConnect checks the stapled response: good; after revocation and a refresh: revoked', async () => {
    const c = await connect();
    c.socket.destroy();
    assert.equal(stapler.status?.status, 'good');
    source.revoke('int', server.certificate.serialNumber, {
      revocationTime: clock - 1000,
      reason: 'keyCompromise',
    });
    await stapler.refresh();
    assert.equal(stapler.status?.status, 'revoked');
    await assert.rejects(connect(), rejected('peer-rejected', 'revoked'));
  });

  it('a response past its nextUpdate is no longer stapled: the status is then unknown', async () => {
    clock += 2 * 3_600_000; // the responder's responses are valid for an hour
    assert.equal(stapler.response, undefined);
    await assert.rejects(connect(), rejected('peer-rejected', 'revocation-unknown'));
  });

  it('start() fails with stapling-failed when no valid response can be had', async () => {
    const other = await makeHierarchy('Other');
    // A responder that does not serve our issuer answers `unauthorized` (RFC 6960 §2.3).
    const foreign = await OcspResponder.create({
      issuers: [{ id: 'other', certificate: other.int.certificate, signer: other.intIssuer.signer }],
      source: new MemoryStatusSource(),
    });
    const sources = [foreign, async () => Uint8Array.of(0x30, 0x00)];
    for (const src of sources)
      await assert.rejects(
        OcspStapler.start({ certificate: server.certificate, issuer: h.int.certificate, source: src }),
        rejected('stapling-failed'),
      );
  });
});
