// nodeCrypto.digest: the same octets as node:crypto's Hash for every hash and input size, as a
// plain Uint8Array of its own (not a Buffer, not a view into a shared pool).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { type HashName, nodeCrypto } from '../../src/crypto/index.js';

const HASHES: [HashName, string, number][] = [
  ['SHA-1', 'sha1', 20],
  ['SHA-224', 'sha224', 28],
  ['SHA-256', 'sha256', 32],
  ['SHA-384', 'sha384', 48],
  ['SHA-512', 'sha512', 64],
  ['MD5', 'md5', 16],
];

describe('nodeCrypto.digest', () => {
  for (const [hash, node, len] of HASHES)
    it(`${hash}: equals createHash('${node}') on 0..300-octet inputs, in an array of its own`, () => {
      for (let n = 0; n <= 300; n += 7) {
        const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
        const d = nodeCrypto.digest(hash, data);
        assert.equal(d.length, len);
        assert.deepEqual(Buffer.from(d), createHash(node).update(data).digest());
        assert.equal(Object.getPrototypeOf(d), Uint8Array.prototype);
        assert.equal(d.buffer.byteLength, len);
      }
    });
});
