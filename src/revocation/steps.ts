import type { CryptoProvider } from '../crypto/provider.js';
import type { HashName, SignatureAlgorithm } from '../x509/algorithm.js';
import { RevocationError } from './errors.js';

/**
 * Revocation checks written once, run synchronously or asynchronously. A check is a generator
 * that yields a `Step` wherever it needs something from outside — a signature verified, a
 * digest, a CRL signer's path validated, an HTTP exchange — and receives the answer back.
 * `runSync` answers each step at once (the provider's synchronous `verify`/`digest`); `runAsync`
 * awaits it. A step with no synchronous form (the network) throws `async-required` under `runSync`.
 *
 *   function* checkSomething(): Steps<boolean> { return yield* verifyStep(crypto, alg, spki, tbs, sig); }
 *   const ok = runSync(checkSomething());        // or: await runAsync(checkSomething())
 */
export interface Step<T> {
  sync(): T;
  async(): Promise<T>;
}

export type Steps<T> = Generator<Step<unknown>, T, unknown>;

export function* step<T>(s: Step<T>): Steps<T> {
  return (yield s as Step<unknown>) as T;
}

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

export function runSync<T>(g: Steps<T>): T {
  let r = g.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = r.value.sync();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

export async function runAsync<T>(g: Steps<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value.async();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
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
