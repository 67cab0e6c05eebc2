// One server of bench/mtls.bench.ts, in a process of its own: the CPU time it reports
// (process.cpuUsage: every thread of the process, GC helpers included) is then this server's
// alone, and one server's garbage is never collected during another server's round.
// Commands over IPC: `init` (build the server, answer its port), `cpu` (answer the CPU time used).
import { constants as cryptoConstants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { shipped } from './harness.js';

// Our server runs the code as shipped (dist/, which the bench builds when stale): see `shipped`.
const { createMtlsServer, lookupFromStatusSource, mtlsServerOptions, peerLeaf, StatusLookupRevocation } =
  await shipped<typeof import('../src/mtls/index.js')>('mtls/index.js');
const { MemoryStatusSource } =
  await shipped<typeof import('../src/revocation/index.js')>('revocation/index.js');
const { parseCertificate } = await shipped<typeof import('../src/x509/index.js')>('x509/index.js');
const { parseSignatureAlgorithm } =
  await shipped<typeof import('../src/x509/algorithm.js')>('x509/algorithm.js');
const { nodeCrypto } = await shipped<typeof import('../src/crypto/index.js')>('crypto/index.js');

/** What each kind of server is (see the rows of bench/mtls.bench.ts). */
export type ServerKind = 'openssl' | 'ours' | 'ours-no-intermediate' | 'ours-advertise' | 'floor';

export interface ServerInit {
  kind: ServerKind;
  serverKeyPem: string;
  /** The server's certificate followed by the intermediate. */
  serverChain: string;
  rootPem: string;
  intPem: string;
  /** Serial numbers (hex) the status source knows, per issuer id. */
  issued: { root: string[]; int: string[] };
}

const answer = (s: { end(d: string): void }) => s.end('k');

function build(o: ServerInit): Server {
  const root = parseCertificate(o.rootPem);
  const int = parseCertificate(o.intPem);
  if (o.kind === 'openssl')
    // No session tickets, as createMtlsServer by default: the same handshake messages on both sides.
    return createServer(
      {
        key: o.serverKeyPem,
        cert: o.serverChain,
        ca: [o.rootPem],
        requestCert: true,
        rejectUnauthorized: true,
        secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
      },
      answer,
    );
  if (o.kind === 'floor') {
    // Not a server to run: the least any verification of ours must add for a never-seen device
    // on node:tls — read the leaf the client sent and check its signature with the intermediate's
    // key (which OpenSSL, with its empty store, has already done once and cannot be told not to).
    // No validation, no revocation.
    // Our servers' TLS options exactly (empty store, no tickets), from the same function.
    const spki = int.subjectPublicKeyInfo.der;
    const server = createServer(
      mtlsServerOptions({
        tls: { key: o.serverKeyPem, cert: o.serverChain },
        clientAuth: { trustAnchors: [root], revocation: 'none' },
      }),
    );
    server.on('secureConnection', (s) => {
      const der = peerLeaf(s);
      const c = der && parseCertificate(der);
      const ok =
        c && nodeCrypto.verify(parseSignatureAlgorithm(c.signatureAlgorithm), spki, c.tbs, c.signatureValue);
      if (ok) answer(s);
      else s.destroy();
    });
    return server;
  }
  const source = new MemoryStatusSource();
  for (const s of o.issued.root) source.issue('root', s);
  for (const s of o.issued.int) source.issue('int', s);
  const revocation = new StatusLookupRevocation(
    lookupFromStatusSource(source, [
      { id: 'root', certificate: root },
      { id: 'int', certificate: int },
    ]),
  );
  return createMtlsServer(
    {
      tls: { key: o.serverKeyPem, cert: o.serverChain },
      clientAuth: {
        trustAnchors: [root],
        intermediates: o.kind === 'ours-no-intermediate' ? [] : [int],
        revocation,
      },
      advertiseTrustAnchors: o.kind === 'ours-advertise',
    },
    answer,
  );
}

let server: Server | undefined;
process.on('message', (m: { init?: ServerInit; cpu?: true }) => {
  if (m.init) {
    server = build(m.init);
    server.listen(0, '127.0.0.1', () => process.send!({ port: (server!.address() as AddressInfo).port }));
  } else if (m.cpu) {
    const c = process.cpuUsage();
    process.send!({ cpuUs: c.user + c.system });
  }
});
process.on('SIGTERM', () => {
  server?.close();
  process.exit(0);
});
