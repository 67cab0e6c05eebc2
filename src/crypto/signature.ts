import type { SignatureAlgorithm } from './algorithms.js';
import { defaultProvider } from './default-provider.js';
import { CryptoError, type CryptoErrorCode } from './errors.js';
import type { CryptoProvider } from './provider.js';

/**
 * Signature verification entry points for the other layers.
 * `verifySignature` is synchronous (Node provider); `verifySignatureAsync` works everywhere.
 * Both return false for a wrong or malformed signature and throw `CryptoError` for a bad
 * question (see CryptoProvider.verify). `checkSignature` folds both into a result value.
 */
export function verifySignature(
  alg: SignatureAlgorithm,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  provider: CryptoProvider = defaultProvider(),
): boolean {
  return provider.verify(alg, spki, data, signature);
}

export function verifySignatureAsync(
  alg: SignatureAlgorithm,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  provider: CryptoProvider = defaultProvider(),
): Promise<boolean> {
  return provider.supportsSync
    ? Promise.resolve(provider.verify(alg, spki, data, signature))
    : provider.verifyAsync(alg, spki, data, signature);
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; code: 'bad-signature' | CryptoErrorCode; message: string };

/** Result-valued verification for validators: never throws for bad input. */
export async function checkSignature(
  alg: SignatureAlgorithm,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  provider: CryptoProvider = defaultProvider(),
): Promise<SignatureCheck> {
  try {
    if (await verifySignatureAsync(alg, spki, data, signature, provider)) return { ok: true };
    return { ok: false, code: 'bad-signature', message: 'signature does not verify' };
  } catch (e) {
    if (e instanceof CryptoError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

/** Synchronous `checkSignature` (needs a provider with `supportsSync`). */
export function checkSignatureSync(
  alg: SignatureAlgorithm,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  provider: CryptoProvider = defaultProvider(),
): SignatureCheck {
  try {
    if (provider.verify(alg, spki, data, signature)) return { ok: true };
    return { ok: false, code: 'bad-signature', message: 'signature does not verify' };
  } catch (e) {
    if (e instanceof CryptoError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}
