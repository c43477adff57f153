import type { Judgement } from '../contracts/tree-file';
import type { LeafPath } from './leaf-paths';
import type { PathPair } from './pairs';

// Per-pair judging (`judgeSampling: per-pair`), the reference's pattern: every (good, bad) pair
// re-judges its bad path's steps one at a time from the first until the first Bad, each call
// sampled afresh. The verdicts belong to the pair, not to the tree's nodes.

/** A pair's judgements by node id. */
export type PairJudgements = Record<string, Record<string, Exclude<Judgement, null>>>;

/** The key of a pair: its good and bad leaves. */
export function pairKeyOf(pair: PathPair): string {
  return `${pair.good.leafId}>${pair.bad.leafId}`;
}

const PAIR_JOB = /^judge:([^:>]+>[^:>]+):(.+)$/;

/** The judge job of one step of one pair. */
export function pairJudgeJobId(pairKey: string, nodeId: string): string {
  return `judge:${pairKey}:${nodeId}`;
}

/** The pair a judge job id belongs to (undefined for per-node jobs). */
export function pairKeyOfJob(jobId: string): string | undefined {
  return PAIR_JOB.exec(jobId)?.[1];
}

/** The bad path as this pair judged it (steps it has not judged read as null). */
export function badPathAsJudged(
  bad: LeafPath,
  judged: Record<string, Exclude<Judgement, null>> = {},
): LeafPath {
  return {
    ...bad,
    nodes: bad.nodes.map((node, i) => ({ ...node, judgement: i === 0 ? null : (judged[node.id] ?? null) })),
  };
}

/** The next step each unresolved pair waits on: one per pair, in pair order. */
export function pairJudgeFrontier(
  pairs: readonly PathPair[],
  judgements: PairJudgements,
): { id: string; nodeId: string }[] {
  const out: { id: string; nodeId: string }[] = [];
  for (const pair of pairs) {
    const key = pairKeyOf(pair);
    const judged = judgements[key] ?? {};
    for (const node of pair.bad.nodes.slice(1)) {
      const verdict = judged[node.id];
      if (verdict === undefined) {
        out.push({ id: pairJudgeJobId(key, node.id), nodeId: node.id });
        break;
      }
      if (verdict === 'bad') break;
    }
  }
  return out;
}
