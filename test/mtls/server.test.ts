// createMtlsServer / createMtlsHttpsServer / attachMtls against real clients (Node's tls, curl,
// openssl s_client, GnuTLS gnutls-cli): our verification decides, every refusal is logged with its
// typed reason, and what each client sees is asserted exactly (see the header of src/mtls/server.ts).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type Server as TlsServer,
  connect as tlsConnect,
} from 'node:tls';
import Fastify from 'fastify';
import {
  attachMtls,
  CrlRevocation,
  createMtlsHttpsServer,
  createMtlsServer,
  lookupFromStatusSource,
  MtlsError,
  type MtlsRejection,
  type MtlsServerOptions,
  mtlsServerOptions,
  type PeerIdentity,
  peerChain,
  peerIdentity,
  peerLeaf,
  StatusLookupRevocation,
} from '../../src/mtls/index.js';
import { MemoryStatusSource } from '../../src/revocation/index.js';
import { type Hierarchy, type Identity, makeHierarchy, tempDir } from '../helpers/fleet.js';
import { run } from '../helpers/proc.js';

const DAY = 86_400_000;
let h: Hierarchy;
let rogue: Hierarchy;
let server: Identity;
const ids: Record<string, Identity> = {};
const source = new MemoryStatusSource();
const tmp = tempDir('mtls-server');

before(async () => {
  [h, rogue] = await Promise.all([makeHierarchy('mTLS'), makeHierarchy('Rogue')]);
  server = await h.server('mtls-server');
  const now = Date.now();
  ids.good = await h.device('device-good');
  ids.revoked = await h.device('device-revoked');
  ids.expired = await h.device('device-expired', { notBefore: now - 10 * DAY, notAfter: now - DAY });
  ids.unrecorded = await h.device('device-unrecorded');
  ids.rogue = await rogue.device('device-rogue');
  ids.serverAsClient = server;
  // The CA's records: the intermediate (issued by the root) and every device but "unrecorded".
  source.issue('root', h.int.certificate.serialNumber);
  for (const k of ['good', 'revoked', 'expired']) source.issue('int', ids[k]!.certificate.serialNumber);
  source.issue('int', server.certificate.serialNumber);
  source.revoke('int', ids.revoked!.certificate.serialNumber, {
    revocationTime: now - 60_000,
    reason: 'keyCompromise',
  });
  for (const [name, id] of Object.entries(ids)) {
    tmp.file(`${name}.pem`, id.certPem);
    tmp.file(`${name}-chain.pem`, id.chainPem);
    tmp.file(`${name}.key`, id.keyPem);
  }
  tmp.file('root.pem', h.rootPem);
  tmp.file('int.pem', h.intPem);
});
after(() => tmp.remove());

function options(extra: Partial<MtlsServerOptions> = {}): MtlsServerOptions {
  return {
    tls: { key: server.keyPem, cert: server.chainPem },
    clientAuth: {
      trustAnchors: [h.rootPem],
      revocation: new StatusLookupRevocation(
        lookupFromStatusSource(source, [
          { id: 'root', certificate: h.root.certificate },
          { id: 'int', certificate: h.int.certificate },
        ]),
      ),
    },
    ...extra,
  };
}

/** A server trusting our root and `other`'s, holding our intermediate only; no revocation. */
function holdingOurIntermediate(
  other: Hierarchy,
  extra: { readPeerChain?: 'always' | 'when-needed' },
  onConnection: (s: TLSSocket, id: PeerIdentity) => void,
) {
  return createMtlsServer(
    {
      ...options(),
      clientAuth: {
        trustAnchors: [h.rootPem, other.rootPem],
        intermediates: [h.intPem],
        revocation: 'none',
        ...extra,
      },
    },
    onConnection,
  );
}

async function listen<S extends TlsServer>(
  s: S,
): Promise<{ server: S; port: number; rejections: MtlsRejection[]; close: () => Promise<void> }> {
  const rejections: MtlsRejection[] = [];
  s.on('mtlsRejected', (r: MtlsRejection) => rejections.push(r));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    server: s,
    port: (s.address() as AddressInfo).port,
    rejections,
    close: () => new Promise((resolve) => s.close(() => resolve())),
  };
}

/** A Node client: what it received, how it ended, and whether its side of the handshake completed. */
function nodeClient(
  port: number,
  id: Identity | undefined,
  o: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; chain?: boolean } = {},
): Promise<{ data: string; secure: boolean; error?: string }> {
  return new Promise((resolve) => {
    let data = '';
    let secure = false;
    let error: string | undefined;
    const s = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: h.rootPem,
      cert: id ? (o.chain === false ? id.certPem : id.chainPem) : undefined,
      key: id?.keyPem,
      maxVersion: o.maxVersion,
    });
    s.on('secureConnect', () => {
      secure = true;
    });
    s.on('data', (d) => {
      data += d;
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    s.on('close', () => resolve({ data, secure, error }));
  });
}

// Each client, its expected verdict, and the typed reason the server logs when it refuses.
const CASES: {
  name: string;
  id: string | undefined;
  chain?: boolean;
  verdict: 'accept' | { code: string; verifyCode?: string };
}[] = [
  { name: 'a valid device', id: 'good', verdict: 'accept' },
  { name: 'no client certificate', id: undefined, verdict: { code: 'no-peer-certificate' } },
  { name: 'an expired device', id: 'expired', verdict: { code: 'peer-rejected', verifyCode: 'expired' } },
  {
    name: 'a revoked device (store lookup)',
    id: 'revoked',
    verdict: { code: 'peer-rejected', verifyCode: 'revoked' },
  },
  {
    name: 'a device from an untrusted CA',
    id: 'rogue',
    verdict: { code: 'peer-rejected', verifyCode: 'unknown-issuer' },
  },
  {
    name: 'a serverAuth certificate as client',
    id: 'serverAsClient',
    verdict: { code: 'peer-rejected', verifyCode: 'eku' },
  },
  {
    name: 'a device the CA has no record of',
    id: 'unrecorded',
    verdict: { code: 'peer-rejected', verifyCode: 'revocation-unknown' },
  },
  {
    name: 'a device sending its leaf without the intermediate',
    id: 'good',
    chain: false,
    verdict: { code: 'peer-rejected', verifyCode: 'unknown-issuer' },
  },
];

describe('createMtlsServer: our verification decides, with typed reasons', () => {
  let srv: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    srv = await listen(
      createMtlsServer(options(), (socket, identity) => {
        socket.end(`hello ${identity.commonName} ${identity.uris.join(',')}\n`);
      }),
    );
  });
  after(() => srv.close());

  for (const c of CASES)
    for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const)
      it(`${c.name} (${maxVersion})`, async () => {
        const before = srv.rejections.length;
        const id = c.id ? ids[c.id] : undefined;
        const r = await nodeClient(srv.port, id, { maxVersion, chain: c.chain });
        if (c.verdict === 'accept') {
          assert.equal(r.data, `hello ${id!.name} urn:fleetpki:device:${id!.name}\n`);
          assert.equal(srv.rejections.length, before);
          return;
        }
        assert.equal(r.data, '', 'a refused client receives nothing');
        const rej = srv.rejections.at(-1);
        assert.equal(srv.rejections.length, before + 1);
        assert.equal(rej?.code, c.verdict.code);
        assert.equal(rej?.error.verifyCode, c.verdict.verifyCode);
        assert.equal(rej?.remoteAddress, '127.0.0.1');
        // TLS 1.2: the server's Finished never leaves, the client's handshake fails. TLS 1.3: the
        // client finished its side before the server judged (RFC 8446 §4.4.2), then is closed.
        if (maxVersion === 'TLSv1.2') assert.equal(r.secure, false);
        else assert.equal(r.secure, true);
      });

  it('counts decisions per code', () => {
    const stats = (
      srv.server as unknown as {
        mtls: { stats: { accepted: number; rejected: number; byCode: Record<string, number> } };
      }
    ).mtls.stats;
    assert.ok(stats.accepted >= 2);
    assert.ok((stats.byCode.revoked ?? 0) >= 2);
    assert.ok((stats.byCode['no-peer-certificate'] ?? 0) >= 2);
  });

  it('openssl s_client: accepted with the chain in -cert_chain; refused without a certificate', async () => {
    const base = ['s_client', '-connect', `127.0.0.1:${srv.port}`, '-CAfile', 'root.pem', '-quiet'];
    const ok = await run(
      'openssl',
      [...base, '-cert', 'good.pem', '-cert_chain', 'int.pem', '-key', 'good.key'],
      { cwd: tmp.dir },
    );
    assert.match(ok.stdout, /^hello device-good /);
    const none = await run('openssl', base, { cwd: tmp.dir });
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /unexpected eof while reading/);
  });

  it('gnutls-cli (a non-OpenSSL client) is accepted with leaf + intermediate', async () => {
    const r = await run(
      'gnutls-cli',
      [
        '--x509cafile',
        'root.pem',
        '--x509certfile',
        'good-chain.pem',
        '--x509keyfile',
        'good.key',
        '-p',
        String(srv.port),
        '127.0.0.1',
      ],
      { cwd: tmp.dir },
    );
    assert.match(r.stdout, /hello device-good urn:fleetpki:device:device-good/, r.stderr);
  });
});

describe('identity handed to the application', () => {
  it('subject, SAN URI, serial, SHA-256 fingerprint (as openssl computes it) and the validated chain', async () => {
    let seen: Record<string, unknown> | undefined;
    const srv = await listen(
      createMtlsServer(options(), (socket, identity) => {
        seen = {
          ...identity.toJSON(),
          viaSocket: peerIdentity(socket) === identity,
          chainLength: identity.chain.length,
        };
        socket.end('ok');
      }),
    );
    try {
      const r = await nodeClient(srv.port, ids.good);
      assert.equal(r.data, 'ok');
      const fp = await run('openssl', ['x509', '-in', 'good.pem', '-noout', '-fingerprint', '-sha256'], {
        cwd: tmp.dir,
      });
      const serial = await run('openssl', ['x509', '-in', 'good.pem', '-noout', '-serial'], { cwd: tmp.dir });
      assert.deepEqual(seen, {
        subject: 'CN=device-good',
        uris: ['urn:fleetpki:device:device-good'],
        dnsNames: [],
        ipAddresses: [],
        emails: [],
        serial: serial.stdout
          .trim()
          .replace(/^serial=/, '')
          .toLowerCase()
          .replace(/^0+(?=..)/, ''),
        fingerprint256: fp.stdout.trim().split('=')[1]!.replaceAll(':', '').toLowerCase(),
        notAfter: new Date(ids.good!.certificate.notAfter).toISOString(),
        chain: ['CN=device-good', 'CN=mTLS Issuing CA,O=fleetpki test', 'CN=mTLS Root,O=fleetpki test'],
        viaSocket: true,
        chainLength: 3,
      });
    } finally {
      await srv.close();
    }
  });
});

describe('TLS session resumption', () => {
  /** Connects, optionally resuming `session`; returns the data, whether the session was reused, and the new session. */
  function resume(
    port: number,
    id: Identity,
    session?: Buffer,
  ): Promise<{ data: string; reused: boolean; session?: Buffer }> {
    return new Promise((resolve) => {
      let data = '';
      let reused = false;
      let next: Buffer | undefined;
      const s = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: h.rootPem,
        cert: id.chainPem,
        key: id.keyPem,
        session,
      });
      s.on('session', (x) => {
        next = x;
      });
      s.on('secureConnect', () => {
        reused = s.isSessionReused();
      });
      s.on('data', (d) => {
        data += d;
      });
      s.on('error', () => {});
      s.on('close', () => resolve({ data, reused, session: next }));
    });
  }

  it('off by default: a client offering its session gets a full handshake and is verified', async () => {
    const srv = await listen(createMtlsServer(options(), (s, id) => s.end(`ok ${id.commonName}`)));
    try {
      const first = await resume(srv.port, ids.good!);
      assert.equal(first.data, 'ok device-good');
      const second = await resume(srv.port, ids.good!, first.session);
      assert.deepEqual([second.data, second.reused], ['ok device-good', false]);
    } finally {
      await srv.close();
    }
  });

  it('on: a resumed session (leaf only) is accepted with the remembered path, and refused once the device is revoked', async () => {
    const local = new MemoryStatusSource();
    local.issue('root', h.int.certificate.serialNumber);
    const dev = await h.device('device-resume');
    local.issue('int', dev.certificate.serialNumber);
    const srv = await listen(
      createMtlsServer(
        {
          ...options(),
          sessionResumption: 'on',
          clientAuth: {
            trustAnchors: [h.rootPem],
            revocation: new StatusLookupRevocation(
              lookupFromStatusSource(local, [
                { id: 'root', certificate: h.root.certificate },
                { id: 'int', certificate: h.int.certificate },
              ]),
            ),
          },
        },
        (s, id) => s.end(`ok ${id.commonName}`),
      ),
    );
    try {
      const first = await resume(srv.port, dev);
      assert.equal(first.data, 'ok device-resume');
      const again = await resume(srv.port, dev, first.session);
      assert.deepEqual([again.data, again.reused], ['ok device-resume', true]);
      local.revoke('int', dev.certificate.serialNumber, {
        revocationTime: Date.now(),
        reason: 'keyCompromise',
      });
      const refused = await resume(srv.port, dev, again.session ?? first.session);
      assert.deepEqual([refused.data, refused.reused], ['', true]);
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'revoked');
    } finally {
      await srv.close();
    }
  });
});

describe('revocation sources', () => {
  it('a leaf-only client is accepted when the server holds the intermediate', async () => {
    const o = options();
    const srv = await listen(
      createMtlsServer(
        {
          ...o,
          clientAuth: {
            ...(o.clientAuth as object),
            trustAnchors: [h.rootPem],
            intermediates: [h.intPem],
            revocation: 'none',
          },
        },
        (s) => s.end('ok'),
      ),
    );
    try {
      assert.equal((await nodeClient(srv.port, ids.good, { chain: false })).data, 'ok');
    } finally {
      await srv.close();
    }
  });

  it("readPeerChain 'when-needed': the leaf against our intermediates first, the peer's chain only when that finds no path", async () => {
    const other = await makeHierarchy('Other Issuer');
    const stranger = await other.device('device-other');
    const srv = await listen(
      holdingOurIntermediate(other, { readPeerChain: 'when-needed' }, (s, id) =>
        s.end(`ok ${id.commonName}`),
      ),
    );
    try {
      assert.equal((await nodeClient(srv.port, ids.good)).data, 'ok device-good');
      assert.equal((await nodeClient(srv.port, ids.good, { chain: false })).data, 'ok device-good');
      // An intermediate we do not hold: found in what the peer sent.
      assert.equal((await nodeClient(srv.port, stranger)).data, 'ok device-other');
      assert.equal((await nodeClient(srv.port, stranger, { chain: false })).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'unknown-issuer');
      assert.equal((await nodeClient(srv.port, undefined)).data, '');
      assert.equal(srv.rejections.at(-1)?.code, 'no-peer-certificate');
      // An ordinary outcome, reported without a stack trace (capturing one is most of its cost).
      assert.doesNotMatch(srv.rejections.at(-1)?.error.stack ?? '', /\n\s+at /);
    } finally {
      await srv.close();
    }
  });

  it("by default a verifier holding intermediates reads the leaf first and the peer's chain only when the leaf alone fails", async () => {
    const other = await makeHierarchy('Other Held');
    const stranger = await other.device('device-stranger');
    const seen: string[] = [];
    const srv = await listen(
      holdingOurIntermediate(other, {}, (s, id) => {
        // The leaf read from the session is the certificate Node reports, byte for byte.
        seen.push(Buffer.from(peerLeaf(s)!).equals(s.getPeerCertificate(false).raw) ? 'same' : 'differs');
        s.end(`ok ${id.commonName}`);
      }),
    );
    try {
      assert.equal(srv.server.mtls.verifier.options.readPeerChain, undefined);
      assert.equal((await nodeClient(srv.port, ids.good)).data, 'ok device-good');
      assert.equal((await nodeClient(srv.port, ids.good, { maxVersion: 'TLSv1.2' })).data, 'ok device-good');
      assert.equal((await nodeClient(srv.port, ids.good, { chain: false })).data, 'ok device-good');
      // Not through our intermediate: the peer's chain is read and the path found through it.
      assert.equal((await nodeClient(srv.port, stranger)).data, 'ok device-stranger');
      assert.equal((await nodeClient(srv.port, stranger, { chain: false })).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'unknown-issuer');
      // Refusals are the same as reading the whole chain.
      assert.equal((await nodeClient(srv.port, ids.rogue)).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'unknown-issuer');
      assert.equal((await nodeClient(srv.port, ids.expired)).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'expired');
      assert.deepEqual(seen, ['same', 'same', 'same', 'same']);
    } finally {
      await srv.close();
    }
  });

  it('peerChain gives the whole chain every time it is asked on a connection (Node hands it out once)', async () => {
    const reads: number[][] = [];
    const srv = await listen(
      createTlsServer(
        {
          ...mtlsServerOptions(options()),
        },
        (s) => {
          // What Node itself does on a second call: the certificates after the leaf are gone.
          const first = peerChain(s).length;
          const nodeAgain = s.getPeerX509Certificate()?.issuerCertificate ? 2 : 1;
          reads.push([first, peerChain(s).length, nodeAgain]);
          s.end('ok');
        },
      ),
    );
    try {
      assert.equal((await nodeClient(srv.port, ids.good)).data, 'ok');
      assert.equal((await nodeClient(srv.port, ids.good, { chain: false })).data, 'ok');
      assert.equal((await nodeClient(srv.port, undefined)).data, 'ok');
      // [our first read, our second read, Node's second read]; a peer with no certificate: 0.
      assert.deepEqual(reads.slice(0, 2), [
        [2, 2, reads[0]![2]!],
        [1, 1, 1],
      ]);
      assert.deepEqual(reads[2]!.slice(0, 2), [0, 0]);
    } finally {
      await srv.close();
    }
  });

  it('an asynchronous status lookup (a database) verifies asynchronously, same verdicts', async () => {
    const lookup = lookupFromStatusSource(source, [
      { id: 'root', certificate: h.root.certificate },
      { id: 'int', certificate: h.int.certificate },
    ]);
    const srv = await listen(
      createMtlsServer(
        {
          ...options(),
          clientAuth: {
            trustAnchors: [h.rootPem],
            revocation: new StatusLookupRevocation(
              (q) => new Promise((r) => setImmediate(() => r(lookup(q)))),
            ),
          },
        },
        (s) => s.end('ok'),
      ),
    );
    try {
      assert.equal((await nodeClient(srv.port, ids.good)).data, 'ok');
      assert.equal((await nodeClient(srv.port, ids.revoked)).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'revoked');
      assert.equal(
        (srv.server as unknown as { mtls: { verifier: { isAsync: boolean } } }).mtls.verifier.isAsync,
        true,
      );
    } finally {
      await srv.close();
    }
  });

  it('CRLs, replaced at run time: a device revoked by a new CRL is refused at its next connection', async () => {
    const crls = new CrlRevocation([await h.crl([]), await h.rootCrl()]);
    const srv = await listen(
      createMtlsServer({ ...options(), clientAuth: { trustAnchors: [h.rootPem], revocation: crls } }, (s) =>
        s.end('ok'),
      ),
    );
    try {
      assert.equal((await nodeClient(srv.port, ids.good)).data, 'ok');
      crls.update([await h.crl([ids.good!.certificate]), await h.rootCrl()]);
      assert.equal((await nodeClient(srv.port, ids.good)).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'revoked');
      // A CRL past its nextUpdate gives no status: refused (RFC 5280 §6.3.3; RECIPES §4).
      const now = Date.now();
      crls.update([await h.crl([], { thisUpdate: now - 2 * DAY, nextUpdate: now - DAY }), await h.rootCrl()]);
      assert.equal((await nodeClient(srv.port, ids.good)).data, '');
      assert.equal(srv.rejections.at(-1)?.error.verifyCode, 'revocation-unknown');
    } finally {
      await srv.close();
    }
  });
});

describe('https: createMtlsHttpsServer and fastify with attachMtls, with curl', () => {
  const curl = (port: number, extra: string[]) =>
    run('curl', ['-sS', '--cacert', 'root.pem', ...extra, `https://localhost:${port}/whoami`], {
      cwd: tmp.dir,
    });

  it('createMtlsHttpsServer: curl with the device chain gets its identity; without a certificate it is refused', async () => {
    const srv = await listen(
      createMtlsHttpsServer(options(), (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ subject: peerIdentity(req.socket)?.subject }));
      }),
    );
    try {
      const ok = await curl(srv.port, ['--cert', 'good-chain.pem', '--key', 'good.key']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), { subject: 'CN=device-good' });
      const none13 = await curl(srv.port, []);
      // TLS 1.3: closed after curl finished its handshake: "(52) Empty reply from server", or
      // "(56) Connection reset" when its request was already in our receive buffer.
      assert.ok([52, 56].includes(none13.code), none13.stderr);
      const none12 = await curl(srv.port, ['--tls-max', '1.2']);
      assert.equal(none12.code, 35, none12.stderr); // TLS 1.2: the handshake fails
      const revoked = await curl(srv.port, ['--cert', 'revoked-chain.pem', '--key', 'revoked.key']);
      assert.notEqual(revoked.code, 0);
      assert.deepEqual(
        srv.rejections.map((r) => r.error.verifyCode ?? r.code),
        ['no-peer-certificate', 'no-peer-certificate', 'revoked'],
      );
    } finally {
      await srv.close();
    }
  });

  it('attachMtls refuses a server made without mtlsServerOptions (it would never see, or never judge, client certificates)', () => {
    for (const o of [{}, { requestCert: true }]) {
      const s = createTlsServer({ key: server.keyPem, cert: server.chainPem, ...o });
      assert.throws(
        () => attachMtls(s, options()),
        (e: unknown) => e instanceof MtlsError && e.code === 'bad-configuration',
      );
    }
  });

  it('fastify with https: mtlsServerOptions(...) and attachMtls(app.server, ...)', async () => {
    const o = options();
    const app = Fastify({ https: mtlsServerOptions(o) });
    const handle = attachMtls(app.server as unknown as TlsServer, o);
    app.get('/whoami', async (req) => ({ uri: peerIdentity(req.raw.socket)?.uris[0] }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const ok = await curl(port, ['--cert', 'good-chain.pem', '--key', 'good.key']);
      assert.deepEqual(JSON.parse(ok.stdout), { uri: 'urn:fleetpki:device:device-good' });
      const rogueR = await curl(port, ['--cert', 'rogue-chain.pem', '--key', 'rogue.key']);
      assert.notEqual(rogueR.code, 0);
      assert.deepEqual(handle.stats, { accepted: 1, rejected: 1, byCode: { 'unknown-issuer': 1 } });
    } finally {
      await app.close();
    }
  });
});
