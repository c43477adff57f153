import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createSearch,
  inFlightExpansions,
  joinSearchState,
  nextExpansions,
  parseSearchState,
  type SearchState,
  splitSearchState,
} from '../../../shared/mcts';
import { keyOf, randomScript, runSync } from './helpers';

const roundTrip = (s: SearchState): SearchState => parseSearchState(JSON.parse(JSON.stringify(s)));

describe('serialise -> parse -> continue', () => {
  for (const parallelism of [1, 3]) {
    it(`equals continuing without serialisation (parallelism ${parallelism})`, () => {
      for (let treeSeed = 0; treeSeed < 10; treeSeed++) {
        const script = randomScript(treeSeed, 3);
        const config = { iterations: 6, width: 3, maxDepth: 5, parallelism, seed: treeSeed };
        const straight = createSearch(config, { observation: 'start' });
        const straightOrder = runSync(straight, script);

        // Same run, but the state is serialised after every result and resumed from the copy.
        let state = createSearch(config, { observation: 'start' });
        const order: string[] = [];
        for (let guard = 0; guard < 10_000; guard++) {
          for (const req of nextExpansions(state)) order.push(keyOf(req));
          state = roundTrip(state);
          // After a "restart" the outstanding jobs are recovered from the state itself.
          const pending = inFlightExpansions(state);
          if (pending.length === 0) break;
          applyExpansion(state, pending[0]!.jobId, script(keyOf(pending[0]!)));
          state = roundTrip(state);
        }
        expect(order).toEqual(straightOrder);
        expect(state).toEqual(straight);
      }
    });
  }

  it('split / join for row-wise storage restores the same state', () => {
    const state = createSearch({ iterations: 4, width: 3, maxDepth: 4, seed: 9 }, { observation: 'start' });
    const script = randomScript(9, 3);
    const [req] = nextExpansions(state);
    applyExpansion(state, req!.jobId, script(''));
    nextExpansions(state);
    const { meta, nodes } = splitSearchState(JSON.parse(JSON.stringify(state)) as SearchState);
    expect(meta).not.toHaveProperty('nodes');
    const restored = joinSearchState(meta, [...nodes].reverse());
    expect(restored).toEqual(state);
    runSync(restored, script);
  });

  it('rejects malformed state', () => {
    const state = createSearch({}, { observation: 's' });
    expect(() => parseSearchState({ ...state, version: 2 })).toThrow();
    expect(() => parseSearchState({ ...state, nodes: [{ ...state.nodes[0], id: '5' }] })).toThrow();
  });
});
