// The node provider caches imported public keys (KeyObjects) for keys it sees again — issuers,
// intermediates, returning devices — and not for keys it sees once (every CSR's, every new
// device's): a cached KeyObject lives long enough to reach V8's old generation, where its native
// handle waits for a full collection (340 ms pauses in a CA at 2 500 issuances/s). These tests
// look at the private cache to check that admission rule and its bounds.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { nodeCrypto } from '../../src/crypto/node.js';
import type { SignatureAlgorithm } from '../../src/x509/algorithm.js';

const internals = nodeCrypto as unknown as {
  cache: { has(k: string): boolean; size: number };
  seen: { has(k: string): boolean; size: number };
};
const ALG: SignatureAlgorithm = { kind: 'ecdsa', hash: 'SHA-256' };
const DATA = new TextEncoder().encode('to be signed');

function device(): { spki: Uint8Array; sig: Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  return { spki, sig: new Uint8Array(sign('sha256', DATA, privateKey)) };
}
const id = (spki: Uint8Array) => Buffer.from(spki).toString('latin1');

describe('node provider: public keys are cached from their second use', () => {
  test('a key used once is not cached; used again, it is; results are the same either way', () => {
    const [a, b] = [device(), device()];
    assert.equal(nodeCrypto.verify(ALG, a.spki, DATA, a.sig), true);
    assert.equal(internals.cache.has(id(a.spki)), false, 'not cached after one use');
    assert.equal(internals.seen.has(id(a.spki)), true);
    assert.equal(nodeCrypto.verify(ALG, b.spki, DATA, b.sig), true);
    // A copy of the DER, so the last-key shortcut (same array) does not answer.
    assert.equal(nodeCrypto.verify(ALG, a.spki.slice(), DATA, a.sig), true);
    assert.equal(internals.cache.has(id(a.spki)), true, 'cached after the second use');
    assert.equal(internals.seen.has(id(a.spki)), false);
    const bad = a.sig.slice();
    bad[bad.length - 1]! ^= 1;
    assert.equal(nodeCrypto.verify(ALG, a.spki.slice(), DATA, bad), false);
    assert.equal(nodeCrypto.verify(ALG, b.spki.slice(), DATA, bad), false);
  });

  test('single-use keys leave the cache alone and the seen-once set bounded', () => {
    const kept = device();
    nodeCrypto.verify(ALG, kept.spki, DATA, kept.sig);
    nodeCrypto.verify(ALG, kept.spki.slice(), DATA, kept.sig);
    assert.equal(internals.cache.has(id(kept.spki)), true);
    const before = internals.cache.size;
    const once: string[] = [];
    for (let i = 0; i < 4200; i++) {
      const d = device();
      assert.equal(nodeCrypto.verify(ALG, d.spki, DATA, d.sig), true);
      once.push(id(d.spki));
    }
    assert.equal(internals.cache.size, before);
    assert.equal(
      internals.cache.has(id(kept.spki)),
      true,
      'a cached key is not pushed out by single-use ones',
    );
    assert.equal(
      once.some((k) => internals.cache.has(k)),
      false,
    );
    assert.ok(internals.seen.size <= 4096, `seen ${internals.seen.size}`);
  });
});
