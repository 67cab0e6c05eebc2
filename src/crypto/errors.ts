/** Errors raised by `crypto/`: one class, a stable `code`, a human message that may change. */
export type CryptoErrorCode =
  /** The key's algorithm, curve or size is not one fleetpki handles. */
  | 'unsupported-key-type'
  /** The signature, hash, KDF or cipher algorithm is not supported (by fleetpki or this provider). */
  | 'unsupported-algorithm'
  /** The signature algorithm does not fit the key (e.g. ECDSA with an RSA key). */
  | 'algorithm-key-mismatch'
  /** Key bytes are malformed or inconsistent (bad DER, wrong lengths, public part not matching). */
  | 'bad-key'
  /** The requested import/export format does not apply to this key (e.g. SEC1 for an RSA key). */
  | 'bad-format'
  /** An encrypted key was given without a passphrase. */
  | 'passphrase-required'
  /** Decryption failed: wrong passphrase (or a corrupted ciphertext; the two are indistinguishable). */
  | 'bad-passphrase'
  /** The EncryptedPrivateKeyInfo or its PBES2 parameters are malformed. */
  | 'bad-encrypted-key'
  /** A PKCS#12 (RFC 7292) file is malformed, or BER where DER is required. */
  | 'bad-pkcs12'
  /** KDF parameters in an encrypted key exceed the configured caps (a hostile file could hang us). */
  | 'kdf-limit'
  /** A synchronous operation was requested from a provider that is only asynchronous (WebCrypto). */
  | 'sync-unsupported'
  /** The platform refused to sign. */
  | 'sign-failed'
  /** A PKCS#11 call failed (the module's CKR_* name is in the message). */
  | 'pkcs11-error'
  /** No key with the requested label/id (or no token with the label) was found. */
  | 'key-not-found'
  /**
   * An optional dependency the feature needs is not installed or does not load (the PKCS#11
   * signer's `pkcs11js`); the message names the package and how to install it.
   */
  | 'missing-dependency'
  /** A `VerifyPool` thread could not be started (its script did not load, or it exited). */
  | 'thread-failed';

/** The error `crypto/` throws: a `code` from `CryptoErrorCode` and a message for humans. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
