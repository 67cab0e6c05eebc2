/**
 * fleetpki/crypto for browsers, Deno, Bun and workers: everything but the `node:crypto`
 * provider (and the PKCS#11 signer, which needs a native module). The default provider is the
 * platform's WebCrypto (asynchronous: use `verifyPath`, not `verifyPathSync`).
 */

export {
  CURVES,
  type CurveName,
  checkAlgorithmFitsKey,
  defaultSignatureAlgorithm,
  type HashName,
  KEY_TYPES,
  type KeyAlgorithm,
  type KeyType,
  keyAlgorithmOfType,
  type SignatureAlgorithm,
} from './algorithms.js';
export { defaultProvider, setDefaultProvider } from './default-provider.js';
export { ecdsaDerToP1363, ecdsaP1363ToDer, readEcdsaSignature } from './ecdsa-sig.js';
export { CryptoError, type CryptoErrorCode } from './errors.js';
export type { Jwk } from './jwk.js';
export {
  type ExportOptions,
  exportKey,
  generateKeyPair,
  type ImportOptions,
  importKey,
  importPrivateKey,
  importPublicKey,
  type KeyFormat,
  type KeyPair,
  type PrivateKey,
  type PublicKey,
} from './keys.js';
export {
  DEFAULT_KDF_LIMITS,
  type EncryptOptions,
  type KdfLimits,
  type KdfOptions,
  PBKDF2_MIN_ITERATIONS,
  SCRYPT_DEFAULTS,
} from './pbes2.js';
export {
  type Pkcs12Attributes,
  type Pkcs12Contents,
  type Pkcs12Encryption,
  type Pkcs12Mac,
  type Pkcs12ReadOptions,
  type Pkcs12Structure,
  type Pkcs12WriteOptions,
  readPkcs12,
  readPkcs12Structure,
  writePkcs12,
} from './pkcs12.js';
export type { CbcCipher, CryptoProvider, RawKeyPair, ScryptParams, SigningKey } from './provider.js';
export {
  checkSignature,
  checkSignatureSync,
  type SignatureCheck,
  verifySignature,
  verifySignatureAsync,
} from './signature.js';
export { KeySigner, type KeySignerOptions, type Signer, signWith } from './signer.js';
export { webCrypto } from './webcrypto.js';
