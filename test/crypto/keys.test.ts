import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  CryptoError,
  exportKey,
  generateKeyPair,
  importKey,
  importPrivateKey,
  importPublicKey,
  KEY_TYPES,
  type KeyPair,
  KeySigner,
  type KeyType,
  nodeCrypto,
  type SignatureAlgorithm,
  verifySignature,
  verifySignatureAsync,
  webCrypto,
} from '../../src/crypto/index.js';
import { bytesEqual } from '../../src/der/index.js';

/** Key generation and every import/export format, cross-checked against node:crypto's own parser. */

const pairs = new Map<KeyType, KeyPair>();
before(async () => {
  await Promise.all(KEY_TYPES.map(async (t) => pairs.set(t, await generateKeyPair(t))));
});
const pair = (t: KeyType) => pairs.get(t)!;
const data = new TextEncoder().encode('tbsCertificate stand-in');

/** Node's hash name for our default algorithms (null for EdDSA). */
function nodeHash(alg: SignatureAlgorithm): string | null {
  return 'hash' in alg ? alg.hash.replace('-', '').toLowerCase() : null;
}

describe('generate + sign + verify per key type', () => {
  for (const t of KEY_TYPES) {
    test(t, async () => {
      const { privateKey, publicKey } = pair(t);
      assert.ok(bytesEqual(privateKey.spki, publicKey.spki));
      const signer = await KeySigner.create(privateKey);
      assert.ok(signer.signSync, 'node provider signs synchronously');
      const sig = signer.signSync!(data);
      // Independent check with node:crypto directly (ECDSA in DER is Node's default dsaEncoding).
      const pub = createPublicKey({ key: Buffer.from(publicKey.spki), format: 'der', type: 'spki' });
      assert.equal(nodeVerify(nodeHash(signer.algorithm), data, pub, sig), true);
      assert.equal(verifySignature(signer.algorithm, publicKey.spki, data, sig), true);
      assert.equal(await verifySignatureAsync(signer.algorithm, publicKey.spki, data, sig, webCrypto), true);
      const bad = Uint8Array.from(sig);
      bad[bad.length - 1]! ^= 1;
      assert.equal(verifySignature(signer.algorithm, publicKey.spki, data, bad), false);
    });
  }
});

const FORMATS: {
  name: string;
  format: 'pkcs8' | 'sec1' | 'pkcs1' | 'jwk';
  applies: (t: KeyType) => boolean;
}[] = [
  { name: 'pkcs8', format: 'pkcs8', applies: () => true },
  { name: 'sec1', format: 'sec1', applies: (t) => t.startsWith('ec-') },
  { name: 'pkcs1', format: 'pkcs1', applies: (t) => t.startsWith('rsa-') },
  { name: 'jwk', format: 'jwk', applies: () => true },
];

describe('private key round trips (format × encoding × type), read back by us and by node:crypto', () => {
  for (const t of KEY_TYPES)
    for (const f of FORMATS.filter((x) => x.applies(t)))
      for (const encoding of f.format === 'jwk' ? (['json'] as const) : (['pem', 'der'] as const)) {
        test(`${t} ${f.name} ${encoding}`, async () => {
          const k = pair(t).privateKey;
          const out =
            f.format === 'jwk'
              ? await exportKey(k, { format: 'jwk' })
              : encoding === 'der'
                ? await exportKey(k, { format: f.format, encoding: 'der' })
                : await exportKey(k, { format: f.format });
          const back = await importPrivateKey(out as string | Uint8Array, { format: f.format });
          assert.ok(bytesEqual(back.spki, k.spki), 'same public key after the round trip');
          assert.deepEqual(back.algorithm, k.algorithm);
          // node:crypto reads what we wrote, and derives the same public key.
          const nk =
            f.format === 'jwk'
              ? createPrivateKey({ key: out as never, format: 'jwk' })
              : encoding === 'pem'
                ? createPrivateKey(out as string)
                : createPrivateKey({
                    key: Buffer.from(out as Uint8Array),
                    format: 'der',
                    type: f.format as 'pkcs8' | 'sec1' | 'pkcs1',
                  });
          const spki = createPublicKey(nk).export({ type: 'spki', format: 'der' });
          assert.ok(bytesEqual(spki, k.spki));
          // And the re-imported key still signs for the original public key.
          const s = await KeySigner.create(back);
          assert.equal(verifySignature(s.algorithm, k.spki, data, s.signSync!(data)), true);
        });
      }
});

describe('public key round trips', () => {
  for (const t of KEY_TYPES)
    for (const format of t.startsWith('rsa-')
      ? (['spki', 'pkcs1', 'jwk'] as const)
      : (['spki', 'jwk'] as const)) {
      test(`${t} ${format}`, async () => {
        const k = pair(t).publicKey;
        const pem = format === 'jwk' ? await exportKey(k, { format: 'jwk' }) : await exportKey(k, { format });
        const back = await importPublicKey(pem as string);
        assert.ok(bytesEqual(back.spki, k.spki));
        if (format !== 'jwk') {
          const der = await exportKey(k, { format, encoding: 'der' });
          assert.ok(bytesEqual((await importPublicKey(der)).spki, k.spki), 'DER detected without a hint');
        }
      });
    }
});

describe('keys made by node:crypto (as OpenSSL writes them) are read', () => {
  for (const t of KEY_TYPES) {
    test(t, async () => {
      const nk = createPrivateKey({
        key: Buffer.from(pair(t).privateKey.pkcs8),
        format: 'der',
        type: 'pkcs8',
      });
      const pem = nk.export({ type: 'pkcs8', format: 'pem' }) as string;
      const k = await importKey(pem);
      assert.equal(k.type, 'private');
      assert.ok(bytesEqual(k.spki, pair(t).publicKey.spki));
    });
  }
});

describe('WebCrypto provider', () => {
  for (const t of ['ec-p256', 'ec-p384', 'ec-p521', 'ed25519', 'rsa-2048'] as const) {
    test(`generate ${t}, sign (P1363→DER), verify with node:crypto`, async () => {
      const kp = await generateKeyPair(t, { provider: webCrypto });
      const signer = await KeySigner.create(kp.privateKey, { provider: webCrypto });
      assert.equal(signer.signSync, undefined);
      const sig = await signer.sign(data);
      const pub = createPublicKey({ key: Buffer.from(kp.publicKey.spki), format: 'der', type: 'spki' });
      assert.equal(nodeVerify(nodeHash(signer.algorithm), data, pub, sig), true);
      assert.equal(nodeCrypto.verify(signer.algorithm, kp.publicKey.spki, data, sig), true);
    });
  }
  test('Ed25519 PKCS#8 without public key: public derived through WebCrypto', async () => {
    const pem = await exportKey(pair('ed25519').privateKey, { format: 'pkcs8' });
    const k = await importPrivateKey(pem, { provider: webCrypto });
    assert.ok(bytesEqual(k.spki, pair('ed25519').publicKey.spki));
  });
  test('sync calls are refused with a typed error', () => {
    assert.throws(
      () => webCrypto.verify(),
      (e: unknown) => e instanceof CryptoError && e.code === 'sync-unsupported',
    );
  });
});

describe('verification rejects', () => {
  const cases: { name: string; run: () => Promise<void> | void }[] = [
    {
      name: 'ECDSA algorithm with an RSA key → algorithm-key-mismatch',
      run: () =>
        assert.throws(
          () =>
            verifySignature(
              { kind: 'ecdsa', hash: 'SHA-256' },
              pair('rsa-2048').publicKey.spki,
              data,
              new Uint8Array(256),
            ),
          (e: unknown) => e instanceof CryptoError && e.code === 'algorithm-key-mismatch',
        ),
    },
    {
      name: 'Ed25519 algorithm with a P-256 key → algorithm-key-mismatch',
      run: () =>
        assert.throws(
          () =>
            verifySignature({ kind: 'ed25519' }, pair('ec-p256').publicKey.spki, data, new Uint8Array(64)),
          (e: unknown) => e instanceof CryptoError && e.code === 'algorithm-key-mismatch',
        ),
    },
    {
      name: 'P-256 key with ecdsa-with-SHA512 is allowed (RFC 5758: any hash with any curve)',
      run: async () => {
        const s = await KeySigner.create(pair('ec-p256').privateKey, {
          algorithm: { kind: 'ecdsa', hash: 'SHA-512' },
        });
        assert.equal(verifySignature(s.algorithm, s.publicKey, data, s.signSync!(data)), true);
      },
    },
    {
      name: 'BER (long-form length) ECDSA signature value → false',
      run: async () => {
        const s = await KeySigner.create(pair('ec-p256').privateKey);
        const der = s.signSync!(data);
        assert.equal(der[1]! < 0x80, true);
        const ber = new Uint8Array(der.length + 1);
        ber[0] = 0x30;
        ber[1] = 0x81;
        ber[2] = der[1]!;
        ber.set(der.subarray(2), 3);
        assert.equal(verifySignature(s.algorithm, s.publicKey, data, ber), false);
      },
    },
    {
      name: 'ECDSA signature with trailing bytes → false',
      run: async () => {
        const s = await KeySigner.create(pair('ec-p384').privateKey);
        const der = s.signSync!(data);
        assert.equal(verifySignature(s.algorithm, s.publicKey, data, Uint8Array.from([...der, 0])), false);
      },
    },
    {
      name: 'RSA signature one byte short → false',
      run: async () => {
        const s = await KeySigner.create(pair('rsa-2048').privateKey);
        const sig = s.signSync!(data);
        assert.equal(verifySignature(s.algorithm, s.publicKey, data, sig.subarray(1)), false);
      },
    },
    {
      name: 'MD5 → unsupported-algorithm',
      run: () =>
        assert.throws(
          () =>
            verifySignature(
              { kind: 'rsa-pkcs1', hash: 'MD5' },
              pair('rsa-2048').publicKey.spki,
              data,
              new Uint8Array(256),
            ),
          (e: unknown) => e instanceof CryptoError && e.code === 'unsupported-algorithm',
        ),
    },
    {
      name: 'RSA-PSS sign and verify (SHA-384, salt 48)',
      run: async () => {
        const alg = { kind: 'rsa-pss', hash: 'SHA-384', mgfHash: 'SHA-384', saltLength: 48 } as const;
        const s = await KeySigner.create(pair('rsa-2048').privateKey, { algorithm: alg });
        const sig = s.signSync!(data);
        assert.equal(verifySignature(alg, s.publicKey, data, sig), true);
        assert.equal(
          verifySignature({ ...alg, saltLength: 32 }, s.publicKey, data, sig),
          false,
          'salt length is exact',
        );
      },
    },
  ];
  for (const c of cases) test(c.name, c.run);
});

describe('bad input is typed', () => {
  const cases: { name: string; input: string | Uint8Array; code: string }[] = [
    { name: 'garbage DER', input: Uint8Array.from([0x30, 0x03, 0x02, 0x01]), code: 'bad-key' },
    {
      name: 'PEM without a key block',
      input: '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n',
      code: 'bad-format',
    },
    {
      name: 'encrypted key without passphrase',
      input: '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n',
      code: 'passphrase-required',
    },
    {
      name: 'JWK with an unknown curve',
      input: '{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}',
      code: 'unsupported-key-type',
    },
  ];
  for (const c of cases)
    test(c.name, async () => {
      await assert.rejects(importKey(c.input), (e: unknown) => e instanceof CryptoError && e.code === c.code);
    });
});
