import { BoundedMap } from '../cache/bounded-map.js';
import {
  CURVES,
  checkAlgorithmFitsKey,
  type HashName,
  type KeyAlgorithm,
  type KeyType,
  keyAlgorithmOfType,
  type SignatureAlgorithm,
} from './algorithms.js';
import { checkSupported, precheckSignature } from './checks.js';
import { ecdsaDerToP1363, ecdsaP1363ToDer } from './ecdsa-sig.js';
import { CryptoError } from './errors.js';
import { type Jwk, jwkToSpki } from './jwk.js';
import { parseSpkiInfo, type SpkiInfo } from './key-info.js';
import type { CbcCipher, CryptoProvider, RawKeyPair, ScryptParams, SigningKey } from './provider.js';

/**
 * WebCrypto provider (browsers, Deno, Bun, Workers; Node's `globalThis.crypto` too). Async only.
 * Platform gaps, reported as `unsupported-algorithm`: SHA-224 and MD5, RSASSA-PSS with an MGF1
 * hash different from the message hash (WebCrypto has no such parameter), scrypt, DES-EDE3-CBC.
 * ECDSA: WebCrypto speaks IEEE P1363 r||s; we convert from/to DER ourselves, after the strict
 * DER check in `precheckSignature`.
 */

type Subtle = SubtleCrypto;
const subtle = (): Subtle => {
  const s = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!s) throw new CryptoError('unsupported-algorithm', 'globalThis.crypto.subtle is not available');
  return s;
};
/** WebCrypto wants ArrayBuffer-backed views; ours always are. */
const bs = (u: Uint8Array): BufferSource => u as Uint8Array<ArrayBuffer>;

function webHash(h: HashName): string {
  if (h === 'SHA-1' || h === 'SHA-256' || h === 'SHA-384' || h === 'SHA-512') return h;
  throw new CryptoError('unsupported-algorithm', `WebCrypto has no ${h}`);
}

/** Import parameters for a key used with `alg` (WebCrypto binds the hash at import). */
function importParams(
  alg: SignatureAlgorithm,
  key: KeyAlgorithm,
): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  switch (alg.kind) {
    case 'ecdsa':
      return { name: 'ECDSA', namedCurve: (key as Extract<KeyAlgorithm, { kind: 'ec' }>).curve };
    case 'rsa-pkcs1':
      return { name: 'RSASSA-PKCS1-v1_5', hash: webHash(alg.hash) };
    case 'rsa-pss':
      if (alg.mgfHash !== alg.hash)
        throw new CryptoError('unsupported-algorithm', 'WebCrypto RSA-PSS cannot use a different MGF1 hash');
      return { name: 'RSA-PSS', hash: webHash(alg.hash) };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ed448':
      return { name: 'Ed448' };
    default:
      throw new CryptoError('unsupported-algorithm', `WebCrypto cannot use ${alg.kind}`);
  }
}

function signParams(alg: SignatureAlgorithm): Algorithm | EcdsaParams | RsaPssParams {
  switch (alg.kind) {
    case 'ecdsa':
      return { name: 'ECDSA', hash: webHash(alg.hash) } as EcdsaParams;
    case 'rsa-pkcs1':
      webHash(alg.hash);
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'rsa-pss':
      webHash(alg.hash);
      if (alg.mgfHash !== alg.hash)
        throw new CryptoError('unsupported-algorithm', 'WebCrypto RSA-PSS cannot use a different MGF1 hash');
      return { name: 'RSA-PSS', saltLength: alg.saltLength } as RsaPssParams;
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'ed448':
      return { name: 'Ed448' };
    default:
      throw new CryptoError('unsupported-algorithm', `WebCrypto cannot use ${alg.kind}`);
  }
}

const KEY_CACHE_SIZE = 256;

class WebCryptoProvider implements CryptoProvider {
  readonly name = 'webcrypto';
  readonly supportsSync = false;
  private readonly infos = new BoundedMap<string, SpkiInfo>(KEY_CACHE_SIZE);
  private readonly keys = new BoundedMap<string, Promise<CryptoKey>>(KEY_CACHE_SIZE);

  randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    // getRandomValues fills at most 65 536 bytes per call (WebCrypto §10.1.1).
    for (let i = 0; i < n; i += 65536)
      globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
    return out;
  }

  digest(): Uint8Array {
    throw new CryptoError('sync-unsupported', 'WebCrypto digests are asynchronous; use digestAsync');
  }

  async digestAsync(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await subtle().digest(webHash(hash), bs(data)));
  }

  verify(): boolean {
    throw new CryptoError('sync-unsupported', 'WebCrypto verification is asynchronous; use verifyAsync');
  }

  private info(spki: Uint8Array, id: string): SpkiInfo {
    let i = this.infos.get(id);
    if (!i) {
      i = parseSpkiInfo(spki);
      this.infos.set(id, i);
    }
    return i;
  }

  private publicKey(
    spki: Uint8Array,
    id: string,
    alg: SignatureAlgorithm,
    info: SpkiInfo,
  ): Promise<CryptoKey> {
    const kid = `${alg.kind}/${'hash' in alg ? alg.hash : ''}|${id}`;
    let k = this.keys.get(kid);
    if (!k) {
      k = subtle()
        .importKey('spki', bs(spki), importParams(alg, info.algorithm), false, ['verify'])
        .catch((e: unknown) => {
          this.keys.delete(kid);
          throw new CryptoError('bad-key', `platform rejected the public key: ${(e as Error).message}`, {
            cause: e,
          });
        });
      this.keys.set(kid, k);
    }
    return k;
  }

  async verifyAsync(
    alg: SignatureAlgorithm,
    spki: Uint8Array,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean> {
    const id = latin1Key(spki);
    const info = this.info(spki, id);
    if (!precheckSignature(alg, info, signature)) return false;
    const params = signParams(alg);
    const key = await this.publicKey(spki, id, alg, info);
    let sig = signature;
    if (alg.kind === 'ecdsa') {
      const p = ecdsaDerToP1363(
        signature,
        CURVES[(info.algorithm as Extract<KeyAlgorithm, { kind: 'ec' }>).curve],
      );
      if (!p) return false;
      sig = p;
    }
    return subtle().verify(params, key, bs(sig), bs(data));
  }

  async generateKeyPair(type: KeyType): Promise<RawKeyPair> {
    const a = keyAlgorithmOfType(type);
    let params: Algorithm | EcKeyGenParams | RsaHashedKeyGenParams;
    switch (a.kind) {
      case 'ec':
        params = { name: 'ECDSA', namedCurve: a.curve } as EcKeyGenParams;
        break;
      case 'rsa':
        params = {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: a.modulusBits,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        } as RsaHashedKeyGenParams;
        break;
      case 'ed25519':
        params = { name: 'Ed25519' };
        break;
      case 'ed448':
        params = { name: 'Ed448' };
        break;
      default:
        throw new CryptoError('unsupported-key-type', `cannot generate ${type}`);
    }
    let pair: CryptoKeyPair;
    try {
      pair = (await subtle().generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair;
    } catch (e) {
      throw new CryptoError('unsupported-key-type', `cannot generate ${type}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    const [pkcs8, spki] = await Promise.all([
      subtle().exportKey('pkcs8', pair.privateKey),
      subtle().exportKey('spki', pair.publicKey),
    ]);
    return { pkcs8: new Uint8Array(pkcs8), spki: new Uint8Array(spki) };
  }

  async publicKeyFromPrivate(pkcs8: Uint8Array, algorithm: KeyAlgorithm): Promise<Uint8Array> {
    const alg = defaultAlgFor(algorithm);
    const k = await this.importPrivate(pkcs8, algorithm, alg, true);
    const jwk = (await subtle().exportKey('jwk', k)) as Jwk;
    return jwkToSpki(jwk);
  }

  private async importPrivate(
    pkcs8: Uint8Array,
    algorithm: KeyAlgorithm,
    alg: SignatureAlgorithm,
    extractable: boolean,
  ): Promise<CryptoKey> {
    try {
      return await subtle().importKey('pkcs8', bs(pkcs8), importParams(alg, algorithm), extractable, [
        'sign',
      ]);
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      throw new CryptoError('bad-key', `platform rejected the private key: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  async importSigningKey(
    pkcs8: Uint8Array,
    algorithm: KeyAlgorithm,
    alg: SignatureAlgorithm,
  ): Promise<SigningKey> {
    checkSupported(alg);
    checkAlgorithmFitsKey(alg, algorithm);
    const key = await this.importPrivate(pkcs8, algorithm, alg, false);
    const params = signParams(alg);
    const curve = algorithm.kind === 'ec' ? CURVES[algorithm.curve] : undefined;
    return {
      sign: async (data) => {
        const sig = new Uint8Array(await subtle().sign(params, key, bs(data)));
        return curve ? ecdsaP1363ToDer(sig, curve) : sig;
      },
    };
  }

  async pbkdf2(
    password: Uint8Array,
    salt: Uint8Array,
    iterations: number,
    hash: HashName,
    keyLength: number,
  ): Promise<Uint8Array> {
    const k = await subtle().importKey('raw', bs(password), 'PBKDF2', false, ['deriveBits']);
    const bits = await subtle().deriveBits(
      { name: 'PBKDF2', salt: bs(salt), iterations, hash: webHash(hash) } as Pbkdf2Params,
      k,
      keyLength * 8,
    );
    return new Uint8Array(bits);
  }

  async scrypt(
    _password: Uint8Array,
    _salt: Uint8Array,
    _params: ScryptParams,
    _keyLength: number,
  ): Promise<Uint8Array> {
    throw new CryptoError(
      'unsupported-algorithm',
      'WebCrypto has no scrypt; use PBKDF2 keys with this provider',
    );
  }

  async hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
    const k = await subtle().importKey('raw', bs(key), { name: 'HMAC', hash: webHash(hash) }, false, [
      'sign',
    ]);
    return new Uint8Array(await subtle().sign('HMAC', k, bs(data)));
  }

  async cbc(
    op: 'encrypt' | 'decrypt',
    cipher: CbcCipher,
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
  ): Promise<Uint8Array> {
    if (!cipher.startsWith('aes-'))
      throw new CryptoError('unsupported-algorithm', `WebCrypto has no ${cipher}`);
    const k = await subtle().importKey('raw', bs(key), 'AES-CBC', false, [op]);
    if (op === 'encrypt')
      return new Uint8Array(await subtle().encrypt({ name: 'AES-CBC', iv: bs(iv) }, k, bs(data)));
    try {
      return new Uint8Array(await subtle().decrypt({ name: 'AES-CBC', iv: bs(iv) }, k, bs(data)));
    } catch (e) {
      throw new CryptoError('bad-passphrase', 'decryption failed (wrong passphrase?)', { cause: e });
    }
  }
}

function defaultAlgFor(a: KeyAlgorithm): SignatureAlgorithm {
  switch (a.kind) {
    case 'ec':
      return { kind: 'ecdsa', hash: 'SHA-256' };
    case 'rsa':
      return { kind: 'rsa-pkcs1', hash: 'SHA-256' };
    case 'dsa':
      return { kind: 'dsa', hash: 'SHA-256' };
    default:
      return { kind: a.kind };
  }
}

/** A Map key for DER bytes: one UTF-16 unit per byte (injective). */
function latin1Key(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** The shared WebCrypto provider instance (uses `globalThis.crypto.subtle` at call time). */
export const webCrypto: WebCryptoProvider = new WebCryptoProvider();
export type { WebCryptoProvider };
