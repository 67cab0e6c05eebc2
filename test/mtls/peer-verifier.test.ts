// PeerVerifier's remembered paths: a returning leaf gets its validated path again only inside the
// path's validity window and for the same reference identity, its revocation status is checked
// anew every time, and refusals are never remembered.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  lookupFromStatusSource,
  type PeerVerdict,
  PeerVerifier,
  StatusLookupRevocation,
} from '../../src/mtls/index.js';
import { MemoryStatusSource } from '../../src/revocation/index.js';
import { type Hierarchy, type Identity, makeHierarchy } from '../helpers/fleet.js';

const DAY = 86_400_000;
let h: Hierarchy;
let device: Identity;
let server: Identity;
let source: MemoryStatusSource;

before(async () => {
  h = await makeHierarchy('Paths');
  const now = Date.now();
  device = await h.device('device-p', { notBefore: now - DAY, notAfter: now + 10 * DAY });
  server = await h.server('server-p');
  source = new MemoryStatusSource();
  source.issue('root', h.int.certificate.serialNumber);
  source.issue('int', device.certificate.serialNumber);
  source.issue('int', server.certificate.serialNumber);
});

function verifier(
  o: { now?: () => number; pathCacheSize?: number; purpose?: 'clientAuth' | 'serverAuth' } = {},
) {
  return new PeerVerifier({
    trustAnchors: [h.rootPem],
    purpose: o.purpose ?? 'clientAuth',
    revocation: new StatusLookupRevocation(
      lookupFromStatusSource(source, [
        { id: 'root', certificate: h.root.certificate },
        { id: 'int', certificate: h.int.certificate },
      ]),
    ),
    now: o.now,
    pathCacheSize: o.pathCacheSize,
  });
}
const chainOf = (id: Identity) => [id.certificate.der, h.int.certificate.der];
const sync = (v: PeerVerdict | Promise<PeerVerdict>): PeerVerdict => {
  assert.ok(!(v instanceof Promise), 'a synchronous verdict');
  return v;
};
const code = (v: PeerVerdict) => (v.ok ? 'ok' : (v.error.verifyCode ?? v.error.code));

describe('PeerVerifier remembered paths', () => {
  it('a returning leaf gets the same validated path (and a fresh one without the cache)', () => {
    const v = verifier();
    const a = sync(v.verify(chainOf(device)));
    const b = sync(v.verify(chainOf(device)));
    assert.ok(a.ok && b.ok);
    assert.deepEqual(v.pathCacheStats, { size: 1, hits: 1 });
    assert.deepEqual(
      b.identity.chain.map((c) => c.der),
      a.identity.chain.map((c) => c.der),
    );
    // The parsed leaf is not kept (only its DER and the rest of the path): a new object each time.
    assert.notEqual(b.identity.certificate, a.identity.certificate);
    const off = verifier({ pathCacheSize: 0 });
    const c = sync(off.verify(chainOf(device)));
    const d = sync(off.verify(chainOf(device)));
    assert.ok(c.ok && d.ok);
    assert.deepEqual(off.pathCacheStats, { size: 0, hits: 0 });
  });

  it('revocation is checked anew on every call', () => {
    const local = new MemoryStatusSource();
    local.issue('root', h.int.certificate.serialNumber);
    local.issue('int', device.certificate.serialNumber);
    const v = new PeerVerifier({
      trustAnchors: [h.rootPem],
      purpose: 'clientAuth',
      revocation: new StatusLookupRevocation(
        lookupFromStatusSource(local, [
          { id: 'root', certificate: h.root.certificate },
          { id: 'int', certificate: h.int.certificate },
        ]),
      ),
    });
    assert.equal(code(sync(v.verify(chainOf(device)))), 'ok');
    local.revoke('int', device.certificate.serialNumber, {
      revocationTime: Date.now(),
      reason: 'keyCompromise',
    });
    assert.equal(code(sync(v.verify(chainOf(device)))), 'revoked');
    local.release('int', device.certificate.serialNumber);
    assert.equal(code(sync(v.verify(chainOf(device)))), 'ok');
  });

  it('only inside the validity window: past notAfter it is expired, before notBefore not yet valid', () => {
    let t = device.certificate.notBefore + DAY;
    const v = verifier({ now: () => t });
    assert.equal(code(sync(v.verify(chainOf(device)))), 'ok');
    t = device.certificate.notAfter + 1000;
    assert.equal(code(sync(v.verify(chainOf(device)))), 'expired');
    t = device.certificate.notBefore - 1000;
    assert.equal(code(sync(v.verify(chainOf(device)))), 'not-yet-valid');
    t = device.certificate.notAfter;
    assert.equal(
      code(sync(v.verify(chainOf(device)))),
      'ok',
      'notAfter itself is inside (RFC 5280 §4.1.2.5)',
    );
  });

  it('only for the same reference identity', () => {
    const v = verifier({ purpose: 'serverAuth' });
    assert.equal(code(sync(v.verify(chainOf(server), { hostname: 'localhost' }))), 'ok');
    assert.equal(code(sync(v.verify(chainOf(server), { hostname: 'broker.example' }))), 'hostname-mismatch');
    assert.equal(code(sync(v.verify(chainOf(server), { ip: '127.0.0.1' }))), 'ok');
  });

  it('refusals are not remembered: a leaf refused for want of its intermediate passes once it is sent', () => {
    const v = verifier();
    assert.equal(code(sync(v.verify([device.certificate.der]))), 'unknown-issuer');
    assert.equal(code(sync(v.verify(chainOf(device)))), 'ok');
  });

  it('only for the same certificates sent: the leaf alone is not accepted because it came with its intermediate before', () => {
    const v = verifier();
    assert.equal(code(sync(v.verify(chainOf(device)))), 'ok');
    assert.equal(code(sync(v.verify([device.certificate.der]))), 'unknown-issuer');
  });
});
