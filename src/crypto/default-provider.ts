import { CryptoError } from './errors.js';
import type { CryptoProvider } from './provider.js';
import { webCrypto } from './webcrypto.js';

/**
 * The process-wide provider used when a call does not pass one. `crypto/index.ts` installs
 * `nodeCrypto` when it runs on Node; elsewhere WebCrypto is used unless another is set.
 * (This file imports no platform module, so the portable core can depend on it.)
 */
let current: CryptoProvider | undefined;

export function setDefaultProvider(p: CryptoProvider): void {
  current = p;
}

export function defaultProvider(): CryptoProvider {
  if (!current) {
    // Nothing installed (a browser/edge build, which never imports the node:crypto provider):
    // fall back to the platform's WebCrypto. Chosen lazily, so a Node entry point that installs
    // `nodeCrypto` while its modules load always wins.
    if (typeof globalThis.crypto?.subtle === 'undefined')
      throw new CryptoError(
        'unsupported-algorithm',
        'no default CryptoProvider set (call setDefaultProvider)',
      );
    current = webCrypto;
  }
  return current;
}

/** Installs `p` unless a default is already set (used by entry points). */
export function setDefaultProviderIfUnset(p: CryptoProvider): void {
  current ??= p;
}
