import { describe, expect, it } from 'vitest';
import { findLeafPaths, type LeafPath } from '../../../shared/revision/leaf-paths';
import { createRng, deriveSeed } from '../../../shared/random';
import {
  collectTaskPairs,
  goodLeafPaths,
  isValidPair,
  pairLeafPaths,
  passesAlpha,
} from '../../../shared/revision/pairs';
import { step, treeOf } from './tree-builder';

function sampleTree() {
  return treeOf([
    step('a', {}, [step('b', {}, [step('c', { reward: 1 })]), step('x', {}, [step('y', { reward: 0 })])]),
    step('z', { reward: 0.3 }),
    step('w', { reward: 0.7 }),
  ]);
}

describe('leaf paths', () => {
  it('lists root-to-terminal-leaf paths in depth-first order with the leaf reward', () => {
    const paths = findLeafPaths(sampleTree().root);
    expect(paths.map((p) => p.nodes.map((n) => n.id).join('>'))).toEqual([
      'root>a>b>c',
      'root>a>x>y',
      'root>z',
      'root>w',
    ]);
    expect(paths.map((p) => p.reward)).toEqual([1, 0, 0.3, 0.7]);
  });

  it('skips leaves that are not terminal (unfinished branches)', () => {
    const tree = treeOf([step('a', { terminal: false }), step('b', { reward: 1 })]);
    expect(findLeafPaths(tree.root).map((p) => p.leafId)).toEqual(['b']);
  });
});

describe('thresholds', () => {
  it('needs good > alpha and a gap > beta', () => {
    const t = { alpha: 0.5, beta: 0.2 };
    expect(isValidPair(1, 0, t)).toBe(true);
    expect(isValidPair(0.5, 0, t)).toBe(false); // not > alpha
    expect(isValidPair(0.7, 0.5, t)).toBe(false); // gap 0.2 is not > 0.2
    expect(isValidPair(0.9, 0.7, t)).toBe(false); // 0.9 - 0.7 = 0.2000000000000001 in floating point
    expect(isValidPair(0.9, 0.69, t)).toBe(true);
  });

  it('reads alpha >= 1 as reward >= 1 (a strict > 1 could never pass)', () => {
    expect(passesAlpha(1, 1)).toBe(true);
    expect(passesAlpha(0.99, 1)).toBe(false);
    expect(passesAlpha(0.7, 0.7)).toBe(false);
    expect(passesAlpha(0.71, 0.7)).toBe(true);
  });

  it('supports the paper wording r(bad) < beta < r(good)', () => {
    const band = { alpha: 0.5, beta: 0.2, rule: 'band' as const };
    expect(isValidPair(1, 0.1, band)).toBe(true);
    expect(isValidPair(1, 0.3, band)).toBe(false);
    expect(isValidPair(0.9, 0.3, { alpha: 0.5, beta: 0.2 })).toBe(true);
  });
});

describe('pairing', () => {
  it('forms every ordered pair that passes, not de-duplicated by bad path', () => {
    const paths = findLeafPaths(sampleTree().root);
    const pairs = pairLeafPaths(paths, { alpha: 0.5, beta: 0.2 });
    const names = pairs.map((p) => `${p.good.leafId}/${p.bad.leafId}`).sort();
    expect(names).toEqual(['c/w', 'c/y', 'c/z', 'w/y', 'w/z']);
    for (const p of pairs)
      expect(isValidPair(p.good.reward, p.bad.reward, { alpha: 0.5, beta: 0.2 })).toBe(true);
  });

  it('shuffles with a seed: same seed same order, and the cap keeps a prefix of it', () => {
    const paths = findLeafPaths(sampleTree().root);
    const order = (seed: number, cap?: number) =>
      pairLeafPaths(paths, { alpha: 0.5, beta: 0.2, seed, maxPairsPerTask: cap }).map(
        (p) => `${p.good.leafId}/${p.bad.leafId}`,
      );
    expect(order(1)).toEqual(order(1));
    const orders = new Set([0, 1, 2, 3, 4, 5].map((s) => order(s).join(',')));
    expect(orders.size).toBeGreaterThan(1);
    expect(order(1, 2)).toEqual(order(1).slice(0, 2));
  });

  it('yields exactly the pairs, in the order, of checking every (good, bad) in reward order', () => {
    const rng = createRng(7);
    const random = () => rng.next();
    const rewards = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1, 0.30000000000000004, 0.7 - 0.2];
    for (let trial = 0; trial < 200; trial++) {
      const paths: LeafPath[] = Array.from({ length: 1 + Math.floor(random() * 30) }, (_, i) => ({
        nodes: [],
        leafId: `l${i}`,
        reward: random() < 0.5 ? rewards[Math.floor(random() * rewards.length)]! : random(),
      }));
      const config = {
        alpha: [0, 0.5, 1][trial % 3]!,
        beta: [0, 0.2, 0.5][Math.floor(trial / 3) % 3]!,
        rule: trial % 2 ? ('gap' as const) : ('band' as const),
        seed: trial,
      };
      // The definition: every ordered pair of the reward-sorted list that passes, then the shuffle.
      const sorted = paths
        .map((path, order) => ({ path, order }))
        .sort((a, b) => b.path.reward - a.path.reward || a.order - b.order)
        .map((e) => e.path);
      const expected: string[] = [];
      for (const good of sorted)
        for (const bad of sorted)
          if (good !== bad && isValidPair(good.reward, bad.reward, config))
            expected.push(`${good.leafId}/${bad.leafId}`);
      createRng(deriveSeed(config.seed, 'pairs', 3)).shuffle(expected);
      const actual = pairLeafPaths(paths, config, 3).map((p) => `${p.good.leafId}/${p.bad.leafId}`);
      expect(actual).toEqual(expected);
    }
  });

  it('alpha = 1 keeps only full-reward good paths', () => {
    const paths = findLeafPaths(sampleTree().root);
    const pairs = pairLeafPaths(paths, { alpha: 1, beta: 0.2 });
    expect(new Set(pairs.map((p) => p.good.leafId))).toEqual(new Set(['c']));
    expect(goodLeafPaths(paths, 1).map((p) => p.leafId)).toEqual(['c']);
    expect(goodLeafPaths(paths, 0.5).map((p) => p.leafId)).toEqual(['c', 'w']);
  });

  it('skips a task whose root value is <= 0', () => {
    const tree = treeOf([step('a', { reward: 0 }), step('b', { reward: 0 })]);
    expect(collectTaskPairs(tree, {}).skipped).toBe('root-value');
    const fine = collectTaskPairs(sampleTree(), {});
    expect(fine.skipped).toBeNull();
    expect(fine.goodPaths.map((p) => p.leafId)).toEqual(['c', 'w']);
  });
});
