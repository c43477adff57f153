import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createSearch,
  nextExpansions,
  type SearchState,
  selectChild,
  uctScore,
  virtualLossFor,
} from '../../../shared/mcts';
import { child } from './helpers';

/** Root expanded into X (id 1) and Y (id 2), with visits/values set by hand. */
function twoChildren(x: [number, number], y: [number, number], c = 0.25): SearchState {
  const state = createSearch({ c }, { observation: 's' });
  const [req] = nextExpansions(state);
  applyExpansion(state, req!.jobId, [child('X'), child('Y')]);
  const [root, X, Y] = state.nodes;
  X!.visits = x[0];
  X!.value = x[1];
  Y!.visits = y[0];
  Y!.value = y[1];
  root!.visits = x[0] + y[0];
  root!.value = x[1] + y[1];
  return state;
}

describe('UCT', () => {
  it('is Q + c*sqrt(ln N / n), infinite when unvisited', () => {
    expect(uctScore(1.5, 3, 4, 0.25)).toBeCloseTo(0.5 + 0.25 * Math.sqrt(Math.log(4) / 3), 12);
    expect(uctScore(0, 0, 4, 0.25)).toBe(Number.POSITIVE_INFINITY);
    expect(uctScore(0.5, 1, 1, 0.25)).toBe(0.5);
  });

  it('exploration wins when Q is equal: fewer visits is preferred', () => {
    // X: 0.5 + 0.25*sqrt(ln4/3) = 0.670; Y: 0.5 + 0.25*sqrt(ln4/1) = 0.794.
    expect(selectChild(twoChildren([3, 1.5], [1, 0.5]), '0')).toBe('2');
  });

  it('exploitation wins when Q differs enough', () => {
    // X: 0.9 + 0.170 = 1.070; Y: 0.5 + 0.294 = 0.794.
    expect(selectChild(twoChildren([3, 2.7], [1, 0.5]), '0')).toBe('1');
  });

  it('with c = 0 it is plain Q', () => {
    expect(selectChild(twoChildren([3, 1.6], [1, 0.5], 0), '0')).toBe('1');
  });

  it('an unvisited child beats any visited one', () => {
    expect(selectChild(twoChildren([3, 3], [0, 0]), '0')).toBe('2');
  });

  it('terminal children are skipped; none left gives null', () => {
    const state = twoChildren([3, 3], [1, 0]);
    state.nodes[1]!.terminal = true;
    expect(selectChild(state, '0')).toBe('2');
    state.nodes[2]!.terminal = true;
    expect(selectChild(state, '0')).toBeNull();
  });

  it('exact ties are broken by the seeded RNG, drawing only when needed', () => {
    const state = twoChildren([2, 1], [2, 1]);
    const before = state.rng.s;
    const picks = new Set<string>();
    for (let i = 0; i < 32; i++) picks.add(selectChild(state, '0')!);
    expect(picks).toEqual(new Set(['1', '2']));
    expect(state.rng.s).not.toBe(before);
    const single = twoChildren([2, 1], [2, 0]);
    const s0 = single.rng.s;
    selectChild(single, '0');
    expect(single.rng.s).toBe(s0);
  });

  it('virtual loss counts other descents as visits with reward 0', () => {
    const state = twoChildren([0, 0], [0, 0]);
    state.descents = [];
    state.descents.push({ id: 7, path: ['0', '1'], status: 'expanding', jobId: '1:1', justExpanded: false });
    const loss = virtualLossFor(state, 0);
    expect([...loss.entries()]).toEqual([
      ['0', 1],
      ['1', 1],
    ]);
    // X now looks visited (Q 0), Y is unvisited: Y first.
    expect(selectChild(state, '0', loss)).toBe('2');
    // A descent's own path carries no loss for itself.
    expect(virtualLossFor(state, 7).size).toBe(0);
  });
});
