// Runs the public suites through the same code as `npm run conformance` and asserts that no
// case gives an unexpected result: every x509-limbo case outside BetterTLS, every 16th BetterTLS
// case (the full 9 572 run in `npm run conformance`, which CI calls), and every NIST PKITS run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CaseResult,
  loadLimbo,
  loadPkits,
  raiseFloor,
  runLimboCase,
  runPkitsCase,
} from '../../scripts/conformance-lib.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const divergences = new Set<string>(
  JSON.parse(readFileSync(join(root, 'conformance/divergences.json'), 'utf8')).divergences.map(
    (d: { suite: string; id: string }) => `${d.suite} ${d.id}`,
  ),
);

function unexpected(suite: string, results: CaseResult[]): string[] {
  return results
    .filter((r) => r.verdict === 'fail' && !divergences.has(`${suite} ${r.id}`))
    .map((r) => `${r.id}: expected ${r.expected}, got ${r.got}`);
}

const family = (id: string) => id.split('::').slice(0, 2).join('::');

describe('x509-limbo (own profile)', () => {
  const cases = loadLimbo(join(root, '../shared/testdata/x509-limbo/limbo.json'));
  let betterTls = 0;
  const sample = cases.filter((c) => !c.id.startsWith('bettertls::') || betterTls++ % 16 === 0);
  const families = new Map<string, typeof sample>();
  for (const c of sample) families.set(family(c.id), [...(families.get(family(c.id)) ?? []), c]);
  for (const [name, list] of families)
    it(`${name} (${list.length} cases)`, async () => {
      const results: CaseResult[] = [];
      for (const c of list) results.push(await runLimboCase(c, 'own'));
      assert.deepEqual(unexpected('limbo', results), []);
      if (!name.startsWith('crl'))
        assert.ok(
          results.some((r) => r.verdict === 'pass'),
          'no case of the family ran',
        );
    });
  it('non-conflicting cases outside BetterTLS under the default profile', async () => {
    const results: CaseResult[] = [];
    for (const c of sample)
      if (!c.id.startsWith('bettertls::') && !c.conflicts_with?.length)
        results.push(await runLimboCase(c, 'default'));
    assert.deepEqual(unexpected('limbo-default', results), []);
  });
});

describe('NIST PKITS', () => {
  const { manifest, dir } = loadPkits(join(root, '../shared/testdata/pkits'));
  const sections = new Map<string, typeof manifest.tests>();
  for (const t of manifest.tests) sections.set(t.section, [...(sections.get(t.section) ?? []), t]);
  for (const [section, runs] of sections)
    it(`${section} ${runs[0]!.section_name ?? ''} (${runs.length} runs)`, async () => {
      const results: CaseResult[] = [];
      for (const t of runs) results.push(await runPkitsCase(t, dir, manifest));
      assert.deepEqual(unexpected('pkits', results), []);
    });
});

describe('the conformance floor (--update-floor) only rises', () => {
  const rows: [string, Record<string, number>, Record<string, number>, Record<string, number>][] = [
    ['a better run raises it', { limbo: 10 }, { limbo: 12 }, { limbo: 12 }],
    [
      'a failing run keeps it',
      { limbo: 10, pkits: 249 },
      { limbo: 3, pkits: 249 },
      { limbo: 10, pkits: 249 },
    ],
    [
      'a partial run (--suite pkits) keeps the others',
      { limbo: 10, pkits: 5 },
      { pkits: 6 },
      { limbo: 10, pkits: 6 },
    ],
    ['a new counter is added', { limbo: 10 }, { 'limbo-success': 7 }, { limbo: 10, 'limbo-success': 7 }],
  ];
  for (const [name, floor, measured, want] of rows)
    it(name, () => assert.deepEqual(raiseFloor(floor, measured), want));
});
