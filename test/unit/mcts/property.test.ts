import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createRngState,
  createSearch,
  type ExpansionRequest,
  failExpansion,
  isComplete,
  nextExpansions,
  nextRandom,
  parseSearchState,
  randomIndex,
  type SearchState,
  searchConfigSchema,
} from '../../../shared/mcts';
import { keyOf, nodeKey, randomScript, referenceSearch, runSync } from './helpers';
import { checkInvariants } from './invariants';

const CASES = 150;

function randomConfig(caseSeed: number) {
  const r = createRngState(caseSeed);
  return searchConfigSchema.parse({
    iterations: 1 + randomIndex(r, 10),
    width: 1 + randomIndex(r, 4),
    maxDepth: randomIndex(r, 7),
    c: [0, 0.25, 1][randomIndex(r, 3)],
    parallelism: 1 + randomIndex(r, 5),
    seed: caseSeed,
  });
}

describe('parallelism 1 reproduces the reference loop step by step', () => {
  it(`same expansion order, visits, values and terminal flags (${CASES} random trees)`, () => {
    for (let caseSeed = 0; caseSeed < CASES; caseSeed++) {
      const config = { ...randomConfig(caseSeed), parallelism: 1 };
      const script = randomScript(caseSeed, config.width);
      const ref = referenceSearch(config, script);
      const state = createSearch(config, { observation: 'start' });
      const order = runSync(state, script);
      expect(order).toEqual(ref.order);
      expect(state.counters.descentsStarted).toBe(ref.iterationsRun);
      expect(state.nodes).toHaveLength(ref.stats.size);
      for (const n of state.nodes) {
        const r = ref.stats.get(nodeKey(state, n.id))!;
        expect({ visits: n.visits, terminal: n.terminal }).toEqual({
          visits: r.visits,
          terminal: r.terminal,
        });
        expect(n.value).toBeCloseTo(r.value, 12);
      }
      checkInvariants(state);
    }
  });
});

describe('invariants under random arrival order, duplicates, failures and restarts', () => {
  it(`holds for ${CASES} random trees and configurations`, () => {
    for (let caseSeed = 0; caseSeed < CASES; caseSeed++) {
      const config = randomConfig(caseSeed);
      const script = randomScript(caseSeed + 7, config.width);
      const chaos = createRngState(caseSeed + 99_999);
      let state: SearchState = createSearch(config, { observation: 'start' });
      const pending: ExpansionRequest[] = [];
      const resolved = new Map<string, ExpansionRequest>();
      let issued = 0;
      for (let guard = 0; guard < 20_000; guard++) {
        for (const req of nextExpansions(state)) {
          expect(resolved.has(req.jobId)).toBe(false);
          expect(pending.map((p) => p.nodeId)).not.toContain(req.nodeId);
          pending.push(req);
          issued += 1;
        }
        checkInvariants(state);
        if (pending.length === 0) break;
        const roll = nextRandom(chaos);
        if (roll < 0.1 && resolved.size > 0) {
          // A duplicate delivery of an old result: rejected, nothing changes.
          const old = [...resolved.values()][randomIndex(chaos, resolved.size)]!;
          const before = JSON.stringify(state);
          expect(applyExpansion(state, old.jobId, script(keyOf(old))).accepted).toBe(false);
          expect(JSON.stringify(state)).toBe(before);
          continue;
        }
        if (roll < 0.2) state = parseSearchState(JSON.parse(JSON.stringify(state)));
        const [req] = pending.splice(randomIndex(chaos, pending.length), 1);
        const outcome =
          nextRandom(chaos) < 0.08
            ? failExpansion(state, req!.jobId, 'injected failure')
            : applyExpansion(state, req!.jobId, script(keyOf(req!)));
        expect(outcome.accepted).toBe(true);
        resolved.set(req!.jobId, req!);
      }
      // Every in-flight job resolved exactly once and the search finished.
      expect(pending).toEqual([]);
      expect(resolved.size).toBe(issued);
      expect(state.counters.expansionsApplied + state.counters.expansionsFailed).toBe(issued);
      expect(isComplete(state)).toBe(true);
      checkInvariants(state);
    }
  });
});
