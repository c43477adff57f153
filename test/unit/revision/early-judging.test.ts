import { describe, expect, it } from 'vitest';
import {
  createRngState,
  createSearch,
  nextRandom,
  randomIndex,
  type SearchState,
  searchConfigSchema,
  setJudgement,
  toTreeFile,
} from '../../../shared/mcts';
import { BadPathFrontier, EarlyJudging, earlyJudgeFrontier } from '../../../shared/revision/early-judging';
import { nodesAwaitingJudgement, uniqueBadPaths } from '../../../shared/revision/first-error';
import { collectTaskPairs } from '../../../shared/revision/pairs';
import { spliceTask } from '../../../shared/revision/splice-task';
import type { Judgement } from '../../../shared/contracts/tree-file';
import { hashString, nodeKey, randomScript, runSync } from '../mcts/helpers';
import { rootPrefix } from './tree-builder';

const CASES = 120;
const settings = [
  { alpha: 0.5, beta: 0.2 },
  { alpha: 0.2, beta: 0.1 },
  { alpha: 1, beta: 0.2 },
];

/** The critic's answer for a step: fixed by the step's path, as a real judge's is. */
function verdict(state: SearchState, id: string): Judgement {
  const roll = hashString(`verdict:${nodeKey(state, id)}`) % 10;
  return roll < 3 ? 'bad' : roll < 9 ? 'good' : 'uncertain';
}

/** The critique after the search: judge the frontier of the pairs' bad paths until it is empty. */
function critiqueAfterSearch(state: SearchState, thresholds: { alpha: number; beta: number }, block: number) {
  const tree = toTreeFile(state, 0);
  const badPaths = uniqueBadPaths(collectTaskPairs(tree, thresholds).pairs);
  for (let round = 0; round < 1000; round++) {
    const frontier = nodesAwaitingJudgement(toTreeFile(state, 0), badPaths, block);
    if (frontier.length === 0) return;
    for (const node of frontier) setJudgement(state, node.id, verdict(state, node.id));
  }
  throw new Error('critique did not converge');
}

function judgedIds(state: SearchState): string[] {
  return state.nodes.filter((n) => n.judgement !== null).map((n) => n.id);
}

function records(state: SearchState, thresholds: { alpha: number; beta: number }, seed: number) {
  return spliceTask(toTreeFile(state, 0), { runId: 'early', rootPrefix }, { ...thresholds, seed });
}

/** A random search configuration, thresholds and judging block for one case. */
function randomCase(caseSeed: number, offset: number, maxIterations: number) {
  const r = createRngState(caseSeed + offset);
  const config = searchConfigSchema.parse({
    iterations: 2 + randomIndex(r, maxIterations),
    width: 1 + randomIndex(r, 4),
    maxDepth: 1 + randomIndex(r, 6),
    parallelism: 1 + randomIndex(r, 4),
    seed: caseSeed,
  });
  return { config, thresholds: settings[caseSeed % settings.length]!, block: 1 + randomIndex(r, 4) };
}

describe('judging during the search', () => {
  it(`judges exactly the steps the critique after the search would, with the same records (${CASES} random searches)`, () => {
    let earlyJudged = 0;
    let withPairs = 0;
    for (let caseSeed = 0; caseSeed < CASES; caseSeed++) {
      const { config, thresholds, block } = randomCase(caseSeed, 7, 10);
      const script = randomScript(caseSeed, config.width, 0.25, 0.1);

      const afterOnly = createSearch(config, { observation: 'start' });
      runSync(afterOnly, script);
      critiqueAfterSearch(afterOnly, thresholds, block);

      const early = createSearch(config, { observation: 'start' });
      const answers = createRngState(caseSeed + 99);
      runSync(early, script, {
        onStep: () => {
          // Some verdicts arrive at once, others later (or only after the search).
          for (const id of earlyJudgeFrontier(early.nodes, thresholds, block)) {
            if (nextRandom(answers) < 0.6) {
              setJudgement(early, id, verdict(early, id));
              earlyJudged++;
            }
          }
        },
      });
      critiqueAfterSearch(early, thresholds, block);

      expect(early.nodes.length).toBe(afterOnly.nodes.length);
      expect(judgedIds(early)).toEqual(judgedIds(afterOnly));
      const a = records(early, thresholds, caseSeed);
      const b = records(afterOnly, thresholds, caseSeed);
      expect(JSON.stringify(a.revision)).toBe(JSON.stringify(b.revision));
      expect(a.judgeCalls).toBe(b.judgeCalls);
      if (b.pairs > 0) withPairs++;
    }
    // The property is only worth something if searches made pairs and steps were judged early.
    expect(withPairs).toBeGreaterThan(CASES / 4);
    expect(earlyJudged).toBeGreaterThan(CASES);
  });

  it(`kept up event by event, asks for the same steps as the whole-tree frontier (${CASES} random searches)`, () => {
    let asked = 0;
    for (let caseSeed = 0; caseSeed < CASES; caseSeed++) {
      const { config, thresholds, block } = randomCase(caseSeed, 11, 12);
      const state = createSearch(config, { observation: 'start' });
      const incremental = new EarlyJudging(thresholds, block);
      const answers = createRngState(caseSeed + 5);
      const check = () => {
        const whole = earlyJudgeFrontier(state.nodes, thresholds, block);
        const kept = incremental.frontier(state.nodes);
        expect([...kept].sort()).toEqual([...whole].sort());
        asked += kept.length;
        for (const id of kept) if (nextRandom(answers) < 0.5) setJudgement(state, id, verdict(state, id));
      };
      runSync(state, randomScript(caseSeed, config.width, 0.25, 0.1), { onStep: check });
      for (let round = 0; round < 100 && earlyJudgeFrontier(state.nodes, thresholds, block).length; round++)
        check();
      expect(incremental.frontier(state.nodes)).toEqual([]);

      // After the search: the critique's frontier over fixed bad paths, resolved paths dropped.
      const tree = toTreeFile(state, 0);
      const badPaths = uniqueBadPaths(collectTaskPairs(tree, thresholds).pairs);
      const critique = new BadPathFrontier(
        badPaths.map((p) => p.leafId),
        block,
      );
      for (let round = 0; round < 1000; round++) {
        const whole = nodesAwaitingJudgement(toTreeFile(state, 0), badPaths, block).map((n) => n.id);
        expect(critique.frontier(state.nodes)).toEqual(whole);
        if (whole.length === 0) break;
        for (const id of whole) if (nextRandom(answers) < 0.7) setJudgement(state, id, verdict(state, id));
      }
    }
    expect(asked).toBeGreaterThan(CASES);
  });

  it('asks for nothing before a good leaf exists, then for the first block of each bad path', () => {
    const state = createSearch(searchConfigSchema.parse({ iterations: 1, width: 2, maxDepth: 5, seed: 1 }), {
      observation: 'start',
    });
    const node = (
      id: number,
      parentId: number | null,
      extra: Partial<SearchState['nodes'][number]> = {},
    ) => ({
      ...state.nodes[0]!,
      id: String(id),
      parentId: parentId === null ? null : String(parentId),
      childIds: [] as string[],
      ...extra,
    });
    // 0 -> 1 -> 2 (failed leaf, reward 0); 0 -> 3 (leaf with an expansion error).
    const nodes = [
      node(0, null, { childIds: ['1', '3'] }),
      node(1, 0, { childIds: ['2'] }),
      node(2, 1, { terminal: true, reward: 0 }),
      node(3, 0, { terminal: true, reward: 0, error: 'env down' }),
    ];
    const thresholds = { alpha: 0.5, beta: 0.2 };
    expect(earlyJudgeFrontier(nodes, thresholds, 1)).toEqual([]);
    // A successful leaf appears under 1: now 0-1-2 pairs with it; the errored leaf never does.
    nodes[1]!.childIds.push('4');
    nodes.push(node(4, 1, { terminal: true, reward: 1 }));
    expect(earlyJudgeFrontier(nodes, thresholds, 1)).toEqual(['1']);
    expect(earlyJudgeFrontier(nodes, thresholds, 4)).toEqual(['1', '2']);
    nodes[1]!.judgement = 'good';
    expect(earlyJudgeFrontier(nodes, thresholds, 1)).toEqual(['2']);
    nodes[1]!.judgement = 'bad';
    expect(earlyJudgeFrontier(nodes, thresholds, 1)).toEqual([]);
    // A negative reward anywhere: the root's value could still fall, so nothing is guessed.
    nodes[2]!.reward = -1;
    nodes[1]!.judgement = null;
    expect(earlyJudgeFrontier(nodes, thresholds, 1)).toEqual([]);
  });
});
