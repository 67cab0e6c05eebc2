// BoundedMap: never more than `max` entries, a used entry outlives unused ones, and the cost of an
// insertion does not grow with the map (the plain Map evicting its first key did).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedMap } from '../../src/cache/bounded-map.js';

describe('BoundedMap', () => {
  for (const max of [1, 2, 3, 10, 1000])
    it(`holds at most ${max} entries whatever is inserted`, () => {
      const m = new BoundedMap<number, number>(max);
      for (let i = 0; i < max * 5 + 3; i++) {
        m.set(i, i * 2);
        assert.ok(m.size <= max, `size ${m.size} after ${i + 1} insertions`);
        // The newest entry is always there.
        assert.equal(m.get(i), i * 2);
      }
    });

  it('keeps an entry for at least max/2 insertions after its last use', () => {
    const max = 100;
    const m = new BoundedMap<string, number>(max);
    m.set('hot', 1);
    for (let i = 0; i < 1000; i++) {
      m.set(`k${i}`, i);
      // Used every 50 insertions (max / 2): never evicted.
      if (i % 50 === 49) assert.equal(m.get('hot'), 1, `evicted after ${i + 1} insertions`);
    }
    m.set('cold', 2);
    for (let i = 0; i < 49; i++) m.set(`c${i}`, i);
    assert.equal(m.has('cold'), true);
    for (let i = 0; i < max; i++) m.set(`d${i}`, i);
    assert.equal(m.has('cold'), false);
  });

  it('overwrites, deletes and clears', () => {
    const m = new BoundedMap<string, string>(4);
    m.set('a', '1').set('b', '2');
    m.set('a', '3');
    assert.equal(m.get('a'), '3');
    assert.equal(m.size, 2);
    // 'a' and 'b' move to the old generation, then 'a' is overwritten from there.
    m.set('c', '4').set('d', '5');
    m.set('a', '6');
    assert.equal(m.get('a'), '6');
    assert.ok(m.size <= 4);
    assert.equal(m.delete('a'), true);
    assert.equal(m.delete('a'), false);
    assert.equal(m.get('a'), undefined);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.has('b'), false);
  });

  it('refuses an impossible size and undefined values', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => new BoundedMap(bad), RangeError);
    assert.throws(() => new BoundedMap<string, unknown>(2).set('x', undefined), TypeError);
  });

  it('never iterates a Map (what made the plain first-key eviction slow)', () => {
    const m = new BoundedMap<number, number>(1000);
    const names = ['keys', 'values', 'entries', 'forEach'] as const;
    const saved = names.map((n) => Map.prototype[n]);
    const savedIter = Map.prototype[Symbol.iterator];
    const boom = () => {
      throw new Error('iterated');
    };
    for (const n of names) (Map.prototype as unknown as Record<string, unknown>)[n] = boom;
    Map.prototype[Symbol.iterator] = boom;
    try {
      for (let i = 0; i < 10_000; i++) {
        m.set(i, i);
        m.get(i - 400);
        m.has(i - 700);
        if (i % 7 === 0) m.delete(i - 3);
      }
    } finally {
      names.forEach((n, k) => {
        (Map.prototype as unknown as Record<string, unknown>)[n] = saved[k];
      });
      Map.prototype[Symbol.iterator] = savedIter;
    }
    assert.ok(m.size <= 1000);
  });
});
