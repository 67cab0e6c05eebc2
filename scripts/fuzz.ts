// `npm run fuzz [-- --iterations N --seconds S --seed X]` (issue 2, acceptance 4): millions of
// mutated certificates, CRLs and CSRs (bit flips, truncations, insertions, deletions,
// duplications, splices between objects) plus large hostile inputs up to 1 MiB (depth bombs,
// huge CRLs, names with thousands of attributes, random megabytes behind a valid header) given
// to parseCertificate / parseCrl / parseCsr and the schema-less walker.
//
// Property (test/x509/corpus.ts `roundTrip`): parse and re-encode to the same bytes (or differ
// only by a documented tolerance), or throw DerError/X509Error. Anything else is a finding:
// the input is saved to .tmp/fuzz-crash-<n>.der. Reports throughput and the slowest input
// (re-timed, median of 5), saved to .tmp/fuzz-slowest.der. Goal: every input ≤ 1 MiB under 20 ms.
// Exit 1 on any finding or if the slowest input takes ≥ 20 ms.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DerError, encodeDer, walkDer } from '../src/der/index.js';
import { encodeSigned, encodeTbsCertList, parseCertificate } from '../src/x509/index.js';
import { type Mutation, mutate, SPECIAL_BYTES } from '../test/der/mutate.js';
import { fuzzSeeds, type InputKind, PropertyViolation, roundTrip } from '../test/x509/corpus.js';

const { values: args } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000000' },
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run fuzz -- [--iterations N] [--seconds S] [--seed X]');
  process.exit(0);
}
const maxIterations = Number(args.iterations);
const maxMs = Number(args.seconds) * 1000;
const seed = args.seed !== undefined ? Number(args.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const GOAL_MS = 20;
const MAX_INPUT = 1024 * 1024;

const outDir = fileURLToPath(new URL('../.tmp/', import.meta.url));
mkdirSync(outDir, { recursive: true });

// ---- PRNG (xorshift32: reproducible with --seed) ----
let s = seed || 1;
function rnd(): number {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s;
}
const below = (n: number) => (n <= 0 ? 0 : rnd() % n);

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff;
  return b;
}

function randomMutation(): Mutation {
  switch (below(6)) {
    case 0:
      return { op: 'flip', at: rnd(), bit: below(8) };
    case 1:
      return { op: 'cut', at: rnd() };
    case 2:
      return { op: 'insert', at: rnd(), bytes: randomBytes(1 + below(4)) };
    case 3:
      return { op: 'set', at: rnd(), v: SPECIAL_BYTES[below(SPECIAL_BYTES.length)]! };
    case 4:
      return { op: 'delete', at: rnd(), n: 1 + below(8) };
    default:
      return { op: 'duplicate', at: rnd(), n: 1 + below(16) };
  }
}

// ---- inputs ----

console.log(`fuzz: seed ${seed}; loading seeds…`);
const seeds = fuzzSeeds();
const KINDS: InputKind[] = ['certificate', 'crl', 'csr'];

/** Minimal DER length octets. */
function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** SEQUENCEs nested as deep as fits in `size` bytes (each level wraps the previous). */
function depthBomb(depth: number): Uint8Array {
  const sizes = new Array<number>(depth);
  sizes[depth - 1] = 2;
  for (let i = depth - 2; i >= 0; i--) sizes[i] = 1 + lengthBytes(sizes[i + 1]!).length + sizes[i + 1]!;
  const out = new Uint8Array(sizes[0]!);
  let p = 0;
  for (let i = 0; i < depth; i++) {
    const hdr = [0x30, ...lengthBytes(i + 1 < depth ? sizes[i + 1]! : 0)];
    out.set(hdr, p);
    p += hdr.length;
  }
  return out;
}

/** A CRL with `n` revoked entries (~30 bytes each), from a real CRL's header fields. */
function hugeCrl(n: number): Uint8Array {
  const entries = [];
  for (let i = 0; i < n; i++)
    entries.push({
      serialNumber: Uint8Array.of(0x01, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
      revocationDate: 1_700_000_000_000,
    });
  const tbs = encodeTbsCertList({
    version: 2,
    signature: encodeDer((w) => w.sequence((w) => w.oid('1.2.840.10045.4.3.2'))),
    issuer: encodeDer((w) => w.sequence(() => {})),
    thisUpdate: 1_700_000_000_000,
    nextUpdate: 1_800_000_000_000,
    revoked: entries,
  });
  return encodeSigned(
    tbs,
    encodeDer((w) => w.sequence((w) => w.oid('1.2.840.10045.4.3.2'))),
    new Uint8Array(70),
  );
}

/** A certificate whose subject holds `n` attributes (cut to at most 1 MiB by the caller's mutations). */
function hugeNameCert(n: number): Uint8Array {
  const base = parseCertificate(seeds.certificate[0]!);
  const rdn = encodeDer((w) => w.setOf((w) => w.sequence((w) => w.oid('2.5.4.3').utf8String('x'))));
  const nameBody = new Uint8Array(rdn.length * n);
  for (let i = 0; i < n; i++) nameBody.set(rdn, i * rdn.length);
  const name = Uint8Array.from([0x30, ...lengthBytes(nameBody.length), ...nameBody]);
  // Splice the big name in place of the subject: tbs = everything before subject + name + after.
  const tbs = base.tbs;
  const subj = base.subject.der;
  const at = subj.byteOffset - tbs.byteOffset;
  const body = tbs.subarray(tbs[1]! & 0x80 ? 2 + (tbs[1]! & 0x7f) : 2);
  const bodyAt = at - (tbs.length - body.length);
  const newBody = Uint8Array.from([
    ...body.subarray(0, bodyAt),
    ...name,
    ...body.subarray(bodyAt + subj.length),
  ]);
  const newTbs = Uint8Array.from([0x30, ...lengthBytes(newBody.length), ...newBody]);
  return encodeSigned(newTbs, base.signatureAlgorithm.der, base.signatureValue);
}

/** Random bytes behind a plausible Certificate/TBS header, of total size `n`. */
function headedRandom(n: number): Uint8Array {
  const inner = randomBytes(Math.max(0, n - 16));
  const tbs = [0x30, ...lengthBytes(inner.length)];
  const outer = [0x30, ...lengthBytes(inner.length + tbs.length)];
  return Uint8Array.from([...outer, ...tbs, ...inner]);
}

console.log('fuzz: building large inputs (≤ 1 MiB)…');
const big: { name: string; der: Uint8Array; kind: InputKind | 'walk' }[] = (
  [
    { name: 'depth bomb 100 000', der: depthBomb(100_000), kind: 'walk' },
    { name: 'depth bomb as certificate', der: depthBomb(150_000), kind: 'certificate' },
    { name: 'CRL with 30 000 entries', der: hugeCrl(30_000), kind: 'crl' },
    { name: 'certificate with a 16 000-attribute subject', der: hugeNameCert(16_000), kind: 'certificate' },
    { name: 'certificate with a 60 000-attribute subject', der: hugeNameCert(60_000), kind: 'certificate' },
    { name: 'random MiB behind a header', der: headedRandom(MAX_INPUT), kind: 'certificate' },
  ] as const
).filter((b) => b.der.length <= MAX_INPUT);

// ---- the loop ----

interface Slowest {
  ms: number;
  kind: string;
  size: number;
  input: Uint8Array;
}
/** The slowest inputs as met (a GC pause can inflate one; all of them are re-timed at the end). */
const TOP = 8;
const slowestMet: Slowest[] = [];
const counts = { parsed: 0, rejected: 0, tolerated: 0 };
let findings = 0;
let n = 0;

/** Time of the parse alone (the re-encoding check is not part of the 20 ms goal). */
const timing = { parseMs: 0 };

function runOne(kind: InputKind | 'walk', input: Uint8Array): void {
  timing.parseMs = 0;
  try {
    if (kind === 'walk') {
      const t0 = performance.now();
      try {
        walkDer(input);
        counts.parsed++;
      } catch (e) {
        if (!(e instanceof DerError))
          throw new PropertyViolation(`walkDer: ${e instanceof Error ? `${e.name}: ${e.message}` : e}`);
        counts.rejected++;
      } finally {
        timing.parseMs = performance.now() - t0;
      }
    } else counts[roundTrip(kind, input, timing)]++;
  } catch (e) {
    findings++;
    const file = join(outDir, `fuzz-crash-${findings}.der`);
    writeFileSync(file, input);
    console.log(
      `FINDING ${findings}: ${e instanceof Error ? e.message : String(e)} — input saved to ${file}`,
    );
  }
  const ms = timing.parseMs;
  if (slowestMet.length < TOP || ms > slowestMet[slowestMet.length - 1]!.ms) {
    slowestMet.push({ ms, kind, size: input.length, input });
    slowestMet.sort((a, b) => b.ms - a.ms);
    if (slowestMet.length > TOP) slowestMet.pop();
  }
}

const start = performance.now();
let lastReport = start;
for (const b of big) runOne(b.kind, b.der);
while (n < maxIterations && performance.now() - start < maxMs) {
  for (let k = 0; k < 256 && n < maxIterations; k++, n++) {
    const r = below(1000);
    if (r < 4) {
      // Occasionally: a large input, mutated.
      const b = big[below(big.length)]!;
      runOne(b.kind, mutate(b.der, randomMutation()));
      continue;
    }
    if (r < 30) {
      runOne(KINDS[below(3)]!, randomBytes(below(2048)));
      continue;
    }
    const kind = KINDS[r % 10 < 6 ? 0 : r % 10 < 8 ? 1 : 2]!;
    const pool = seeds[kind];
    let input = pool[below(pool.length)]!;
    const muts = 1 + below(4);
    for (let m = 0; m < muts; m++) {
      if (below(6) === 0) {
        // Splice a slice of another seed in.
        const other = pool[below(pool.length)]!;
        const at = below(input.length);
        const from = below(other.length);
        const piece = other.subarray(from, from + below(64));
        const cut = Math.min(below(64), input.length - at);
        const out = new Uint8Array(input.length - cut + piece.length);
        out.set(input.subarray(0, at));
        out.set(piece, at);
        out.set(input.subarray(at + cut), at + piece.length);
        input = out;
      } else input = mutate(input, randomMutation());
    }
    runOne(kind, input);
  }
  const now = performance.now();
  if (now - lastReport > 5000) {
    lastReport = now;
    console.log(
      `  ${n} inputs, ${Math.round(n / ((now - start) / 1000))}/s; findings ${findings}; slowest met ${slowestMet[0]?.ms.toFixed(2)} ms (${slowestMet[0]?.kind}, ${slowestMet[0]?.size} B)`,
    );
  }
}
const secs = (performance.now() - start) / 1000;

// Re-time the slowest inputs (median of 5 each) so a GC pause or a busy machine does not count
// against an input; the worst median is the figure reported.
function retime(x: Slowest): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    try {
      if (x.kind === 'walk') walkDer(x.input);
      else roundTrip(x.kind as InputKind, x.input, timing);
    } catch {
      // findings were reported above
    }
    times.push(x.kind === 'walk' ? performance.now() - t0 : timing.parseMs);
  }
  times.sort((a, b) => a - b);
  return times[2]!;
}
let slowest = slowestMet[0]!;
let retimed = -1;
for (const x of slowestMet) {
  const t = retime(x);
  if (t > retimed) {
    retimed = t;
    slowest = x;
  }
}
const slowFile = join(outDir, 'fuzz-slowest.der');
writeFileSync(slowFile, slowest.input);

console.log(
  `\nfuzz: ${n + big.length} inputs in ${secs.toFixed(1)} s (${Math.round(n / secs)}/s), seed ${seed}`,
);
console.log(
  `  parsed ${counts.parsed} (by a listed tolerance: ${counts.tolerated}), rejected ${counts.rejected}`,
);
console.log(`  findings (non-typed exceptions, unexplained re-encodings): ${findings}`);
console.log(
  `  slowest input (parse time): ${slowest.kind}, ${slowest.size} bytes, ${slowest.ms.toFixed(2)} ms when met, ${retimed.toFixed(2)} ms re-timed (median of 5) — saved to ${slowFile}`,
);
console.log(`  goal: every input ≤ 1 MiB under ${GOAL_MS} ms: ${retimed < GOAL_MS ? 'met' : 'NOT met'}`);
process.exit(findings > 0 || retimed >= GOAL_MS ? 1 : 0);
