import { describe, expect, it } from 'vitest';
import { createRng } from '../../../shared/random';

describe('createRng (shared seeded PRNG)', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(seqA);
    expect(createRng(2 ** 40).next()).not.toBe(createRng(0).next());
    expect(() => createRng(Number.NaN)).toThrow();
  });

  it('stays in range and is roughly uniform', () => {
    const rng = createRng(1);
    const buckets = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const bucket = rng.int(4);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(850);
  });

  it('shuffles and samples without losing or repeating elements', () => {
    const rng = createRng(3);
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(rng.shuffle(items.slice()).sort((x, y) => x - y)).toEqual(items);
    const sample = rng.sample(items, 7);
    expect(new Set(sample).size).toBe(7);
    for (const x of sample) expect(items).toContain(x);
    expect(rng.sample(items, 50)).toHaveLength(20);
    expect(rng.sample(items, -1)).toEqual([]);
  });

  it('state() / restore() resume the same sequence', () => {
    const rng = createRng(9);
    rng.next();
    const saved = rng.state();
    const expected = [rng.next(), rng.next()];
    const other = createRng(0);
    other.restore(saved);
    expect([other.next(), other.next()]).toEqual(expected);
    expect(() => other.restore([1, 2])).toThrow();
  });
});
