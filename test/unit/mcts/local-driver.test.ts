import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createSearch,
  driveSearch,
  inFlightExpansions,
  nextExpansions,
  parseSearchState,
  type ExpansionRequest,
  runReferenceSearch,
  runSearchLocally,
  searchConfigSchema,
} from '../../../shared/mcts';
import { child, keyOf, randomScript, referenceSearch } from './helpers';
import { checkInvariants } from './invariants';

describe('runSearchLocally', () => {
  it('the reference call pattern equals the step-by-step reference loop', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const config = searchConfigSchema.parse({ iterations: 8, width: 4, maxDepth: 6, seed });
      const script = randomScript(seed, 4);
      const order: string[] = [];
      let concurrent = 0;
      let maxConcurrent = 0;
      const state = await runReferenceSearch(
        { ...config, parallelism: 8 },
        { observation: 'start' },
        async (req) => {
          concurrent += 1;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          await Promise.resolve();
          concurrent -= 1;
          return script(keyOf(req));
        },
        { onRequest: (req) => order.push(keyOf(req)) },
      );
      expect(maxConcurrent).toBe(1);
      expect(state.config.parallelism).toBe(1);
      expect(order).toEqual(referenceSearch(config, script).order);
    }
  });

  it('runs k expansions concurrently with parallelism k', async () => {
    const script = randomScript(4, 4, 0.05, 0.02);
    let concurrent = 0;
    let maxConcurrent = 0;
    const state = await runSearchLocally(
      { iterations: 8, width: 4, parallelism: 4, seed: 4 },
      { observation: 'start' },
      async (req: ExpansionRequest) => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        // Uneven latency so results arrive out of order (bounded microtask hops, no timers).
        for (let i = 0; i < Number(req.nodeId) % 5; i++) await Promise.resolve();
        concurrent -= 1;
        return script(keyOf(req));
      },
    );
    expect(maxConcurrent).toBeGreaterThan(1);
    expect(maxConcurrent).toBeLessThanOrEqual(4);
    expect(state.counters.descentsStarted).toBe(8);
    checkInvariants(state);
  });

  it('turns a throwing expander into failed expansions', async () => {
    const state = await runSearchLocally({ iterations: 3, width: 2 }, { observation: 's' }, async (req) => {
      if (req.nodeId === '1') throw new Error('policy endpoint: 503');
      return [child('a'), child('b', { done: true, reward: 1 })];
    });
    expect(state.nodes[1]).toMatchObject({ terminal: true, error: 'policy endpoint: 503' });
    expect(state.counters.expansionsFailed).toBe(1);
    checkInvariants(state);
  });

  it('drives a resumed state (with jobs out) to the same end as an uninterrupted run', async () => {
    const script = randomScript(11, 3);
    const config = { iterations: 6, width: 3, maxDepth: 5, parallelism: 2, seed: 11 };
    const expand = async (req: ExpansionRequest) => script(keyOf(req));
    const straight = await runSearchLocally(config, { observation: 's' }, expand);

    // "Crash" after three results with jobs still out; restart from the serialised state.
    const partial = createSearch(config, { observation: 's' });
    for (let i = 0; i < 3; i++) {
      nextExpansions(partial);
      const [req] = inFlightExpansions(partial);
      applyExpansion(partial, req!.jobId, script(keyOf(req!)));
    }
    nextExpansions(partial);
    expect(inFlightExpansions(partial).length).toBeGreaterThan(0);
    const restored = parseSearchState(JSON.parse(JSON.stringify(partial)));
    const resumed = await driveSearch(restored, expand);
    checkInvariants(resumed);
    // Same tree as the uninterrupted run (results were served oldest-first in both).
    expect(resumed.nodes).toEqual(straight.nodes);
  });
});
