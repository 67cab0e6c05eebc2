import type { HashName, KeyAlgorithm, KeyType, SignatureAlgorithm } from './algorithms.js';

/**
 * The only door to cryptography for the portable core. Two implementations: `nodeCrypto`
 * (node:crypto; synchronous, the default on Node) and `webCrypto` (globalThis.crypto.subtle;
 * asynchronous only). Callers that can use a synchronous fast path check `supportsSync`
 * (path validation verifies many signatures; a Promise per signature costs more than a
 * P-256 verify on Node).
 *
 * Keys cross this boundary as DER bytes (SPKI, PKCS#8): providers cache their own handles.
 * Inputs are trusted to be well-formed only where stated; `verify*` do the strict pre-checks
 * (algorithm/key type, ECDSA DER and r/s range, RSA signature length) themselves.
 */
export interface CryptoProvider {
  readonly name: string;
  /** True when `digest`, `verify` and signing keys' `signSync` work synchronously. */
  readonly supportsSync: boolean;

  randomBytes(n: number): Uint8Array;
  /** Throws `sync-unsupported` unless `supportsSync`. */
  digest(hash: HashName, data: Uint8Array): Uint8Array;
  digestAsync(hash: HashName, data: Uint8Array): Promise<Uint8Array>;

  /**
   * Verifies `signature` over `data` with the key in `spki` (SubjectPublicKeyInfo DER).
   * Returns false for any signature that is wrong or malformed (non-DER ECDSA, r/s out of range,
   * wrong RSA length). Throws `CryptoError` when the question itself is bad: `algorithm-key-mismatch`,
   * `unsupported-algorithm`, `unsupported-key-type`, `bad-key` — path validation reports those
   * differently from a bad signature. `verify` throws `sync-unsupported` unless `supportsSync`.
   */
  verify(alg: SignatureAlgorithm, spki: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean;
  verifyAsync(
    alg: SignatureAlgorithm,
    spki: Uint8Array,
    data: Uint8Array,
    signature: Uint8Array,
  ): Promise<boolean>;

  /** A fresh key pair as PKCS#8 (unencrypted) and SPKI DER. */
  generateKeyPair(type: KeyType): Promise<RawKeyPair>;
  /** The SPKI of a PKCS#8 private key (needed for Ed25519 keys, whose PKCS#8 v1 omits it). */
  publicKeyFromPrivate(pkcs8: Uint8Array, algorithm: KeyAlgorithm): Promise<Uint8Array>;
  /**
   * Loads a PKCS#8 key for repeated signing with `alg` (the platform parses it once).
   * ECDSA signatures come out DER-encoded (X.509 needs DER, RFC 3279 §2.2.3).
   */
  importSigningKey(pkcs8: Uint8Array, algorithm: KeyAlgorithm, alg: SignatureAlgorithm): Promise<SigningKey>;

  /** RFC 8018 §5.2 PBKDF2 with HMAC-`hash`. */
  pbkdf2(
    password: Uint8Array,
    salt: Uint8Array,
    iterations: number,
    hash: HashName,
    keyLength: number,
  ): Promise<Uint8Array>;
  /** RFC 7914 scrypt; `unsupported-algorithm` where the platform has none (WebCrypto). */
  scrypt(
    password: Uint8Array,
    salt: Uint8Array,
    params: ScryptParams,
    keyLength: number,
  ): Promise<Uint8Array>;
  /** RFC 2104 HMAC-`hash` (the PKCS#12 MAC, RFC 7292 §4). */
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /**
   * CBC with PKCS#7 padding; a padding failure on decrypt throws `bad-passphrase`. A cipher the
   * platform lacks throws `unsupported-algorithm` (RC2 needs OpenSSL's legacy provider on Node,
   * and WebCrypto has neither RC2 nor DES).
   */
  cbc(
    op: 'encrypt' | 'decrypt',
    cipher: CbcCipher,
    key: Uint8Array,
    iv: Uint8Array,
    data: Uint8Array,
  ): Promise<Uint8Array>;
}

export interface RawKeyPair {
  pkcs8: Uint8Array;
  spki: Uint8Array;
}

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * Block ciphers in CBC mode. RC2 (RFC 2268) appears only when reading legacy PKCS#12 files
 * (`openssl pkcs12 -legacy` encrypts certificates with 40-bit RC2); it is never written.
 */
export type CbcCipher =
  | 'aes-128-cbc'
  | 'aes-192-cbc'
  | 'aes-256-cbc'
  | 'des-ede3-cbc'
  | 'rc2-40-cbc'
  | 'rc2-cbc';

/** A platform key ready to sign with one algorithm. */
export interface SigningKey {
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** Present when the provider signs synchronously (Node). */
  signSync?: (data: Uint8Array) => Uint8Array;
}
