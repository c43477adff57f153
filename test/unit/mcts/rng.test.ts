import { describe, expect, it } from 'vitest';
import { createRngState, mixSeeds, nextRandom, randomIndex } from '../../../shared/mcts';

describe('seeded RNG', () => {
  it('is deterministic, resumable from its JSON state and in [0, 1)', () => {
    const a = createRngState(42);
    const b = createRngState(42);
    const xs = Array.from({ length: 100 }, () => nextRandom(a));
    expect(Array.from({ length: 50 }, () => nextRandom(b))).toEqual(xs.slice(0, 50));
    const copy = JSON.parse(JSON.stringify(b)) as typeof b;
    expect(Array.from({ length: 50 }, () => nextRandom(copy))).toEqual(xs.slice(50));
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('different seeds give different streams; randomIndex covers its range', () => {
    expect(nextRandom(createRngState(0))).not.toBe(nextRandom(createRngState(1)));
    expect(mixSeeds(1, 2)).not.toBe(mixSeeds(2, 1));
    const r = createRngState(-7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 300; i++) counts[randomIndex(r, 3)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(60);
    expect(() => randomIndex(r, 0)).toThrow();
  });
});
