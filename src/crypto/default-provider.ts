import { CryptoError } from './errors.js';
import type { CryptoProvider } from './provider.js';

/**
 * The process-wide provider used when a call does not pass one. `crypto/index.ts` installs
 * `nodeCrypto` when it runs on Node; elsewhere call `setDefaultProvider(webCrypto)` first.
 * (This file imports no platform module, so the portable core can depend on it.)
 */
let current: CryptoProvider | undefined;

export function setDefaultProvider(p: CryptoProvider): void {
  current = p;
}

export function defaultProvider(): CryptoProvider {
  if (!current)
    throw new CryptoError('unsupported-algorithm', 'no default CryptoProvider set (call setDefaultProvider)');
  return current;
}

/** Installs `p` unless a default is already set (used by entry points). */
export function setDefaultProviderIfUnset(p: CryptoProvider): void {
  current ??= p;
}
