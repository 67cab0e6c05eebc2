import * as nodeCryptoModule from 'node:crypto';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPair as genKeyPair,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  pbkdf2 as pbkdf2Cb,
  scrypt as scryptCb,
} from 'node:crypto';
import { BoundedMap } from '../cache/bounded-map.js';
import { DerReader, OID } from '../der/index.js';
import { encodeSignatureAlgorithm } from '../x509/algorithm.js';
import { encodePrivateKeyInfo, encodeSubjectPublicKeyInfo } from '../x509/private-key.js';
import {
  checkAlgorithmFitsKey,
  type HashName,
  type KeyAlgorithm,
  type KeyType,
  keyAlgorithmOfType,
  type SignatureAlgorithm,
} from './algorithms.js';
import { checkSupported, precheckSignature } from './checks.js';
import { CryptoError } from './errors.js';
import { describePrivateKey, parseSpkiInfo, type SpkiInfo } from './key-info.js';
import type { CbcCipher, CryptoProvider, RawKeyPair, ScryptParams, SigningKey } from './provider.js';

/**
 * `node:crypto` provider: synchronous digest/verify/sign, the default on Node.
 * Verification keeps a small LRU of parsed public keys keyed by the SPKI bytes, so a path
 * validation that checks the same issuer many times parses it once.
 */

const NODE_HASH: Record<HashName, string> = {
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  MD5: 'md5',
};

const oneShotHash = (nodeCryptoModule as { hash?: (alg: string, data: Uint8Array, enc: 'binary') => string })
  .hash;

const buf = (u: Uint8Array): Buffer =>
  Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * OpenSSL before 3.2 decodes a DER SubjectPublicKeyInfo through its generic decoder chain, which
 * costs more than checking a P-256 point: there JWK is the cheaper way in for P-256. For P-384 and
 * P-521 the JWK path checks the point with generic (slow) curve arithmetic, and from 3.2 on DER is
 * the faster for every curve. Measured per import on this machine, DER → JWK: Node 20 (OpenSSL
 * 3.0) P-256 107 → 64 µs, P-384 120 → 469 µs, P-521 113 → 1 010 µs; Node 24 (OpenSSL 3.5)
 * P-256 17 → 20 µs, P-384 21 → 25 µs, P-521 21 → 31 µs.
 */
const EC_JWK_CURVES: ReadonlySet<string> = /^3\.[01]\./.test(process.versions.openssl ?? '')
  ? new Set(['P-256'])
  : new Set();

/**
 * The platform key for an SPKI, given as JWK (RFC 7518 §6: the key's own numbers) where that is
 * exact and cheaper: every CSR brings a key never seen before. Measured per import, DER → JWK:
 * RSA 115 → 4 µs and Ed25519 76 → 6.5 µs on Node 20 (11 → 7 and 8 → 4 on Node 24); EC see
 * EC_JWK_CURVES. An EC point is checked to be on its curve either way (the platform rejects it
 * otherwise). Only rsaEncryption keys reach here as RSA (id-RSASSA-PSS keys are refused by
 * parseSpkiInfo), so no key restriction is lost by leaving the DER.
 */
export function platformPublicKey(spki: Uint8Array, info: SpkiInfo): KeyObject {
  const a = info.algorithm;
  const b64 = (u: Uint8Array) => buf(u).toString('base64url');
  switch (a.kind) {
    case 'ec': {
      if (!EC_JWK_CURVES.has(a.curve)) break;
      // parseSpkiInfo guarantees an uncompressed point: 0x04 ‖ x ‖ y, each coordinate `size` bytes.
      const size = (info.key.length - 1) / 2;
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: a.curve,
          x: b64(info.key.subarray(1, 1 + size)),
          y: b64(info.key.subarray(1 + size)),
        },
        format: 'jwk',
      });
    }
    case 'ed25519':
    case 'ed448':
      return createPublicKey({
        key: { kty: 'OKP', crv: a.kind === 'ed25519' ? 'Ed25519' : 'Ed448', x: b64(info.key) },
        format: 'jwk',
      });
    case 'rsa':
      if (info.rsa)
        return createPublicKey({
          key: { kty: 'RSA', n: b64(info.rsa.modulus), e: b64(info.rsa.publicExponent) },
          format: 'jwk',
        });
      break;
  }
  return createPublicKey({ key: buf(spki), format: 'der', type: 'spki' });
}

interface KeyEntry {
  info: SpkiInfo;
  key: KeyObject;
  /** RSASSA-PSS-restricted views of an RSA key, per parameter set (see `pssKey`). */
  pss?: Map<string, KeyObject>;
}

/** 256 keys: every issuer of a large fleet's hierarchy and then some; ~1 KB each. */
const KEY_CACHE_SIZE = 256;
/** Keys remembered as seen once (strings only, no native objects): a few thousand devices' worth. */
const SEEN_SIZE = 4096;

class NodeCryptoProvider implements CryptoProvider {
  readonly name = 'node';
  readonly supportsSync = true;
  private readonly cache = new BoundedMap<string, KeyEntry>(KEY_CACHE_SIZE);
  /** Keys used once and not cached (their DER as latin1 strings): a second use admits one. */
  private readonly seen = new BoundedMap<string, true>(SEEN_SIZE);
  private lastSpki: Uint8Array | undefined;
  private lastEntry: KeyEntry | undefined;

  randomBytes(n: number): Uint8Array {
    return nodeRandomBytes(n);
  }

  digest(hash: HashName, data: Uint8Array): Uint8Array {
    // crypto.hash (Node ≥ 20.12) is the one-shot form: about twice as fast as a Hash object for
    // the small inputs we hash per issuance (key identifiers, CertIDs). Taken as a 'binary' (latin1) string
    // (one char per octet) and copied into a plain array: arrays of at most 64 octets — every
    // digest — live on the JS heap, where a Buffer result is an off-heap allocation (~0.5 µs).
    if (oneShotHash) {
      const s = oneShotHash(NODE_HASH[hash], data, 'binary');
      const out = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
      return out;
    }
    return createHash(NODE_HASH[hash]).update(data).digest();
  }

  async digestAsync(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
    return this.digest(hash, data);
  }

  private entry(spki: Uint8Array): KeyEntry {
    if (spki === this.lastSpki && this.lastEntry) return this.lastEntry;
    const id = buf(spki).toString('latin1');
    let e = this.cache.get(id);
    if (!e) {
      const info = parseSpkiInfo(spki);
      let key: KeyObject;
      try {
        key = platformPublicKey(spki, info);
      } catch (err) {
        throw new CryptoError('bad-key', `platform rejected the public key: ${(err as Error).message}`, {
          cause: err,
        });
      }
      e = { info, key };
      // Admitted on its second use only: most keys are seen once (every CSR's, every new
      // device's), and a cached KeyObject lives long enough to reach V8's old generation, where
      // its native handle waits for a full collection. Tens of thousands of those made one full
      // collection pause for 340 ms in a CA issuing 2 500 certificates/s.
      if (this.seen.delete(id)) this.cache.set(id, e);
      else this.seen.set(id, true);
    }
    this.lastSpki = spki;
    this.lastEntry = e;
    return e;
  }

  /**
   * OpenSSL signs/verifies PSS with MGF1 over the message hash unless the key itself is an
   * id-RSASSA-PSS key carrying other parameters (RFC 4055 §3.1). To honour a distinct MGF1
   * hash exactly, we view the RSA key as such a restricted key.
   */
  private pssKey(e: KeyEntry, alg: Extract<SignatureAlgorithm, { kind: 'rsa-pss' }>): KeyObject {
    if (alg.mgfHash === alg.hash) return e.key;
    const id = `${alg.hash}/${alg.mgfHash}/${alg.saltLength}`;
    e.pss ??= new Map();
    let k = e.pss.get(id);
    if (!k) {
      const spki = encodeSubjectPublicKeyInfo(OID.rsassaPss, pssParameters(alg), e.info.key);
      k = createPublicKey({ key: buf(spki), format: 'der', type: 'spki' });
      if (e.pss.size < 16) e.pss.set(id, k);
    }
    return k;
  }

  verify(alg: SignatureAlgorithm, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
    const e = this.entry(spki);
    if (!precheckSignature(alg, e.info, signature)) return false;
    try {
      switch (alg.kind) {
        case 'ecdsa':
        case 'dsa':
          // DER signatures are node's default dsaEncoding; passing the KeyObject bare skips the
          // per-call options parsing (measurable at tens of thousands of verifications/s).
          return cryptoVerify(NODE_HASH[alg.hash], data, e.key, signature);
        case 'rsa-pkcs1':
          return cryptoVerify(
            NODE_HASH[alg.hash],
            data,
            { key: e.key, padding: constants.RSA_PKCS1_PADDING },
            signature,
          );
        case 'rsa-pss':
          return cryptoVerify(
            NODE_HASH[alg.hash],
            data,
            {
              key: this.pssKey(e, alg),
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: alg.saltLength,
            },
            signature,
          );
        case 'ed25519':
        case 'ed448':
          return cryptoVerify(null, data, e.key, signature);
        default:
          return false;
      }
    } catch {
      // OpenSSL reports some malformed signatures (e.g. an RSA value ≥ n) as errors rather than
      // a false result; either way the signature does not verify.
      return false;
    }
  }

  async verifyAsync(
    alg: SignatureAlgorithm,
    spki: Uint8Array,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean> {
    return this.verify(alg, spki, data, signature);
  }

  async generateKeyPair(type: KeyType): Promise<RawKeyPair> {
    const a = keyAlgorithmOfType(type);
    const enc = {
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    } as const;
    const done =
      (resolve: (k: RawKeyPair) => void, reject: (e: unknown) => void) =>
      (err: Error | null, pub: Buffer, priv: Buffer) =>
        err
          ? reject(
              new CryptoError('unsupported-key-type', `cannot generate ${type}: ${err.message}`, {
                cause: err,
              }),
            )
          : resolve({ pkcs8: priv, spki: pub });
    return new Promise<RawKeyPair>((resolve, reject) => {
      const cb = done(resolve, reject);
      switch (a.kind) {
        case 'ec':
          genKeyPair('ec', { namedCurve: a.curve, ...enc }, cb);
          break;
        case 'rsa':
          genKeyPair('rsa', { modulusLength: a.modulusBits, publicExponent: 0x10001, ...enc }, cb);
          break;
        case 'ed25519':
          genKeyPair('ed25519', enc, cb);
          break;
        case 'ed448':
          genKeyPair('ed448', enc, cb);
          break;
      }
    });
  }

  async publicKeyFromPrivate(pkcs8: Uint8Array, _algorithm: KeyAlgorithm): Promise<Uint8Array> {
    return createPublicKey(this.privateKeyObject(pkcs8)).export({ type: 'spki', format: 'der' });
  }

  private privateKeyObject(pkcs8: Uint8Array): KeyObject {
    try {
      return createPrivateKey({ key: buf(pkcs8), format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw new CryptoError('bad-key', `platform rejected the private key: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async importSigningKey(
    pkcs8: Uint8Array,
    algorithm: KeyAlgorithm,
    alg: SignatureAlgorithm,
  ): Promise<SigningKey> {
    return this.importSigningKeySync(pkcs8, algorithm, alg);
  }

  /** Synchronous variant (Node only): loads the key once; `signSync` then costs one `crypto.sign`. */
  importSigningKeySync(pkcs8: Uint8Array, algorithm: KeyAlgorithm, alg: SignatureAlgorithm): SigningKey {
    checkSupported(alg);
    checkAlgorithmFitsKey(alg, algorithm);
    let signSync: (data: Uint8Array) => Uint8Array;
    switch (alg.kind) {
      case 'ecdsa': {
        const h = NODE_HASH[alg.hash];
        // DER (X.509's form, RFC 3279 §2.2.3) is node's default dsaEncoding: the bare KeyObject
        // skips per-call option parsing.
        const key = this.privateKeyObject(pkcs8);
        signSync = (d) => cryptoSign(h, d, key);
        break;
      }
      case 'rsa-pkcs1': {
        const h = NODE_HASH[alg.hash];
        // PKCS#1 v1.5 is node's default padding for RSA keys.
        const key = this.privateKeyObject(pkcs8);
        signSync = (d) => cryptoSign(h, d, key);
        break;
      }
      case 'rsa-pss': {
        const h = NODE_HASH[alg.hash];
        let key = this.privateKeyObject(pkcs8);
        if (alg.mgfHash !== alg.hash) {
          // Same restricted-key view as in pssKey(), on the private side (RFC 5958 with id-RSASSA-PSS).
          const d = describePrivateKey(pkcs8);
          const algorithm = { oid: OID.rsassaPss, parameters: pssParameters(alg) };
          key = this.privateKeyObject(
            encodePrivateKeyInfo({ version: 0, algorithm, privateKey: d.info.privateKey }),
          );
        }
        const opts = { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength };
        signSync = (d) => cryptoSign(h, d, opts);
        break;
      }
      case 'ed25519':
      case 'ed448': {
        const key = this.privateKeyObject(pkcs8);
        signSync = (d) => cryptoSign(null, d, key);
        break;
      }
      default:
        throw new CryptoError('unsupported-algorithm', `cannot sign with ${alg.kind}`);
    }
    return {
      signSync,
      sign: async (d) => signSync(d),
    };
  }

  pbkdf2(
    password: Uint8Array,
    salt: Uint8Array,
    iterations: number,
    hash: HashName,
    keyLength: number,
  ): Promise<Uint8Array> {
    return new Promise((resolve, reject) =>
      pbkdf2Cb(password, salt, iterations, keyLength, NODE_HASH[hash], (err, key) =>
        err ? reject(err) : resolve(key),
      ),
    );
  }

  scrypt(
    password: Uint8Array,
    salt: Uint8Array,
    params: ScryptParams,
    keyLength: number,
  ): Promise<Uint8Array> {
    // Node refuses when 128·N·r exceeds `maxmem` (32 MiB by default); the caller has already
    // bounded N and r (pbes2.ts), so allow what those bounds imply plus slack for p·r blocks.
    const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + (16 << 20);
    return new Promise((resolve, reject) =>
      scryptCb(password, salt, keyLength, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) =>
        err
          ? reject(new CryptoError('unsupported-algorithm', `scrypt failed: ${err.message}`, { cause: err }))
          : resolve(key),
      ),
    );
  }

  async hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    return createHmac(NODE_HASH[hash], key).update(data).digest();
  }

  async cbc(
    op: 'encrypt' | 'decrypt',
    cipher: CbcCipher,
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
  ): Promise<Uint8Array> {
    let c: ReturnType<typeof createCipheriv>;
    try {
      c = op === 'encrypt' ? createCipheriv(cipher, key, iv) : createDecipheriv(cipher, key, iv);
    } catch (err) {
      // OpenSSL 3 moved RC2 (and other old ciphers) to its legacy provider, which Node loads
      // only when started with --openssl-legacy-provider.
      const legacy = cipher.startsWith('rc2')
        ? ": it needs OpenSSL's legacy provider (run node with --openssl-legacy-provider, e.g. NODE_OPTIONS=--openssl-legacy-provider)"
        : '';
      throw new CryptoError('unsupported-algorithm', `${cipher} is not available here${legacy}`, {
        cause: err,
      });
    }
    if (op === 'encrypt') return Buffer.concat([c.update(data), c.final()]);
    try {
      return Buffer.concat([c.update(data), c.final()]);
    } catch (err) {
      throw new CryptoError('bad-passphrase', 'decryption failed (wrong passphrase?)', { cause: err });
    }
  }
}

/** The RSASSA-PSS-params TLV of `alg` (RFC 4055 §3.1), as x509 encodes it canonically. */
function pssParameters(alg: SignatureAlgorithm): Uint8Array {
  const r = DerReader.from(encodeSignatureAlgorithm(alg), 'AlgorithmIdentifier').readSequence(
    'AlgorithmIdentifier',
  );
  r.readOid('algorithm');
  return r.atEnd() ? new Uint8Array([0x30, 0]) : r.readAny('parameters').der;
}

/** The shared Node provider instance. */
export const nodeCrypto: NodeCryptoProvider = new NodeCryptoProvider();
export type { NodeCryptoProvider };
