import { defaultSignatureAlgorithm, type SignatureAlgorithm } from './algorithms.js';
import { defaultProvider } from './default-provider.js';
import { CryptoError } from './errors.js';
import type { PrivateKey } from './keys.js';
import type { CryptoProvider, SigningKey } from './provider.js';

/**
 * What builders sign with. `sign` may be synchronous or not; a signer that can sign
 * synchronously also exposes `signSync`, which builders prefer (no Promise per certificate:
 * issuance runs near the raw `crypto.sign` rate). Signatures are in X.509 form: ECDSA as a DER
 * Ecdsa-Sig-Value (RFC 3279 §2.2.3), RSA and EdDSA as raw octets.
 *
 * Implementations: `KeySigner` (in-memory key), `Pkcs11Signer` (key inside a PKCS#11 token).
 * A custom signer (cloud KMS, …) only has to fill these three members.
 */
export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  /** The signer's SubjectPublicKeyInfo DER (what goes into the issued certificate/CSR). */
  readonly publicKey: Uint8Array;
  sign(tbs: Uint8Array): Uint8Array | Promise<Uint8Array>;
  signSync?(tbs: Uint8Array): Uint8Array;
}

/** Options of `KeySigner.create`. */
export interface KeySignerOptions {
  /** Default: `defaultSignatureAlgorithm(key.algorithm)` (P-256→SHA-256, P-384→SHA-384, P-521→SHA-512, RSA→PKCS#1 v1.5 SHA-256, EdDSA pure). */
  algorithm?: SignatureAlgorithm;
  provider?: CryptoProvider;
}

/**
 * Signs with an in-memory private key. The platform key is created once, in `create`; each
 * `signSync` is then a single platform call.
 *
 *   const signer = await KeySigner.create(privateKey);
 *   const sig = signer.signSync ? signer.signSync(tbs) : await signer.sign(tbs);
 */
export class KeySigner implements Signer {
  readonly signSync?: (tbs: Uint8Array) => Uint8Array;

  private constructor(
    readonly algorithm: SignatureAlgorithm,
    readonly publicKey: Uint8Array,
    private readonly key: SigningKey,
  ) {
    if (key.signSync) this.signSync = key.signSync;
  }

  static async create(key: PrivateKey, options: KeySignerOptions = {}): Promise<KeySigner> {
    if (key.type !== 'private') throw new CryptoError('bad-format', 'KeySigner needs a private key');
    const algorithm = options.algorithm ?? defaultSignatureAlgorithm(key.algorithm);
    const p = options.provider ?? defaultProvider();
    const handle = await p.importSigningKey(key.pkcs8, key.algorithm, algorithm);
    return new KeySigner(algorithm, key.spki, handle);
  }

  sign(tbs: Uint8Array): Uint8Array | Promise<Uint8Array> {
    return this.signSync ? this.signSync(tbs) : this.key.sign(tbs);
  }
}

/** Signs with any Signer, awaiting only when it is asynchronous. */
export function signWith(signer: Signer, tbs: Uint8Array): Uint8Array | Promise<Uint8Array> {
  return signer.signSync ? signer.signSync(tbs) : signer.sign(tbs);
}
