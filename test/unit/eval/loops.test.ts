import { describe, expect, it } from 'vitest';
import { findActionLoops, normalizeAction } from '../../../shared/eval';

const units = (actions: string[]) => findActionLoops(actions).map((l) => [l.start, l.length, l.repeats]);

describe('repeated-action loops (units of 1-4 actions repeated back to back)', () => {
  it('finds a unit of each length 1..4 at its position, with its repeat count', () => {
    expect(units(['a', 'b', 'b', 'c'])).toEqual([[1, 1, 2]]);
    expect(units(['x', 'a', 'b', 'a', 'b', 'a', 'b'])).toEqual([[1, 2, 3]]);
    expect(units(['a', 'b', 'c', 'a', 'b', 'c', 'z'])).toEqual([[0, 3, 2]]);
    expect(units(['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd'])).toEqual([[0, 4, 2]]);
  });

  it('does not count a 5-action unit, nor repeats that are not back to back', () => {
    expect(units(['a', 'b', 'c', 'd', 'e', 'a', 'b', 'c', 'd', 'e'])).toEqual([]);
    expect(units(['a', 'b', 'a', 'c', 'a'])).toEqual([]);
    expect(units([])).toEqual([]);
    expect(units(['only'])).toEqual([]);
  });

  it('reports `a a a a` once, as a unit of length 1 (not again as `a a` twice)', () => {
    expect(units(['a', 'a', 'a', 'a'])).toEqual([[0, 1, 4]]);
  });

  it('reports two different loops in one trajectory', () => {
    expect(units(['a', 'a', 'b', 'c', 'b', 'c'])).toEqual([
      [0, 1, 2],
      [2, 2, 2],
    ]);
  });

  it('compares actions as the environment reads them (case, spacing, final dot)', () => {
    expect(normalizeAction('  Get 1  Oak Log. ')).toBe('get 1 oak log');
    expect(units(['get 1 oak log', 'Get 1 oak  log.'])).toEqual([[0, 1, 2]]);
  });

  it('never treats empty actions as a loop', () => {
    expect(units(['', '', ''])).toEqual([]);
  });

  it('honours minRepeats and maxLength', () => {
    expect(findActionLoops(['a', 'a'], { minRepeats: 3 })).toEqual([]);
    expect(findActionLoops(['a', 'a', 'a'], { minRepeats: 3 })).toHaveLength(1);
    expect(findActionLoops(['a', 'b', 'a', 'b'], { maxLength: 1 })).toEqual([]);
  });
});
