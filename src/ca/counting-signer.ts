import type { Signer } from '../crypto/signer.js';

/**
 * A Signer that counts the signatures it makes, around a real signer (it signs with the real key;
 * nothing is faked). Tests use it to prove that a refused request never reached a CA key, and the
 * service can export the counts as metrics. Pass `countingSigners()` as `KeyStore`'s `wrapSigner`.
 */
export class CountingSigner implements Signer {
  calls = 0;
  readonly signSync?: (tbs: Uint8Array) => Uint8Array;

  constructor(private readonly inner: Signer) {
    const s = inner.signSync;
    if (s) {
      this.signSync = (tbs) => {
        this.calls++;
        return s.call(inner, tbs);
      };
    }
  }

  get algorithm(): Signer['algorithm'] {
    return this.inner.algorithm;
  }

  get publicKey(): Uint8Array {
    return this.inner.publicKey;
  }

  sign(tbs: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (this.signSync) return this.signSync(tbs);
    this.calls++;
    return this.inner.sign(tbs);
  }
}

/** A `wrapSigner` hook that wraps every CA key in a CountingSigner; `total()` sums all of them. */
export function countingSigners(): {
  wrap: (s: Signer) => Signer;
  signers: CountingSigner[];
  total: () => number;
} {
  const signers: CountingSigner[] = [];
  return {
    wrap: (s) => {
      const c = new CountingSigner(s);
      signers.push(c);
      return c;
    },
    signers,
    total: () => signers.reduce((n, s) => n + s.calls, 0),
  };
}
