// The node provider imports public keys by the cheaper of two exact routes (JWK numbers or the
// SPKI DER; see platformPublicKey). Whichever it takes, the platform key must be the same key,
// and a point off its curve must be refused — for every key type we issue for.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseSpkiInfo } from '../../src/crypto/key-info.js';
import { nodeCrypto, platformPublicKey } from '../../src/crypto/node.js';
import type { SignatureAlgorithm } from '../../src/x509/algorithm.js';

const DATA = new TextEncoder().encode('to be signed');

const CASES: {
  name: string;
  make: () => ReturnType<typeof generateKeyPairSync>;
  alg: SignatureAlgorithm;
  hash: string | null;
}[] = [
  {
    name: 'P-256',
    make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    alg: { kind: 'ecdsa', hash: 'SHA-256' },
    hash: 'sha256',
  },
  {
    name: 'P-384',
    make: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    alg: { kind: 'ecdsa', hash: 'SHA-384' },
    hash: 'sha384',
  },
  {
    name: 'P-521',
    make: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    alg: { kind: 'ecdsa', hash: 'SHA-512' },
    hash: 'sha512',
  },
  { name: 'Ed25519', make: () => generateKeyPairSync('ed25519'), alg: { kind: 'ed25519' }, hash: null },
  {
    name: 'RSA 2048',
    make: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
    alg: { kind: 'rsa-pkcs1', hash: 'SHA-256' },
    hash: 'sha256',
  },
];

describe('node provider: public key import', () => {
  for (const c of CASES)
    test(`${c.name}: the imported key is the key of the SPKI, and verifies its signatures`, () => {
      const { publicKey, privateKey } = c.make();
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      const key = platformPublicKey(spki, parseSpkiInfo(spki));
      assert.deepEqual(new Uint8Array(key.export({ format: 'der', type: 'spki' })), spki);
      const sig = new Uint8Array(sign(c.hash, DATA, privateKey));
      assert.equal(nodeCrypto.verify(c.alg, spki, DATA, sig), true);
      const bad = sig.slice();
      bad[bad.length - 1]! ^= 1;
      assert.equal(nodeCrypto.verify(c.alg, spki.slice(), DATA, bad), false);
    });

  for (const curve of ['P-256', 'P-384', 'P-521'])
    test(`${curve}: a point off the curve is refused`, () => {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
      spki[spki.length - 1]! ^= 1; // the last octet of y: the point leaves the curve
      assert.throws(() => platformPublicKey(spki, parseSpkiInfo(spki)));
      assert.throws(
        () => nodeCrypto.verify({ kind: 'ecdsa', hash: 'SHA-256' }, spki, DATA, new Uint8Array(8)),
        {
          name: 'CryptoError',
        },
      );
    });
});
