// Acceptance 4 (issue 2), X.509 layer: random bytes and mutated real certificates, CRLs and CSRs
// (bit flips, truncations, insertions, deletions, duplications, splices between objects) given
// to parseCertificate / parseCrl / parseCsr either parse — and then re-encode to the same bytes,
// unless a documented tolerance (corpus.ts TOLERANCES) explains the difference — or throw
// DerError / X509Error. Never another exception type.
// FLEETPKI_FC_SEED fixes the seed; FLEETPKI_FC_SCALE multiplies the run counts (default 1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { bytesEqual, encodeDer, OID } from '../../src/der/index.js';
import { decodePem } from '../../src/pem/index.js';
import {
  type Certificate,
  type CertificateList,
  type CertificationRequest,
  encodeCsrInfo,
  encodeSigned,
  isDecodeError,
  parseCertificate,
  parseCrl,
  parseCsr,
  reencodeCertificate,
  reencodeCrl,
  reencodeCsr,
} from '../../src/x509/index.js';
import { type Mutation, mutate, mutationArb } from '../der/mutate.js';
import {
  certificateTolerances,
  crlTolerances,
  csrTolerances,
  debianCertificates,
  limboItems,
  pkitsItems,
  sample,
  TOLERANCES,
} from './corpus.js';

const seed = process.env.FLEETPKI_FC_SEED ? Number(process.env.FLEETPKI_FC_SEED) : undefined;
const scale = Number(process.env.FLEETPKI_FC_SCALE) || 1;
const params = (numRuns: number) => ({
  numRuns: Math.round(numRuns * scale),
  ...(seed !== undefined ? { seed } : {}),
});

// ---- seeds ----

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const certSeeds: Uint8Array[] = [
  ...debianCertificates().map((i) => i.der),
  ...pkitsItems()
    .filter((i) => i.kind === 'certificate')
    .map((i) => i.der),
  ...sample(
    limboItems().filter((i) => i.kind === 'certificate'),
    300,
  ).map((i) => i.der),
].filter((der) => parses(() => parseCertificate(der)));

const crlSeeds: Uint8Array[] = [
  ...pkitsItems()
    .filter((i) => i.kind === 'crl')
    .map((i) => i.der),
  ...limboItems()
    .filter((i) => i.kind === 'crl')
    .map((i) => i.der),
  decodePem(readFileSync(`${examples}fleet-issuing-1.crl.pem`, 'latin1'))[0]!.der,
].filter((der) => parses(() => parseCrl(der)));

/** CSRs: the sample one, plus one per seed certificate (its subject, key and extensions; some with a challengePassword). */
const csrSeeds: Uint8Array[] = [
  decodePem(readFileSync(`${examples}sensor-0043.csr.pem`, 'latin1'))[0]!.der,
  ...certSeeds.slice(0, 200).flatMap((der, i) => {
    const c = parseCertificate(der);
    const pw = encodeDer((w) => w.utf8String(`pw-${i}`));
    const info = encodeCsrInfo({
      subject: c.subject,
      subjectPublicKeyInfo: c.subjectPublicKeyInfo.der,
      attributes: i % 3 === 0 ? [{ type: OID.challengePassword, values: [pw] }] : [],
      extensions: c.extensions,
    });
    const csr = encodeSigned(info, c.signatureAlgorithm.der, c.signatureValue);
    return parses(() => parseCsr(csr)) ? [csr] : [];
  }),
];

function parses(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

// ---- the property ----

type Kind = 'certificate' | 'crl' | 'csr';

const PARSE: Record<Kind, (b: Uint8Array) => Certificate | CertificateList | CertificationRequest> = {
  certificate: parseCertificate,
  crl: parseCrl,
  csr: parseCsr,
};

const stats = { parsed: 0, rejected: 0, tolerated: 0 };

/** Parse; on success the re-encoding must equal the input or be explained by a tolerance. */
function check(kind: Kind, input: Uint8Array): void {
  let obj: Certificate | CertificateList | CertificationRequest;
  try {
    obj = PARSE[kind](input);
  } catch (e) {
    if (isDecodeError(e)) {
      stats.rejected++;
      return;
    }
    throw new Error(
      `${kind}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not a DerError/X509Error)`,
    );
  }
  stats.parsed++;
  let re: Uint8Array;
  let tol: Set<string>;
  if (kind === 'certificate') {
    re = reencodeCertificate(obj as Certificate);
    if (bytesEqual(re, input)) return;
    tol = certificateTolerances(obj as Certificate);
  } else if (kind === 'crl') {
    re = reencodeCrl(obj as CertificateList);
    if (bytesEqual(re, input)) return;
    tol = crlTolerances(obj as CertificateList);
  } else {
    re = reencodeCsr(obj as CertificationRequest);
    if (bytesEqual(re, input)) return;
    tol = csrTolerances(obj as CertificationRequest);
  }
  stats.tolerated++;
  assert.ok(tol.size > 0, `${kind}: accepted, but re-encodes differently and no known tolerance explains it`);
  for (const t of tol) assert.ok(t in TOLERANCES, `${kind}: undocumented tolerance ${t}`);
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

function mutatedProperty(kind: Kind, seeds: readonly Uint8Array[]) {
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
