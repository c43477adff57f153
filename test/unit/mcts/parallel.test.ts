import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createRngState,
  createSearch,
  nextExpansions,
  randomIndex,
} from '../../../shared/mcts';
import { child, randomScript, runSync } from './helpers';
import { checkInvariants } from './invariants';

describe('parallelism 4 with virtual loss', () => {
  for (let treeSeed = 0; treeSeed < 12; treeSeed++) {
    it(`completes all descents, never requests a node twice at once (tree ${treeSeed})`, () => {
      // Low done/failed rates: the root stays alive, so all 8 descents must run.
      const script = randomScript(treeSeed, 4, 0.05, 0.02);
      const state = createSearch(
        { iterations: 8, width: 4, maxDepth: 20, parallelism: 4, seed: treeSeed },
        { observation: 'start' },
      );
      const arrival = createRngState(1000 + treeSeed);
      let maxInFlight = 0;
      const order = runSync(state, script, {
        // Results arrive in a random order.
        pick: (pending) => randomIndex(arrival, pending.length),
        onStep: (pending) => {
          const nodeIds = pending.map((r) => r.nodeId);
          expect(new Set(nodeIds).size).toBe(nodeIds.length);
          expect(pending.length).toBeLessThanOrEqual(4);
          maxInFlight = Math.max(maxInFlight, pending.length);
          checkInvariants(state);
        },
      });
      expect(new Set(order).size).toBe(order.length);
      expect(state.nodes[0]!.terminal).toBe(false);
      expect(state.counters.descentsStarted).toBe(8);
      expect(state.counters.descentsFinished).toBe(8);
      expect(state.nodes[0]!.visits).toBe(state.counters.backups);
      expect(maxInFlight).toBeGreaterThan(1);
      checkInvariants(state);
    });
  }

  it('descents waiting on the root spread over its children once it is expanded', () => {
    const rest = randomScript(0, 4, 0, 0);
    const script = (key: string) => (key === '' ? ['a', 'b', 'c', 'd'].map((r) => child(r)) : rest(key));
    const state = createSearch({ iterations: 8, width: 4, parallelism: 4 }, { observation: 'start' });
    const seen: string[][] = [];
    runSync(state, script, { onStep: (p) => seen.push(p.map((r) => r.nodeId)) });
    // First only the root is requested (three descents wait on it) ...
    expect(seen[0]).toEqual(['0']);
    // ... then each of the four descents takes a different root child.
    expect(new Set(seen[1])).toEqual(new Set(['1', '2', '3', '4']));
  });

  it('with fewer children than descents, the extra descents wait instead of requesting twice', () => {
    const rest = randomScript(0, 4, 0, 0);
    const script = (key: string) => (key === '' ? [child('a'), child('b')] : rest(key));
    const state = createSearch({ iterations: 8, width: 4, parallelism: 4 }, { observation: 'start' });
    const [rootReq] = nextExpansions(state);
    expect(state.descents.map((d) => d.status)).toEqual(['expanding', 'waiting', 'waiting', 'waiting']);
    applyExpansion(state, rootReq!.jobId, script(''));
    const reqs = nextExpansions(state);
    expect(reqs.map((r) => r.nodeId).sort()).toEqual(['1', '2']);
    expect(state.descents.map((d) => d.status).sort()).toEqual([
      'expanding',
      'expanding',
      'waiting',
      'waiting',
    ]);
    checkInvariants(state);
    runSync(state, script);
    checkInvariants(state);
  });
});
