import { describe, expect, it } from 'vitest';
import { createSearch, getNode, isComplete, type SearchState } from '../../../shared/mcts';
import { child, nodeKey, runSync, tableScript } from './helpers';

function statsByKey(state: SearchState) {
  const out: Record<string, { visits: number; value: number; terminal: boolean }> = {};
  for (const n of state.nodes) {
    out[nodeKey(state, n.id)] = {
      visits: n.visits,
      value: Number(n.value.toFixed(10)),
      terminal: n.terminal,
    };
  }
  return out;
}

describe('reference semantics, hand-computed (width 2, max depth 3, 3 iterations)', () => {
  // root -> A, B(done, 0)
  // A -> C, D                       C -> E(done, 1), F     F -> G, G (duplicate), G at depth 4 > 3
  // D -> H(failed), I               I -> J, K (depth 4: terminal by depth, rewards 0 and 0.6)
  const script = tableScript({
    '': [child('A'), child('B', { done: true, reward: 0 })],
    A: [child('C'), child('D')],
    'A/C': [child('E', { done: true, reward: 1 }), child('F')],
    'A/C/F': [child('G', { reward: 0.2 }), child('G', { reward: 0.9 })],
    'A/D': [child('H', { failed: true, reward: 0.9 }), child('I')],
    'A/D/I': [child('J', { reward: 0 }), child('K', { reward: 0.6 })],
  });

  const seen = new Set<string>();
  for (const seed of [0, 1, 2, 3, 4, 5, 6, 7]) {
    it(`expands, backs up and prunes as computed by hand (seed ${seed})`, () => {
      const state = createSearch(
        { iterations: 3, width: 2, maxDepth: 3, c: 0.25, seed },
        { observation: 'start' },
      );
      const order = runSync(state, script);

      // Descent 1: root, A, then C or D (both unvisited: seeded tie-break), down to a dead end.
      // Descent 2: the other one. Afterwards root is terminal, so iteration 3 never starts.
      expect(order.slice(0, 2)).toEqual(['', 'A']);
      expect([
        ['A/C', 'A/C/F', 'A/D', 'A/D/I'],
        ['A/D', 'A/D/I', 'A/C', 'A/C/F'],
      ]).toContainEqual(order.slice(2));
      seen.add(order[2]!);
      expect(state.counters.descentsStarted).toBe(2);
      expect(isComplete(state)).toBe(true);

      expect(statsByKey(state)).toEqual({
        '': { visits: 6, value: 1.8, terminal: true },
        A: { visits: 5, value: 1.8, terminal: true },
        B: { visits: 1, value: 0, terminal: true },
        'A/C': { visits: 2, value: 1.2, terminal: true },
        'A/D': { visits: 3, value: 0.6, terminal: true },
        'A/C/E': { visits: 1, value: 1, terminal: true },
        'A/C/F': { visits: 1, value: 0.2, terminal: true },
        'A/C/F/G': { visits: 1, value: 0.2, terminal: true },
        'A/D/H': { visits: 1, value: 0, terminal: true },
        'A/D/I': { visits: 2, value: 0.6, terminal: true },
        'A/D/I/J': { visits: 1, value: 0, terminal: true },
        'A/D/I/K': { visits: 1, value: 0.6, terminal: true },
      });
      // The duplicate G was dropped (first occurrence kept), the disaster scored 0.
      const g = state.nodes.find((n) => nodeKey(state, n.id) === 'A/C/F/G')!;
      expect(g.reward).toBe(0.2);
      expect(g.depth).toBe(4);
      const h = state.nodes.find((n) => nodeKey(state, n.id) === 'A/D/H')!;
      expect(h).toMatchObject({ failed: true, reward: 0, terminal: true });
      expect(state.counters.backups).toBe(getNode(state, '0').visits);
    });
  }
  it('the seeds above exercise both tie-break outcomes', () => {
    expect(seen).toEqual(new Set(['A/C', 'A/D']));
  });
});

describe('unvisited children first, then UCT', () => {
  // X's branch always pays 1, Y's pays 0; each of X, Y has two sub-branches that end at once.
  const script = tableScript({
    '': [child('X'), child('Y')],
    X: [child('a'), child('b'), child('t', { done: true, reward: 1 })],
    'X/a': [child('1', { done: true, reward: 1 })],
    'X/b': [child('1', { done: true, reward: 1 })],
    Y: [child('a'), child('b'), child('t', { done: true, reward: 0 })],
    'Y/a': [child('1', { done: true, reward: 0 })],
    'Y/b': [child('1', { done: true, reward: 0 })],
  });

  for (const seed of [0, 1, 2, 3, 4, 5, 6, 7]) {
    it(`visits both subtrees once, then follows the better Q (seed ${seed})`, () => {
      const state = createSearch({ iterations: 5, width: 3, maxDepth: 20, seed }, { observation: 's' });
      const order = runSync(state, script);
      // Iterations 1-2: root's unvisited children first (one each, order by tie-break).
      const first = order[1]!;
      const second = order[3]!;
      expect(new Set([first, second])).toEqual(new Set(['X', 'Y']));
      expect(order[2]!.startsWith(`${first}/`)).toBe(true);
      expect(order[4]!.startsWith(`${second}/`)).toBe(true);
      // Iteration 3: both visited (2 visits each); UCT: X = 1 + 0.25*sqrt(ln 4/2) beats
      // Y = 0 + 0.25*sqrt(ln 4/2). X's remaining child is expanded, X becomes a dead end.
      expect(['X/a', 'X/b']).toContain(order[5]);
      expect(order.filter((k) => k === 'X/a' || k === 'X/b')).toHaveLength(2);
      // Iteration 4: only Y left; afterwards the root is terminal and iteration 5 never runs.
      expect(order[6]!.startsWith('Y/')).toBe(true);
      expect(order).toHaveLength(7);
      expect(state.counters.descentsStarted).toBe(4);
      const stats = statsByKey(state);
      expect(stats['']).toEqual({ visits: 6, value: 3, terminal: true });
      expect(stats.X).toEqual({ visits: 3, value: 3, terminal: true });
      expect(stats.Y).toEqual({ visits: 3, value: 0, terminal: true });
    });
  }
});

describe('terminal conditions', () => {
  it('a child deeper than maxDepth is terminal whatever the env says, with the step reward', () => {
    const script = tableScript({ '': [child('a')], a: [child('b', { reward: 0.3 })] });
    const state = createSearch({ iterations: 2, width: 1, maxDepth: 1 }, { observation: 's' });
    expect(runSync(state, script)).toEqual(['', 'a']);
    const [root, a, b] = state.nodes;
    expect(a).toMatchObject({ depth: 1, terminal: true, visits: 1, value: 0.3, done: false });
    expect(b).toMatchObject({ depth: 2, terminal: true, visits: 1, value: 0.3, reward: 0.3 });
    expect(root).toMatchObject({ terminal: true, visits: 1, value: 0.3 });
    expect(state.counters.descentsStarted).toBe(1);
  });

  it('maxDepth 0 makes every root child terminal: one expansion', () => {
    const script = tableScript({ '': [child('a', { reward: 0.5 }), child('b', { reward: 0.25 })] });
    const state = createSearch({ iterations: 8, maxDepth: 0 }, { observation: 's' });
    expect(runSync(state, script)).toEqual(['']);
    expect(state.nodes[0]).toMatchObject({ visits: 2, value: 0.75, terminal: true });
  });

  it('done children are terminal and backed up; non-terminal siblings keep the search going', () => {
    const script = tableScript({
      '': [child('win', { done: true, reward: 1 }), child('go')],
      go: [child('lose', { done: true, reward: 0 })],
    });
    const state = createSearch({ iterations: 8 }, { observation: 's' });
    expect(runSync(state, script)).toEqual(['', 'go']);
    expect(state.nodes[0]).toMatchObject({ visits: 2, value: 1, terminal: true });
  });

  it('a failed (negative raw reward) child is terminal with reward 0', () => {
    const script = tableScript({
      '': [child('boom', { failed: true, reward: 0.7 }), child('ok')],
      ok: [child('x')],
    });
    const state = createSearch({ iterations: 1, maxDepth: 1 }, { observation: 's' });
    runSync(state, script);
    const boom = state.nodes[1]!;
    expect(boom).toMatchObject({ failed: true, terminal: true, reward: 0, visits: 1, value: 0 });
    expect(state.nodes[0]).toMatchObject({ visits: 2, value: 0 });
  });

  it('a node is not expanded twice: later descents walk through it', () => {
    const script = tableScript({
      '': [child('a'), child('b')],
      a: [child('a1', { done: true, reward: 1 }), child('a2')],
      'a/a2': [child('z', { done: true, reward: 0 })],
      b: [child('b1', { done: true, reward: 0.5 })],
    });
    const state = createSearch({ iterations: 8 }, { observation: 's' });
    const order = runSync(state, script);
    expect(new Set(order).size).toBe(order.length);
    expect(order.sort()).toEqual(['', 'a', 'a/a2', 'b']);
  });
});
