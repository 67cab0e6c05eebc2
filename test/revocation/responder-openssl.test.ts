import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseOcspResponse } from '../../src/revocation/ocsp/index.js';
import { OcspResponder } from '../../src/revocation/responder.js';
import type { MemoryStatusSource } from '../../src/revocation/status-source.js';
import { registerOcspRoutes } from '../../src/server/ocsp.js';
import { parseCertificate } from '../../src/x509/index.js';
import { countingSigner, makeTestPki, run, signerFromPem, sourceFromIndex, type TestPki } from './pki.js';

/**
 * Acceptance 2: `openssl ocsp` (the client) against our responder over HTTP: good, revoked (reason
 * and time), unknown, with and without nonce; verification with -CAfile (CA-signed and delegated
 * responder) and -VAfile. Plus GET (RFC 5019 §5) via fetch, HTTP headers, and malformed requests
 * that must never reach the signer.
 */

let pki: TestPki;
let source: MemoryStatusSource;
const servers: {
  app: FastifyInstance;
  url: string;
  signer: ReturnType<typeof countingSigner>;
  responder: OcspResponder;
}[] = [];

async function startResponder(delegated: boolean, notIssued: 'unknown' | 'revoked' = 'unknown') {
  const int = parseCertificate(pki.text('int.pem'));
  const signer = countingSigner(await signerFromPem(pki.text(delegated ? 'ocsp.key' : 'int.key')));
  const responder = await OcspResponder.create({
    issuers: [
      {
        id: 'int',
        certificate: int,
        signer,
        responderCertificate: delegated ? parseCertificate(pki.text('ocsp.pem')) : undefined,
      },
    ],
    source,
    notIssued,
  });
  const app = Fastify();
  await registerOcspRoutes(app, { responder });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const s = { app, url: `http://127.0.0.1:${port}/ocsp`, signer, responder };
  servers.push(s);
  return s;
}

let caSigned: Awaited<ReturnType<typeof startResponder>>;
let delegated: Awaited<ReturnType<typeof startResponder>>;
let extended: Awaited<ReturnType<typeof startResponder>>;

before(async () => {
  pki = makeTestPki();
  source = sourceFromIndex(pki.text('index.txt'), 'int');
  caSigned = await startResponder(false);
  delegated = await startResponder(true);
  extended = await startResponder(false, 'revoked');
});
after(async () => {
  for (const s of servers) {
    s.responder.close();
    await s.app.close();
  }
  pki?.cleanup();
});

function ocsp(url: string, target: string[], extra: string[] = []) {
  return run('openssl', ['ocsp', '-issuer', 'int.pem', ...target, '-url', url, '-resp_text', ...extra], {
    cwd: pki.dir,
  });
}

describe('openssl ocsp against our responder', () => {
  const cases: {
    name: string;
    server: () => typeof caSigned;
    target: string[];
    extra?: string[];
    expect: RegExp[];
    forbid?: RegExp[];
  }[] = [
    {
      name: 'good, CA-signed, no nonce, -CAfile',
      server: () => caSigned,
      target: ['-cert', 'device.pem'],
      extra: ['-CAfile', 'root.pem', '-no_nonce'],
      expect: [/Response verify OK/, /device\.pem: good/, /This Update:/, /Next Update:/],
    },
    {
      name: 'good, CA-signed, with nonce echoed',
      server: () => caSigned,
      target: ['-cert', 'device.pem'],
      extra: ['-CAfile', 'root.pem'],
      expect: [/Response verify OK/, /device\.pem: good/, /OCSP Nonce/],
      forbid: [/WARNING: no nonce/],
    },
    {
      name: 'revoked with reason and time, nonce',
      server: () => caSigned,
      target: ['-cert', 'revoked.pem'],
      extra: ['-CAfile', 'root.pem'],
      expect: [/Response verify OK/, /revoked\.pem: revoked/, /Reason: keyCompromise/, /Revocation Time: /],
      forbid: [/WARNING: no nonce/],
    },
    {
      name: 'unknown serial',
      server: () => caSigned,
      target: ['-serial', '0x9999'],
      extra: ['-CAfile', 'root.pem', '-no_nonce'],
      expect: [/Response verify OK/, /0x9999: unknown/],
    },
    {
      name: 'delegated responder verifies with -CAfile',
      server: () => delegated,
      target: ['-cert', 'revoked.pem'],
      extra: ['-CAfile', 'root.pem'],
      expect: [/Response verify OK/, /revoked\.pem: revoked/, /Reason: keyCompromise/],
      forbid: [/WARNING: no nonce/],
    },
    {
      name: 'delegated responder verifies with -VAfile',
      server: () => delegated,
      target: ['-cert', 'device.pem'],
      extra: ['-VAfile', 'ocsp.pem', '-no_nonce'],
      expect: [/Response verify OK/, /device\.pem: good/],
    },
    {
      name: 'three CertIDs in one request (SHA-256)',
      server: () => delegated,
      target: ['-sha256', '-cert', 'device.pem', '-cert', 'revoked.pem', '-serial', '0x9999'],
      extra: ['-CAfile', 'root.pem'],
      expect: [/device\.pem: good/, /revoked\.pem: revoked/, /0x9999: unknown/, /Response verify OK/],
    },
    {
      name: 'extended revoked for a serial never issued (RFC 6960 §2.2)',
      server: () => extended,
      target: ['-serial', '0x9999'],
      extra: ['-CAfile', 'root.pem', '-no_nonce'],
      expect: [
        /0x9999: revoked/,
        /Reason: certificateHold/,
        /Revocation Time: Jan\s+1 00:00:00 1970 GMT/,
        /Response Extensions:\s+valid:/ /* OpenSSL's name for id-pkix-ocsp 9 */,
      ],
    },
    {
      name: 'a wrong -VAfile fails verification',
      server: () => delegated,
      target: ['-cert', 'device.pem'],
      extra: ['-VAfile', 'device.pem', '-no_nonce'],
      expect: [/Response Verify Failure/],
    },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const r = await ocsp(c.server().url, c.target, c.extra);
      const out = r.stdout + r.stderr;
      for (const re of c.expect) assert.match(out, re, out);
      for (const re of c.forbid ?? []) assert.doesNotMatch(out, re, out);
    });
});

describe('HTTP behaviour', () => {
  let reqDer: Buffer;
  before(async () => {
    const r = await run(
      'openssl',
      ['ocsp', '-issuer', 'int.pem', '-cert', 'device.pem', '-no_nonce', '-reqout', 'get.der'],
      { cwd: pki.dir },
    );
    assert.equal(r.status, 0, r.stderr);
    reqDer = pki.read('get.der');
  });

  it('GET with base64url and std base64 give the same cached response with RFC 5019 headers', async () => {
    const std = encodeURIComponent(reqDer.toString('base64'));
    const url = reqDer.toString('base64url');
    const a = await fetch(`${caSigned.url}/${std}`);
    const b = await fetch(`${caSigned.url}/${url}`);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/ocsp-response');
    assert.match(a.headers.get('cache-control')!, /^max-age=\d+, public, no-transform, must-revalidate$/);
    assert.ok(a.headers.get('etag'));
    assert.ok(a.headers.get('last-modified'));
    assert.ok(a.headers.get('expires'));
    const ab = new Uint8Array(await a.arrayBuffer());
    const bb = new Uint8Array(await b.arrayBuffer());
    assert.deepEqual(ab, bb);
    assert.equal(parseOcspResponse(ab).basic?.responses[0]?.certStatus.status, 'good');
    // The response verifies in openssl's offline mode too.
    writeFileSync(pki.path('get-resp.der'), ab);
    const v = await run(
      'openssl',
      [
        'ocsp',
        '-respin',
        'get-resp.der',
        '-issuer',
        'int.pem',
        '-cert',
        'device.pem',
        '-CAfile',
        'root.pem',
        '-no_nonce',
      ],
      { cwd: pki.dir },
    );
    assert.match(v.stderr, /Response verify OK/);
    assert.match(v.stdout, /device\.pem: good/);
    const nm = await fetch(`${caSigned.url}/${url}`, {
      headers: { 'if-none-match': a.headers.get('etag')! },
    });
    assert.equal(nm.status, 304);
  });

  it('a revocation drops the cached good answer', async () => {
    const before = await fetch(caSigned.url, {
      method: 'POST',
      body: new Uint8Array(reqDer),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    assert.equal(
      parseOcspResponse(new Uint8Array(await before.arrayBuffer())).basic?.responses[0]?.certStatus.status,
      'good',
    );
    const dev = parseCertificate(pki.text('device.pem'));
    source.revoke('int', dev.serialNumber, { revocationTime: Date.now() - 1000, reason: 'keyCompromise' });
    try {
      const res = await fetch(caSigned.url, {
        method: 'POST',
        body: new Uint8Array(reqDer),
        headers: { 'content-type': 'application/ocsp-request' },
      });
      const st = parseOcspResponse(new Uint8Array(await res.arrayBuffer())).basic?.responses[0]?.certStatus;
      assert.equal(st?.status, 'revoked');
    } finally {
      source.release('int', dev.serialNumber);
    }
  });

  const malformed: [string, () => RequestInit | string][] = [
    [
      'garbage POST body',
      () => ({
        method: 'POST',
        body: new Uint8Array(Buffer.from('not der at all')),
        headers: { 'content-type': 'application/ocsp-request' },
      }),
    ],
    [
      'oversized POST body (1 MiB)',
      () => ({
        method: 'POST',
        body: new Uint8Array(Buffer.alloc(1 << 20, 0x30)),
        headers: { 'content-type': 'application/ocsp-request' },
      }),
    ],
    [
      'truncated request',
      () => ({
        method: 'POST',
        body: new Uint8Array(reqDer.subarray(0, reqDer.length - 3)),
        headers: { 'content-type': 'application/ocsp-request' },
      }),
    ],
    [
      'empty POST body',
      () => ({
        method: 'POST',
        body: new Uint8Array(Buffer.alloc(0)),
        headers: { 'content-type': 'application/ocsp-request' },
      }),
    ],
    ['GET with bad base64', () => '/!!!!'],
    ['GET of base64 that is not DER', () => `/${Buffer.from('hello world').toString('base64url')}`],
    ['GET with oversized path', () => `/${'A'.repeat(5000)}`],
  ];
  for (const [name, init] of malformed)
    it(`${name} → malformedRequest, signer untouched`, async () => {
      const before = caSigned.signer.calls;
      const i = init();
      const res = typeof i === 'string' ? await fetch(`${caSigned.url}${i}`) : await fetch(caSigned.url, i);
      const body = new Uint8Array(await res.arrayBuffer());
      assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
      assert.equal(parseOcspResponse(body).responseStatus, 'malformedRequest');
      assert.equal(caSigned.signer.calls, before);
    });

  it('a CertID of another issuer → unauthorized, signer untouched', async () => {
    const r = await run(
      'openssl',
      ['ocsp', '-issuer', 'rogue-ca.pem', '-cert', 'rogue-device.pem', '-no_nonce', '-reqout', 'rogue.der'],
      { cwd: pki.dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const before = caSigned.signer.calls;
    const res = await fetch(caSigned.url, {
      method: 'POST',
      body: new Uint8Array(pki.read('rogue.der')),
      headers: { 'content-type': 'application/ocsp-request' },
    });
    assert.equal(parseOcspResponse(new Uint8Array(await res.arrayBuffer())).responseStatus, 'unauthorized');
    assert.equal(caSigned.signer.calls, before);
  });
});
