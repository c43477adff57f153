import { describe, expect, it } from 'vitest';
import {
  applyExpansion,
  createRngState,
  createSearch,
  deriveSearchFields,
  type ExpansionRequest,
  failExpansion,
  nextExpansions,
  nextRandom,
  randomIndex,
  type SearchNode,
  type SearchState,
  searchConfigSchema,
} from '../../../shared/mcts';
import { keyOf, randomScript } from './helpers';

const CASES = 150;

/** The nodes with only their own data kept, the derived fields scrambled. */
function ownDataOnly(state: SearchState): SearchNode[] {
  return state.nodes.map((n) => ({
    ...n,
    childIds: ['x'],
    expanded: !n.expanded,
    terminal: !n.terminal,
    visits: 99,
    value: -1,
  }));
}

describe('deriveSearchFields', () => {
  it(`rebuilds childIds, expanded, terminal, visits and value bit for bit after every event (${CASES} random trees, failures, any arrival order)`, () => {
    let checked = 0;
    for (let caseSeed = 0; caseSeed < CASES; caseSeed++) {
      // Every combination of these moduli comes up across the cases.
      const config = searchConfigSchema.parse({
        iterations: 1 + (caseSeed % 12),
        width: 1 + (caseSeed % 4),
        maxDepth: caseSeed % 7,
        c: [0, 0.25, 1][caseSeed % 3],
        parallelism: 1 + (caseSeed % 5),
        seed: caseSeed,
      });
      // Rewards such as 0.025 and 0.05 do not add up exactly in floating point: order matters.
      const script = randomScript(caseSeed + 3, config.width);
      const chaos = createRngState(caseSeed + 12_345);
      const state = createSearch(config, { observation: 'start' });
      const pending: ExpansionRequest[] = [];
      for (let guard = 0; guard < 20_000; guard++) {
        pending.push(...nextExpansions(state));
        const rebuilt = ownDataOnly(state);
        deriveSearchFields(rebuilt, config.maxDepth);
        expect(JSON.stringify(rebuilt)).toBe(JSON.stringify(state.nodes));
        checked += 1;
        if (pending.length === 0) break;
        const [req] = pending.splice(randomIndex(chaos, pending.length), 1);
        if (nextRandom(chaos) < 0.08) failExpansion(state, req!.jobId, 'injected failure');
        else applyExpansion(state, req!.jobId, script(keyOf(req!)));
      }
    }
    expect(checked).toBeGreaterThan(CASES * 5);
  });

  it('refuses a node whose parent comes after it', () => {
    const state = createSearch({ maxDepth: 3 }, { observation: 'o' });
    const bad = { ...state.nodes[0]!, id: '1', parentId: '2' };
    expect(() => deriveSearchFields([state.nodes[0]!, bad], 3)).toThrow(/node 1 has parent 2/);
  });
});
