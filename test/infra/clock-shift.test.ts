// The clock-shift preload behind scripts/test-clock.sh: it must put a test process just before a
// second or minute boundary, leave Date's other behaviour alone, and — with a rate — make two
// clock reads a few tens of milliseconds apart fall in different seconds on every run (which is
// what turns "fails when a second boundary passes between NOW and signing" into a certain failure).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const preload = join(root, 'test/support/clock-shift.mjs');

/** Runs `code` (an ES module body) in a fresh node with the preload and FLEETPKI_TEST_CLOCK=spec. */
function child(spec: string, code: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', preload, '--input-type=module', '-e', code], {
    env: { ...process.env, FLEETPKI_TEST_CLOCK: spec },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

const FACTS = `
  const start = Number(process.env.FLEETPKI_TEST_CLOCK_START);
  const now = Date.now();
  const real = performance.timeOrigin + performance.now();
  const d = new Date();
  console.log(JSON.stringify({
    start, now, real, date: d.getTime(), isDate: d instanceof Date, fixed: new Date(0).toISOString(),
    parse: Date.parse('2030-01-01T00:00:00Z'), utc: Date.UTC(2030, 0, 1), str: typeof Date(),
  }));`;

describe('test/support/clock-shift.mjs', () => {
  const rows: [string, number, number][] = [
    ['second', 1000, 900],
    ['minute', 60_000, 900],
    ['second,lead=50', 1000, 50],
    ['minute,lead=250,rate=20', 60_000, 250],
  ];
  for (const [spec, unit, lead] of rows)
    it(`${spec}: starts ${lead} ms before a whole ${unit === 1000 ? 'second' : 'minute'}`, () => {
      const f = child(spec, FACTS);
      assert.equal((f.start as number) % unit, unit - lead);
      assert.ok((f.now as number) >= (f.start as number));
      // Never behind the real clock: OpenSSL and the other children read the real one.
      assert.ok((f.now as number) >= (f.real as number) - 2, JSON.stringify(f));
      assert.ok((f.date as number) >= (f.now as number));
      assert.equal(f.isDate, true);
      assert.equal(f.fixed, '1970-01-01T00:00:00.000Z');
      assert.equal(f.parse, Date.UTC(2030, 0, 1));
      assert.equal(f.utc, Date.UTC(2030, 0, 1));
      assert.equal(f.str, 'string');
    });

  it('rate=20: reads 100 ms apart always fall in different seconds (a module-level NOW goes stale)', () => {
    // 100 ms of real time is at least 2 s of shifted time: a boundary lies between the two reads.
    const f = child(
      'second,rate=20',
      `const NOW = Math.floor(Date.now() / 1000) * 1000;
       await new Promise((r) => setTimeout(r, 100));
       const later = Math.floor(Date.now() / 1000) * 1000;
       console.log(JSON.stringify({ NOW, later }));`,
    );
    assert.ok((f.later as number) >= (f.NOW as number) + 2000, JSON.stringify(f));
  });

  it('rate=20: the drift stops at lead + 1 s, so children with the real clock stay near it', () => {
    const f = child(
      'second,rate=20',
      `await new Promise((r) => setTimeout(r, 400));
       console.log(JSON.stringify({ ahead: Date.now() - performance.timeOrigin - performance.now() }));`,
    );
    // 400 ms at 20× would be 7.6 s ahead; bounded, the clock is at most 1.9 s (+ the lead) ahead.
    assert.ok((f.ahead as number) <= 1900 + 1000 + 50, JSON.stringify(f));
    assert.ok((f.ahead as number) >= 1000, JSON.stringify(f));
  });

  it('refuses a malformed setting', () => {
    for (const spec of ['hour', 'second,lead=1000', 'second,rate=-1'])
      assert.throws(() => child(spec, 'console.log("{}")'), /FLEETPKI_TEST_CLOCK/);
  });
});
