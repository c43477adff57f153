import type { RunSpec } from '../../../shared/contracts/run-spec';
import type { Judgement } from '../../../shared/contracts/tree-file';
import { type SearchState, setJudgement, toTreeFile } from '../../../shared/mcts';
import {
  BadPathFrontier,
  collectTaskPairs,
  EarlyJudging,
  type PairJudgements,
  type PathPair,
  pairJudgeFrontier,
  pairKeyOfJob,
  uniqueBadPaths,
} from '../../../shared/revision';
import type { SearchStore } from './search-store';
import type { MetaStore } from './sql';
import { judgeJob } from './tree-meta';

type JudgementValue = Exclude<Judgement, null>;
type JudgeJobSpec = { id: string; kind: 'judge'; nodeId: string };

/**
 * Which steps a TaskTree has judged, while it searches and after: every call costs what is still
 * open (bad paths waiting on verdicts), never a walk over the whole tree. The pairs of a finished
 * search are worked out once per task (their bad leaves are stored) instead of on every result.
 * The in-memory parts are rebuilt from storage after a wake or a rolled-back change (`reset`).
 */
export class Critique {
  private early: EarlyJudging | null = null;
  private after: BadPathFrontier | null = null;
  private pairs: PathPair[] | null = null;
  private pairJudgementsCache: PairJudgements | null = null;

  constructor(
    private readonly meta: MetaStore,
    private readonly store: SearchStore,
  ) {}

  reset(): void {
    this.early = null;
    this.after = null;
    this.pairs = null;
    this.pairJudgementsCache = null;
  }

  /**
   * Judge jobs for the bad paths found so far, while the search runs (`judgeDuringSearch`): the
   * same steps the critique would judge after the search, sent as soon as they are known.
   */
  earlyJobs(spec: RunSpec, search: SearchState): JudgeJobSpec[] {
    if (!spec.judgeDuringSearch || spec.transition === 'end' || spec.maxPairsPerTask !== undefined) return [];
    if (spec.judgeSampling === 'per-pair') return [];
    this.early ??= new EarlyJudging({ alpha: spec.alpha, beta: spec.beta }, spec.judgeLookahead ?? 1);
    return this.early.frontier(search.nodes).map(judgeJob);
  }

  /** The judge jobs still to do after the search; none left means the task can splice. */
  frontier(spec: RunSpec, task: number, search: SearchState): JudgeJobSpec[] {
    if (spec.judgeSampling === 'per-pair' && spec.transition !== 'end') {
      return pairJudgeFrontier(this.taskPairs(spec, task, search), this.pairJudgements()).map((j) => ({
        ...j,
        kind: 'judge' as const,
      }));
    }
    if (spec.transition === 'end') return [];
    if (!this.after) {
      // Steps still to judge, in order along each bad path that takes part in a pair. The pairs of
      // the finished tree are fixed (they do not depend on verdicts): found once, kept.
      let leaves = this.meta.get<string[]>('badLeaves');
      if (!leaves) {
        leaves = uniqueBadPaths(this.taskPairs(spec, task, search)).map((path) => path.leafId);
        this.meta.set('badLeaves', leaves);
      }
      // Specs stored before judgeLookahead existed judge one step at a time.
      this.after = new BadPathFrontier(leaves, spec.judgeLookahead ?? 1);
    }
    return this.after.frontier(search.nodes).map(judgeJob);
  }

  private taskPairs(spec: RunSpec, task: number, search: SearchState): PathPair[] {
    if (!this.pairs) this.store.loadTexts();
    this.pairs ??= collectTaskPairs(toTreeFile(search, task), {
      alpha: spec.alpha,
      beta: spec.beta,
      seed: spec.seed,
      maxPairsPerTask: spec.maxPairsPerTask,
    }).pairs;
    return this.pairs;
  }

  /**
   * A verdict: on the node (per-node, shared by every pair through it) or, for a per-pair job, in
   * that pair's own verdicts (feedback keyed "pair:node").
   */
  record(
    search: SearchState,
    jobId: string,
    nodeId: string,
    judgement: JudgementValue,
    feedback: string,
  ): void {
    const pairKey = pairKeyOfJob(jobId);
    if (pairKey === undefined) {
      setJudgement(search, nodeId, judgement);
      this.store.putFeedback(nodeId, feedback);
      return;
    }
    const all = this.pairJudgements();
    all[pairKey] = { ...(all[pairKey] ?? {}), [nodeId]: judgement };
    this.meta.set('pairJudgements', all);
    this.store.putPairFeedback(pairKey, nodeId, feedback);
  }

  pairJudgements(): PairJudgements {
    this.pairJudgementsCache ??= this.meta.get<PairJudgements>('pairJudgements') ?? {};
    return this.pairJudgementsCache;
  }
}
