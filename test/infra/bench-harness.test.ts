import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { external, measure, printTable } from '../../bench/harness.js';

describe('bench harness', () => {
  it('measure times a sync operation and reports the median of its rounds', async () => {
    let calls = 0;
    const r = await measure(
      'sync',
      () => {
        calls++;
      },
      { durationMs: 40, warmupMs: 5, rounds: 3 },
    );
    assert.equal(r.rounds.length, 3);
    assert.equal(r.opsPerSec, [...r.rounds].sort((a, b) => a - b)[1]);
    assert.ok(r.opsPerSec > 0);
    // the probe call, the warm-up and the timed rounds all call fn
    assert.ok(calls > r.ops);
  });

  it('measure awaits async operations one at a time', async () => {
    let running = 0;
    let maxRunning = 0;
    const r = await measure(
      'async',
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((res) => setImmediate(res));
        running--;
      },
      { durationMs: 30, warmupMs: 5, rounds: 2 },
    );
    assert.equal(maxRunning, 1);
    assert.ok(r.ops > 0);
  });

  it('measure counts opsPerCall operations per call', async () => {
    const r = await measure('batch', () => {}, { durationMs: 20, warmupMs: 1, rounds: 1, opsPerCall: 10 });
    assert.equal(r.ops % 10, 0);
  });

  it('printTable shows ratios against the baseline', () => {
    const log = console.log;
    console.log = () => {};
    try {
      const text = printTable('t', [external('base', 1000), external('fast', 2500, 'note')], 'base');
      assert.match(text, /^base\s+1000\s+1\.00x$/m);
      assert.match(text, /^fast\s+2500\s+2\.50x {2}note$/m);
    } finally {
      console.log = log;
    }
  });
});
