// Acceptance 4 (issue 2), X.509 layer: random bytes and mutated real certificates, CRLs and CSRs
// (bit flips, truncations, insertions, deletions, duplications, splices between objects) given
// to parseCertificate / parseCrl / parseCsr either parse — and then re-encode to the same bytes,
// unless a documented tolerance (corpus.ts TOLERANCES) explains the difference — or throw
// DerError / X509Error. Never another exception type.
// FLEETPKI_FC_SEED fixes the seed; FLEETPKI_FC_SCALE multiplies the run counts (default 1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Mutation, mutate, mutationArb } from '../der/mutate.js';
import { fuzzSeeds, type InputKind, roundTrip } from './corpus.js';

const seed = process.env.FLEETPKI_FC_SEED ? Number(process.env.FLEETPKI_FC_SEED) : undefined;
const scale = Number(process.env.FLEETPKI_FC_SCALE) || 1;
const params = (numRuns: number) => ({
  numRuns: Math.round(numRuns * scale),
  ...(seed !== undefined ? { seed } : {}),
});

// ---- seeds ----

const { certificate: certSeeds, crl: crlSeeds, csr: csrSeeds } = fuzzSeeds();

// ---- the property ----

const stats = { parsed: 0, rejected: 0, tolerated: 0 };

function check(kind: InputKind, input: Uint8Array): void {
  stats[roundTrip(kind, input)]++;
}

/** A mutation that may also splice in a slice of another seed (mixes real structures). */
type AnyMutation = Mutation | { op: 'splice'; from: number; at: number; n: number; src: number; m: number };

function mutationsArb(seeds: readonly Uint8Array[]): fc.Arbitrary<AnyMutation[]> {
  const splice = fc.record({
    op: fc.constant('splice' as const),
    from: fc.nat({ max: seeds.length - 1 }),
    at: fc.nat(),
    n: fc.nat({ max: 64 }),
    src: fc.nat(),
    m: fc.nat({ max: 64 }),
  });
  return fc.array(fc.oneof({ weight: 5, arbitrary: mutationArb }, { weight: 1, arbitrary: splice }), {
    minLength: 1,
    maxLength: 4,
  });
}

function apply(seeds: readonly Uint8Array[], b: Uint8Array, muts: readonly AnyMutation[]): Uint8Array {
  for (const m of muts) {
    if (m.op !== 'splice') {
      b = mutate(b, m);
      continue;
    }
    const other = seeds[m.from]!;
    const at = b.length ? m.at % b.length : 0;
    const src = other.length ? m.src % other.length : 0;
    const piece = other.subarray(src, src + m.m);
    const out = new Uint8Array(b.length - Math.min(m.n, b.length - at) + piece.length);
    out.set(b.subarray(0, at));
    out.set(piece, at);
    out.set(b.subarray(at + Math.min(m.n, b.length - at)), at + piece.length);
    b = out;
  }
  return b;
}

function mutatedProperty(kind: InputKind, seeds: readonly Uint8Array[]) {
  return fc.property(fc.nat({ max: seeds.length - 1 }), mutationsArb(seeds), (i, muts) =>
    check(kind, apply(seeds, seeds[i]!, muts)),
  );
}

describe('x509 property tests: parse* on hostile input', () => {
  it('seeds parse and re-encode exactly (or by a listed tolerance)', () => {
    assert.ok(certSeeds.length > 500 && crlSeeds.length > 150 && csrSeeds.length > 150);
    for (const s of certSeeds) check('certificate', s);
    for (const s of crlSeeds) check('crl', s);
    for (const s of csrSeeds) check('csr', s);
  });

  it('mutated certificates (8 000)', () =>
    fc.assert(mutatedProperty('certificate', certSeeds), params(8000)));
  it('mutated CRLs (3 000)', () => fc.assert(mutatedProperty('crl', crlSeeds), params(3000)));
  it('mutated CSRs (3 000)', () => fc.assert(mutatedProperty('csr', csrSeeds), params(3000)));

  it('random bytes, bare and inside a SEQUENCE header (3 × 1 000)', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // A plausible outer header makes the parsers look further in.
      fc.uint8Array({ minLength: 4, maxLength: 600 }).map((b) => {
        const out = Uint8Array.from([
          0x30,
          0x82,
          (b.length + 4) >> 8,
          (b.length + 4) & 0xff,
          0x30,
          0x82,
          b.length >> 8,
          b.length & 0xff,
          ...b,
        ]);
        return out;
      }),
    );
    for (const kind of ['certificate', 'crl', 'csr'] as const)
      fc.assert(
        fc.property(arb, (b) => check(kind, b)),
        params(1000),
      );
  });

  it('reports what the inputs did', (t) => {
    t.diagnostic(
      `parsed ${stats.parsed} (re-encoded differently by a listed tolerance: ${stats.tolerated}), rejected ${stats.rejected}`,
    );
    assert.ok(stats.parsed + stats.rejected >= 17_000 * scale);
  });
});
