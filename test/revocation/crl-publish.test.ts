import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { bytesEqual } from '../../src/der/index.js';
import { encodePem } from '../../src/pem/index.js';
import { CrlPublisher, type PublishedCrl } from '../../src/revocation/crl-publisher.js';
import type { MemoryStatusSource } from '../../src/revocation/status-source.js';
import { registerCrlRoutes } from '../../src/server/crl.js';
import { parseCertificate, parseCrl, reencodeCrl } from '../../src/x509/index.js';
import { startBroker } from './mosquitto.js';
import { makeTestPki, requireTool, run, signerFromPem, sourceFromIndex, type TestPki } from './pki.js';

/**
 * CRL publishing: the CRL we build from the status source is accepted by OpenSSL (verify
 * -crl_check) and by Mosquitto's `crlfile` (acceptance 4: a revoked device is refused, a good one
 * connects, and revoking the good one + republish + SIGHUP locks it out); CRL numbers increase;
 * the HTTP route carries caching headers.
 */

let pki: TestPki;
let source: MemoryStatusSource;
let publisher: CrlPublisher;
const published: PublishedCrl[] = [];

before(async () => {
  pki = makeTestPki();
  source = sourceFromIndex(pki.text('index.txt'), 'int');
  publisher = await CrlPublisher.create({
    issuers: [
      {
        id: 'int',
        certificate: parseCertificate(pki.text('int.pem')),
        signer: await signerFromPem(pki.text('int.key')),
      },
    ],
    source,
    onPublish: (crl) => {
      published.push(crl);
      // Replace the generator's crl.pem: Mosquitto's template points its crlfile there.
      writeFileSync(pki.path('crl.pem'), encodePem('X509 CRL', crl.der));
    },
  });
});
after(() => {
  publisher?.stop();
  pki?.cleanup();
});

describe('published CRL', () => {
  it('is a v2 CRL with AKI, cRLNumber and the revoked entry with its reason', async () => {
    const c = await publisher.publish('int');
    const crl = parseCrl(c.der);
    const revoked = parseCertificate(pki.text('revoked.pem'));
    assert.equal(crl.version, 2);
    assert.equal(crl.cRLNumber, c.crlNumber);
    assert.ok(crl.authorityKeyIdentifier?.keyIdentifier);
    assert.equal(crl.revokedCertificates.length, 1);
    assert.equal(crl.find(revoked.serialNumber)?.reasonCode, 'keyCompromise');
    const t = await run('openssl', ['crl', '-in', 'crl.pem', '-noout', '-text'], { cwd: pki.dir });
    assert.match(t.stdout, /X509v3 CRL Number:/);
    assert.match(t.stdout, /Key Compromise/);
  });

  it('the direct entry encoder writes canonical DER (re-encodes byte-identically), all entry shapes', async () => {
    const entries = [
      { serialNumber: Uint8Array.of(0x01), revocationTime: Date.UTC(2030, 0, 1) },
      {
        serialNumber: Uint8Array.of(0x00, 0x80),
        revocationTime: Date.UTC(2051, 5, 1),
        reason: 'keyCompromise' as const,
      },
      {
        serialNumber: Uint8Array.of(0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        revocationTime: Date.UTC(2031, 1, 2),
        reason: 'unspecified' as const,
      },
      {
        serialNumber: Uint8Array.of(0x22),
        revocationTime: Date.UTC(2030, 0, 1),
        reason: 'certificateHold' as const,
        invalidityDate: Date.UTC(2029, 11, 31),
      },
      ...Array.from({ length: 300 }, (_, i) => ({
        serialNumber: Uint8Array.of(0x40, i >> 8, i & 0xff),
        revocationTime: Date.UTC(2030, 0, 1, 0, 0, i),
        reason: 'superseded' as const,
      })),
    ];
    const pub = await CrlPublisher.create({
      issuers: [
        {
          id: 'x',
          certificate: parseCertificate(pki.text('int.pem')),
          signer: await signerFromPem(pki.text('int.key')),
        },
      ],
      source: { lookup: () => undefined, revoked: () => entries },
    });
    const c = await pub.publish('x');
    const crl = parseCrl(c.der);
    assert.ok(bytesEqual(reencodeCrl(crl), c.der));
    assert.equal(crl.revokedCertificates.length, entries.length);
    assert.equal(crl.revokedCertificates[1]!.reasonCode, 'keyCompromise');
    assert.equal(crl.revokedCertificates[1]!.revocationDate, Date.UTC(2051, 5, 1));
    assert.equal(crl.revokedCertificates[2]!.reasonCode, undefined);
    assert.equal(crl.revokedCertificates[3]!.invalidityDate, Date.UTC(2029, 11, 31));
  });

  it('CRL numbers strictly increase', async () => {
    const a = await publisher.publish('int');
    const b = await publisher.publish('int');
    const c = await publisher.publish('int');
    assert.ok(a.crlNumber < b.crlNumber && b.crlNumber < c.crlNumber);
  });

  const verifyCases: [string, string, RegExp, number][] = [
    ['good device passes openssl verify -crl_check', 'device.pem', /device\.pem: OK/, 0],
    ['revoked device fails openssl verify -crl_check (error 23)', 'revoked.pem', /error 23 .*revoked/, 2],
  ];
  for (const [name, cert, re, status] of verifyCases)
    it(name, async () => {
      await publisher.publish('int');
      const r = await run(
        'openssl',
        ['verify', '-CAfile', 'root.pem', '-untrusted', 'int.pem', '-crl_check', '-CRLfile', 'crl.pem', cert],
        { cwd: pki.dir },
      );
      assert.match(r.stdout + r.stderr, re);
      assert.equal(r.status, status);
    });

  it('is served over HTTP with caching headers', async () => {
    const app = Fastify();
    await registerCrlRoutes(app, { publisher });
    try {
      const r = await app.inject({ method: 'GET', url: '/crl/int.crl' });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['content-type'], 'application/pkix-crl');
      assert.match(
        String(r.headers['cache-control']),
        /^max-age=\d+, public, no-transform, must-revalidate$/,
      );
      assert.ok(r.headers.etag && r.headers['last-modified'] && r.headers.expires);
      assert.equal(parseCrl(new Uint8Array(r.rawPayload)).issuer.commonName, 'Test Issuing CA');
      const nm = await app.inject({
        method: 'GET',
        url: '/crl/int.crl',
        headers: { 'if-none-match': String(r.headers.etag) },
      });
      assert.equal(nm.statusCode, 304);
      const pem = await app.inject({ method: 'GET', url: '/crl/int.pem' });
      assert.match(pem.body, /-----BEGIN X509 CRL-----/);
      assert.equal((await app.inject({ method: 'GET', url: '/crl/nope.crl' })).statusCode, 404);
    } finally {
      await app.close();
    }
  });
});

describe('Mosquitto with our CRL (crlfile)', () => {
  const mqttPub = (cert: string, key: string, port: number) =>
    run(
      'mosquitto_pub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '--cafile',
        'root.pem',
        '--cert',
        cert,
        '--key',
        key,
        '-t',
        'dev/t',
        '-m',
        'hi',
      ],
      { cwd: pki.dir, timeoutMs: 10000 },
    );

  it('refuses the revoked device, accepts the good one, and locks out a newly revoked one after HUP', async () => {
    requireTool('mosquitto');
    requireTool('mosquitto_pub');
    await publisher.publish('int');
    writeFileSync(pki.path('revoked-chain.pem'), pki.text('revoked.pem') + pki.text('int.pem'));
    const broker = await startBroker(pki.dir, pki.dir);
    try {
      const good = await mqttPub('device-chain.pem', 'device.key', broker.port);
      assert.equal(good.status, 0, `good device refused: ${good.stderr}\n${broker.log()}`);
      const bad = await mqttPub('revoked-chain.pem', 'revoked.key', broker.port);
      assert.notEqual(bad.status, 0, 'revoked device connected');
      // Revoke the good device, republish, HUP: the next connection is refused.
      const dev = parseCertificate(pki.text('device.pem'));
      source.revoke('int', dev.serialNumber, { revocationTime: Date.now() - 1000, reason: 'keyCompromise' });
      await publisher.publish('int');
      await broker.hup();
      const after = await mqttPub('device-chain.pem', 'device.key', broker.port);
      assert.notEqual(after.status, 0, 'device still connects after revocation + HUP');
      assert.match(broker.log(), /certificate revoked|certificate verify failed/);
    } finally {
      await broker.stop();
      source.release('int', parseCertificate(pki.text('device.pem')).serialNumber);
    }
  });
});
