// A small but real RFC 7030 endpoint for the client tests, composed from real parts: a node:https
// server with our mTLS helpers (client certificate optional, verified when sent), our CMS and EST
// codecs, and src/issue signing every certificate for real. It is NOT the product's EST server
// (that is src/est/server.ts on the Authority); it exists to prove the client and the codecs
// against something RFC-shaped, cross-checked with curl + openssl.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportKey, generateKeyPair } from '../../src/crypto/index.js';
import { encodeCertsOnly } from '../../src/est/cms.js';
import { encodeCsrAttrs } from '../../src/est/csrattrs.js';
import { decodeBase64Body, EST_MEDIA_TYPES, encodeBase64Body } from '../../src/est/framing.js';
import { encodeServerKeygenResponse } from '../../src/est/multipart.js';
import { CertificateBuilder, verifyCsr } from '../../src/issue/index.js';
import { createMtlsHttpsServer, peerIdentity } from '../../src/mtls/index.js';
import type { CertificationRequest } from '../../src/x509/index.js';
import type { Hierarchy, Identity } from '../helpers/fleet.js';

export interface Endpoint {
  url: string;
  port: number;
  /** Single-use HTTP Basic credentials: user → password. */
  tokens: Map<string, string>;
  /** Labels whose first request for a subject is held for approval (202). */
  held: Set<string>;
  /** Requests seen, for assertions: "<op> <auth> <status>". */
  log: string[];
  /** TLS connections accepted so far (each one a full handshake with our verification). */
  tlsConnections(): number;
  close(): Promise<void>;
}

/**
 * Starts the endpoint on 127.0.0.1 for `fleet` (issues from its intermediate), trusting TLS client
 * certificates from `fleet` (re-enrollment) and `bootstrap` (first enrollment).
 */
export async function startEndpoint(
  fleet: Hierarchy,
  bootstrap: Hierarchy,
  server: Identity,
): Promise<Endpoint> {
  const tokens = new Map<string, string>();
  const held = new Set<string>();
  const approved = new Set<string>();
  const log: string[] = [];

  const send = (
    res: ServerResponse,
    status: number,
    type: string | undefined,
    body: string,
    extra: Record<string, string> = {},
  ) => {
    res.writeHead(status, { ...(type ? { 'content-type': type } : {}), ...extra });
    res.end(body);
  };
  const problem = (res: ServerResponse, status: number, code: string, detail: string) =>
    send(res, status, 'application/problem+json', JSON.stringify({ code, detail }));
  const certsOnly = (res: ServerResponse, der: Uint8Array) =>
    // RFC 7030 §4.1.3 (CTE kept for older clients; RFC 8951 §3.2.2 says clients ignore it).
    send(res, 200, EST_MEDIA_TYPES.certsOnly, encodeBase64Body(der), {
      'content-transfer-encoding': 'base64',
    });

  /** Who is asking: a verified TLS client certificate, else a single-use Basic token. */
  function authenticate(
    req: IncomingMessage,
  ): { kind: 'cert'; fleet: boolean; subject: string } | { kind: 'basic'; user: string } | undefined {
    const id = peerIdentity(req.socket);
    if (id) {
      const anchor = id.chain.at(-1)!;
      return {
        kind: 'cert',
        fleet: anchor.der.every((b, i) => b === fleet.root.certificate.der[i]),
        subject: id.subject,
      };
    }
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const [user, ...rest] = Buffer.from(m[1]!, 'base64').toString('utf8').split(':');
    if (!user || tokens.get(user) !== rest.join(':')) return undefined;
    return { kind: 'basic', user };
  }

  async function readCsr(req: IncomingMessage): Promise<CertificationRequest | string> {
    if (!/^application\/pkcs10\b/.test(req.headers['content-type'] ?? ''))
      return 'Content-Type must be application/pkcs10';
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      n += (c as Buffer).length;
      if (n > 64 * 1024) return 'CSR too large';
      chunks.push(c as Buffer);
    }
    try {
      return verifyCsr(decodeBase64Body(Buffer.concat(chunks)));
    } catch (e) {
      return (e as Error).message;
    }
  }

  function issue(csr: CertificationRequest, publicKey?: Uint8Array) {
    const b = new CertificateBuilder('device').subject(csr.subject).issuer(fleet.intIssuer);
    b.publicKey(publicKey ?? csr.subjectPublicKeyInfo.der);
    // The CSR's requested SAN, else a device URI from its CN (the iot profile wants a SAN).
    b.subjectAltName(
      csr.subjectAltName ?? [`uri:urn:fleetpki:device:${csr.subject.commonName ?? 'unnamed'}`],
    );
    return b.signSync();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m =
      /^\/\.well-known\/est(?:\/([A-Za-z0-9._~-]+))?\/(cacerts|simpleenroll|simplereenroll|csrattrs|serverkeygen)$/.exec(
        req.url ?? '',
      );
    if (!m) return problem(res, 404, 'not-found', 'no such EST operation');
    const [, label, op] = m;
    if (op === 'cacerts') {
      if (req.method !== 'GET') return problem(res, 405, 'method', 'GET only');
      return certsOnly(res, encodeCertsOnly([fleet.int.certificate, fleet.root.certificate]));
    }
    if (op === 'csrattrs') {
      if (label === 'none') return send(res, 204, undefined, '');
      // RFC 7030 §4.5.2: ask for a P-256 key and ecdsa-with-SHA256.
      const der = encodeCsrAttrs([
        { oid: '1.2.840.113549.1.9.7' },
        {
          type: '1.2.840.10045.2.1',
          values: [Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07)],
        },
        { oid: '1.2.840.10045.4.3.2' },
      ]);
      return send(res, 200, EST_MEDIA_TYPES.csrattrs, encodeBase64Body(der), {
        'content-transfer-encoding': 'base64',
      });
    }
    if (req.method !== 'POST') return problem(res, 405, 'method', 'POST only');
    const who = authenticate(req);
    if (!who) {
      log.push(`${op} none 401`);
      return send(res, 401, 'text/plain', 'authentication required', {
        'www-authenticate': 'Basic realm="est"',
      });
    }
    if (op === 'simplereenroll' && !(who.kind === 'cert' && who.fleet))
      return problem(
        res,
        403,
        'reenroll-needs-certificate',
        're-enrollment authenticates with the certificate being renewed',
      );
    const csr = await readCsr(req);
    if (typeof csr === 'string') {
      log.push(`${op} ${who.kind} 400`);
      return problem(res, 400, 'bad-csr', csr);
    }
    // RFC 7030 §4.2.2: re-enrollment keeps the subject.
    if (op === 'simplereenroll' && who.kind === 'cert' && csr.subject.toString() !== who.subject)
      return problem(res, 403, 'subject-changed', `re-enrollment must keep ${who.subject}`);
    const key = `${label ?? ''}/${csr.subject.toString()}`;
    if (label !== undefined && held.has(label) && !approved.has(key)) {
      approved.add(key); // approved by the time the client comes back
      log.push(`${op} ${who.kind} 202`);
      return send(res, 202, 'text/plain', 'pending approval', { 'retry-after': '1' });
    }
    if (who.kind === 'basic') tokens.delete(who.user); // single use
    log.push(`${op} ${who.kind} 200`);
    if (op === 'serverkeygen') {
      const pair = await generateKeyPair('ec-p256');
      const cert = issue(csr, pair.publicKey.spki);
      const { contentType, body } = encodeServerKeygenResponse({
        privateKey: await exportKey(pair.privateKey, { format: 'pkcs8', encoding: 'der' }),
        certsOnly: encodeCertsOnly([cert.certificate]),
      });
      return send(res, 200, contentType, body);
    }
    return certsOnly(res, encodeCertsOnly([issue(csr).certificate]));
  }

  const https = createMtlsHttpsServer(
    {
      tls: { key: server.keyPem, cert: server.chainPem },
      clientAuth: { trustAnchors: [fleet.rootPem, bootstrap.rootPem], revocation: 'none' },
      clientCertificate: 'optional',
    },
    (req, res) => {
      handle(req, res).catch((e) => problem(res, 500, 'internal', String(e)));
    },
  );
  let accepted = 0;
  https.on('secureConnection', () => {
    accepted++;
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const port = (https.address() as AddressInfo).port;
  return {
    url: `https://localhost:${port}`,
    port,
    tokens,
    held,
    log,
    tlsConnections: () => accepted,
    close: () =>
      new Promise((r) => {
        https.closeAllConnections();
        https.close(() => r());
      }),
  };
}
