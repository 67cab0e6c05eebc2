/**
 * `npm run conformance [-- --filter PREFIX] [--suite limbo|pkits] [--no-default-run] [--update-floor] [--quiet]`
 *
 * Runs x509-limbo (../shared/testdata/x509-limbo/limbo.json) and NIST PKITS
 * (../shared/testdata/pkits/manifest.json) through `verifyPath` and classifies every case as
 * pass / fail (unexpected) / skip (with reason) / divergence (listed with a reason in
 * conformance/divergences.json). Prints totals per limbo family and PKITS section, writes every
 * verdict to conformance-results.json, and exits non-zero on any unexpected result or when a
 * pass count drops below conformance/floor.json.
 *
 * Limbo runs twice: each case under the profile it was written for (`webpki::` → webpki,
 * `rfc5280::` → rfc5280 with RFC 5280's §4 certificate-profile rules and the trust anchor's
 * constraints switched on, others → iot), then every case under the single default profile (iot):
 * those without a `conflicts_with` partner are classified (and floored), the whole set gives the
 * single-profile figure. PKITS runs under the plain rfc5280 profile (RFC 5280 §6.1), no overrides.
 *
 * The summary gives, beside the pass counts, the SUCCESS-expected cases on their own and, for the
 * families where the reason matters (REASON_FAMILIES: name constraints, EKU, basic constraints,
 * pathLen, policies), how many rejections carried the code for what the case tests. Every figure
 * of the summary is floored: `--update-floor` raises each to max(floor, this run), never lowers one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CaseResult,
  loadLimbo,
  loadPkits,
  raiseFloor,
  reasonFigures,
  runLimboCase,
  runPkitsCase,
  type Verdict,
} from './conformance-lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = opt('--filter') ?? '';
const suite = opt('--suite');
const quiet = args.includes('--quiet');
const updateFloor = args.includes('--update-floor');
const defaultRun = !args.includes('--no-default-run');

interface Divergence {
  suite: 'limbo' | 'limbo-default' | 'pkits';
  id: string;
  reason: string;
}
const divergences: Divergence[] = JSON.parse(
  readFileSync(join(root, 'conformance/divergences.json'), 'utf8'),
).divergences;
const divKey = (s: string, id: string) => `${s}\u0000${id}`;
const divMap = new Map(divergences.map((d) => [divKey(d.suite, d.id), d.reason]));

type Totals = Record<Verdict, number>;
const zero = (): Totals => ({ pass: 0, fail: 0, skip: 0, divergence: 0 });
const all: Record<string, CaseResult[]> = {};
const unexpected: string[] = [];
const stale: string[] = [];

function classify(suiteName: Divergence['suite'], r: CaseResult): CaseResult {
  const reason = divMap.get(divKey(suiteName, r.id));
  if (reason !== undefined) {
    if (r.verdict === 'fail') return { ...r, verdict: 'divergence', reason };
    if (r.verdict === 'pass') stale.push(`${suiteName} ${r.id}`);
  }
  if (r.verdict === 'fail') unexpected.push(`${suiteName} ${r.id}: expected ${r.expected}, got ${r.got}`);
  return r;
}

function group(results: CaseResult[], key: (r: CaseResult) => string): Map<string, Totals> {
  const m = new Map<string, Totals>();
  for (const r of results) {
    const k = key(r);
    const t = m.get(k) ?? zero();
    t[r.verdict]++;
    m.set(k, t);
  }
  return new Map([...m].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true })));
}

function printTable(title: string, m: Map<string, Totals>): Totals {
  const total = zero();
  console.log(`\n${title}`);
  console.log(
    `  ${'group'.padEnd(34)} ${'pass'.padStart(6)} ${'fail'.padStart(6)} ${'skip'.padStart(6)} ${'diverg'.padStart(6)}`,
  );
  for (const [k, t] of m) {
    console.log(
      `  ${k.padEnd(34)} ${String(t.pass).padStart(6)} ${String(t.fail).padStart(6)} ${String(t.skip).padStart(6)} ${String(t.divergence).padStart(6)}`,
    );
    for (const v of Object.keys(total) as Verdict[]) total[v] += t[v];
  }
  console.log(
    `  ${'TOTAL'.padEnd(34)} ${String(total.pass).padStart(6)} ${String(total.fail).padStart(6)} ${String(total.skip).padStart(6)} ${String(total.divergence).padStart(6)}`,
  );
  return total;
}

const family = (id: string) => {
  const parts = id.split('::');
  return parts.length > 2 ? `${parts[0]}::${parts[1]}` : parts[0]!;
};

const started = Date.now();
const totals: Record<string, Totals> = {};
let iotAll: { pass: number; cases: number } | undefined;

if (!suite || suite === 'limbo') {
  const cases = loadLimbo(join(root, '../shared/testdata/x509-limbo/limbo.json')).filter((c) =>
    c.id.startsWith(filter),
  );
  const t0 = Date.now();
  const results: CaseResult[] = [];
  for (const c of cases) results.push(classify('limbo', await runLimboCase(c, 'own')));
  const ms = Date.now() - t0;
  all.limbo = results;
  totals.limbo = printTable(
    `x509-limbo, each case under its own profile (${cases.length} cases, ${ms} ms)`,
    group(results, (r) => family(r.id)),
  );
  if (defaultRun) {
    const t1 = Date.now();
    const dres: CaseResult[] = [];
    for (const c of cases)
      if (!c.conflicts_with?.length) dres.push(classify('limbo-default', await runLimboCase(c, 'default')));
    all['limbo-default'] = dres;
    totals['limbo-default'] = printTable(
      `x509-limbo, non-conflicting cases under the default profile (iot) (${dres.length} cases, ${Date.now() - t1} ms)`,
      group(dres, (r) => family(r.id)),
    );
    // The single-default-profile figure: iot for every case, the conflicting pairs included
    // (informational: one of each pair must fail under any single profile).
    let conflictingPass = 0;
    let conflicting = 0;
    for (const c of cases)
      if (c.conflicts_with?.length) {
        conflicting++;
        if ((await runLimboCase(c, 'default')).verdict === 'pass') conflictingPass++;
      }
    iotAll = { pass: totals['limbo-default'].pass + conflictingPass, cases: dres.length + conflicting };
  }
  const slow = results.filter((r) => r.ms > 500);
  if (slow.length)
    console.log(`\nslow limbo cases (> 500 ms): ${slow.map((r) => `${r.id} ${r.ms} ms`).join(', ')}`);
}

if (!suite || suite === 'pkits') {
  const { manifest, dir } = loadPkits(join(root, '../shared/testdata/pkits'));
  const runs = manifest.tests.filter((t) => t.id.startsWith(filter));
  const t0 = Date.now();
  const results: CaseResult[] = [];
  for (const t of runs) results.push(classify('pkits', await runPkitsCase(t, dir, manifest)));
  all.pkits = results;
  const bySection = group(results, (r) => r.id.split('.').slice(0, 2).join('.'));
  totals.pkits = printTable(`NIST PKITS (${runs.length} runs, ${Date.now() - t0} ms)`, bySection);
}

writeFileSync(
  join(root, 'conformance-results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), filter, totals, results: all }, null, 1)}\n`,
);

if (!quiet) {
  const reasons = new Map<string, number>();
  for (const list of Object.values(all))
    for (const r of list) if (r.verdict === 'skip') reasons.set(r.reason!, (reasons.get(r.reason!) ?? 0) + 1);
  if (reasons.size) {
    console.log('\nskips:');
    for (const [k, v] of reasons) console.log(`  ${v} × ${k}`);
  }
  const divs = Object.entries(all).flatMap(([s, list]) =>
    list.filter((r) => r.verdict === 'divergence').map((r) => `${s} ${r.id}: ${r.reason}`),
  );
  if (divs.length) console.log(`\nknown divergences (${divs.length}):\n  ${divs.join('\n  ')}`);
}
if (stale.length)
  console.log(
    `\nlisted as divergences but now passing (remove them from divergences.json):\n  ${stale.join('\n  ')}`,
  );

let failed = false;
if (unexpected.length) {
  failed = true;
  console.log(`\nUNEXPECTED RESULTS (${unexpected.length}):\n  ${unexpected.slice(0, 200).join('\n  ')}`);
}

// ---- what the numbers mean ------------------------------------------------------------------
// Beside the pass counts: the SUCCESS-expected cases alone (a verifier that rejects everything
// passes every FAILURE-expected case), and for the families where the reason matters, how many
// rejections carried the code for what the case tests.
const measured: Record<string, number> = {};
for (const [s, t] of Object.entries(totals)) measured[s] = t.pass;
console.log('\nsummary');
for (const s of ['limbo', 'pkits'] as const) {
  const list = all[s];
  if (!list) continue;
  const title =
    s === 'limbo'
      ? 'x509-limbo, each case under its own profile'
      : 'NIST PKITS, rfc5280 profile, no overrides';
  const valid = list.filter((r) => r.expected === 'valid');
  const invalid = list.filter((r) => r.expected === 'invalid');
  const vp = valid.filter((r) => r.verdict === 'pass').length;
  const ip = invalid.filter((r) => r.verdict === 'pass').length;
  measured[`${s}-success`] = vp;
  console.log(`  ${title}: ${totals[s]!.pass}/${list.length} pass`);
  console.log(`    SUCCESS-expected: ${vp}/${valid.length} accepted`);
  console.log(`    FAILURE-expected: ${ip}/${invalid.length} rejected; reason-checked families:`);
  for (const f of reasonFigures(list)) {
    if (f.cases === 0) continue;
    measured[`${s}-reason-${f.family.replaceAll(' ', '-')}`] = f.forReason;
    const other = Object.entries(f.other)
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    console.log(
      `      ${f.family.padEnd(18)} ${String(f.forReason).padStart(5)}/${f.cases} for the tested reason` +
        (f.rejected > f.forReason ? `; ${f.rejected - f.forReason} for another (${other})` : '') +
        (f.rejected < f.cases ? `; ${f.cases - f.rejected} accepted` : ''),
    );
  }
}
if (iotAll) {
  measured['limbo-iot-all'] = iotAll.pass;
  const d = totals['limbo-default']!;
  console.log(
    `  x509-limbo, the single default profile (iot) for every case: ${iotAll.pass}/${iotAll.cases} pass ` +
      `(non-conflicting ${d.pass}/${d.pass + d.fail + d.skip + d.divergence}, ${d.divergence} listed divergences)`,
  );
}

// The floor: pass counts per suite may only rise (only checked on unfiltered runs).
const floorPath = join(root, 'conformance/floor.json');
const floor: Record<string, number> = JSON.parse(readFileSync(floorPath, 'utf8')).pass;
if (!filter) {
  for (const [s, n] of Object.entries(measured)) {
    const f = floor[s] ?? 0;
    if (n < f) {
      failed = true;
      console.log(`FLOOR: ${s} ${n} < floor ${f}`);
    } else if (n > f)
      console.log(
        `floor: ${s} ${n} > floor ${f}${updateFloor ? ' (updated)' : ' (raise it with --update-floor)'}`,
      );
  }
  if (updateFloor) {
    const pass = raiseFloor(floor, measured);
    writeFileSync(
      floorPath,
      `${JSON.stringify({ note: 'pass counts that may only rise; npm run conformance -- --update-floor', pass }, null, 2)}\n`,
    );
  }
}
console.log(`\nconformance ${failed ? 'FAILED' : 'ok'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
