import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from '../../../src/ca/store/group-commit.js';
import type { Outcome, WriteOp } from '../../../src/ca/store/ops.js';
import { StoreError } from '../../../src/ca/store/types.js';

/**
 * GroupCommit's two modes with a writer we control: which writes go in which batch, how many
 * batches are in flight at once, the busy/idle signal, and failures. (The stores' own suites run
 * the real writers through it.)
 */

const op = (id: string): WriteOp => ({ op: 'setSetting', key: id, value: id });
const key = (o: WriteOp) => (o as { key: string }).key;

/** A writer whose batches stay in flight until released; each op answers its key. */
function heldWriter() {
  const batches: string[][] = [];
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const run = (ops: WriteOp[]): Promise<Outcome[]> => {
    batches.push(ops.map(key));
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise((resolve) =>
      waiting.push(() => {
        inFlight--;
        resolve(ops.map((o) => ({ ok: true, value: key(o) })));
      }),
    );
  };
  const releaseAll = () => {
    for (const f of waiting.splice(0)) f();
  };
  return { run, batches, releaseAll, maxInFlight: () => maxInFlight };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('serial: one batch in flight; what queues meanwhile goes in the next, all together', async () => {
    const w = heldWriter();
    const busy: boolean[] = [];
    const gc = new GroupCommit(w.run, { onBusy: (b) => busy.push(b) });
    const first = ['a', 'b', 'c'].map((k) => gc.submit(op(k)));
    await turn();
    assert.deepEqual(w.batches, [['a', 'b', 'c']]);
    const second = ['d', 'e'].map((k) => gc.submit(op(k)));
    await turn();
    assert.equal(w.batches.length, 1, 'nothing is sent while a batch is in flight');
    w.releaseAll();
    assert.deepEqual(await Promise.all(first), ['a', 'b', 'c']);
    await turn();
    assert.deepEqual(w.batches[1], ['d', 'e']);
    w.releaseAll();
    assert.deepEqual(await Promise.all(second), ['d', 'e']);
    await gc.close();
    assert.equal(w.maxInFlight(), 1);
    assert.deepEqual(busy, [true, false]);
  });

  it('pipelined: bursts of 8 go at once, the rest at the end of the turn, whatever is in flight', async () => {
    const w = heldWriter();
    const busy: boolean[] = [];
    const gc = new GroupCommit(w.run, { mode: 'pipelined', onBusy: (b) => busy.push(b) });
    const keys = Array.from({ length: 19 }, (_, i) => `k${i}`);
    const all = keys.map((k) => gc.submit(op(k)));
    // Two bursts left synchronously, before the turn ended.
    assert.deepEqual(w.batches, [keys.slice(0, 8), keys.slice(8, 16)]);
    await turn();
    assert.deepEqual(w.batches[2], keys.slice(16));
    const late = gc.submit(op('late'));
    await turn();
    assert.deepEqual(w.batches[3], ['late'], 'sent while three batches are still in flight');
    assert.equal(w.maxInFlight(), 4);
    assert.deepEqual(busy, [true]);
    const closed = gc.close();
    await assert.rejects(gc.submit(op('after-close')), (e: StoreError) => e.code === 'unavailable');
    w.releaseAll();
    assert.deepEqual(await Promise.all(all), keys);
    assert.equal(await late, 'late');
    await closed;
    assert.deepEqual(busy, [true, false]);
  });

  it('pipelined: a burst answered before the end of its turn still ends busy, and close returns', async () => {
    const busy: boolean[] = [];
    const gc = new GroupCommit(async (ops) => ops.map((o) => ({ ok: true, value: key(o) })), {
      mode: 'pipelined',
      onBusy: (b) => busy.push(b),
    });
    // Eight writes: the first schedules the end-of-turn send, the eighth sends all of them at
    // once, and the writer answers before that turn ends, with nothing left to send.
    const all = Array.from({ length: 8 }, (_, i) => gc.submit(op(`b${i}`)));
    assert.equal((await Promise.all(all)).length, 8);
    await turn();
    assert.deepEqual(busy, [true, false]);
    await gc.close();
  });

  it('pipelined: a batch whose run throws fails its own callers only; per-op outcomes are kept', async () => {
    let call = 0;
    const gc = new GroupCommit(
      async (ops) => {
        call++;
        if (call === 1) throw new Error('disk full');
        return ops.map((o) =>
          key(o) === 'bad' ? { ok: false, code: 'constraint', message: 'no' } : { ok: true, value: key(o) },
        );
      },
      { mode: 'pipelined' },
    );
    const failed = Array.from({ length: 8 }, (_, i) => gc.submit(op(`f${i}`)));
    const good = gc.submit(op('good'));
    const bad = gc.submit(op('bad'));
    for (const p of failed)
      await assert.rejects(p, (e: StoreError) => e.code === 'unavailable' && /disk full/.test(e.message));
    assert.equal(await good, 'good');
    await assert.rejects(bad, (e: StoreError) => e instanceof StoreError && e.code === 'constraint');
    await gc.close();
  });
});
