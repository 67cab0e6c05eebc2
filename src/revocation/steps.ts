import type { CryptoProvider } from '../crypto/provider.js';
import { type Step, type Steps, step } from '../verify/steps.js';
import type { HashName, SignatureAlgorithm } from '../x509/algorithm.js';
import { RevocationError } from './errors.js';

/**
 * Revocation checks written once, run synchronously or asynchronously (the runner is
 * verify/steps.ts, which `verifyPath` uses too). A check is a generator
 * that yields a `Step` wherever it needs something from outside — a signature verified, a
 * digest, a CRL signer's path validated, an HTTP exchange — and receives the answer back.
 * `runSync` answers each step at once (the provider's synchronous `verify`/`digest`); `runAsync`
 * awaits it. A step with no synchronous form (the network) throws `async-required` under `runSync`.
 *
 *   function* checkSomething(): Steps<boolean> { return yield* verifyStep(crypto, alg, spki, tbs, sig); }
 *   const ok = runSync(checkSomething());        // or: await runAsync(checkSomething())
 */
export { runAsync, runSync, type Step, type Steps, step } from '../verify/steps.js';

/** A step that only exists asynchronously (HTTP): under `runSync` it is a typed error. */
export function asyncOnly<T>(what: string, run: () => Promise<T>): Step<T> {
  return {
    sync: () => {
      throw new RevocationError(
        'async-required',
        `${what} needs I/O; use the asynchronous check (verifyPath)`,
      );
    },
    async: run,
  };
}

export function verifyStep(
  crypto: CryptoProvider,
  alg: SignatureAlgorithm,
  spki: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
): Steps<boolean> {
  return step({
    sync: () => crypto.verify(alg, spki, data, signature),
    async: () => crypto.verifyAsync(alg, spki, data, signature),
  });
}

export function digestStep(crypto: CryptoProvider, hash: HashName, data: Uint8Array): Steps<Uint8Array> {
  return step({ sync: () => crypto.digest(hash, data), async: () => crypto.digestAsync(hash, data) });
}
