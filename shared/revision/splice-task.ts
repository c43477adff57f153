import { z } from 'zod';
import type { TreeFile } from '../contracts/tree-file';
import { cutStep, type FirstErrorOptions, firstErrorStep, sharedJudgeCalls } from './first-error';
import type { NativeRecord } from './native-record';
import {
  goodLeafPaths,
  LeafPairs,
  type PathPair,
  pairingConfigSchema,
  type TaskSkipReason,
  taskLeafPaths,
} from './pairs';
import { defaultRevisionSentences, drawRevisionSentence } from './revision-sentences';
import { createRng, deriveSeed } from '../random';
import { badPathAsJudged, type PairJudgements, pairKeyOf } from './per-pair';
import { buildGoodRecord, buildRevisionRecord, type RecordContext } from './splice';

/** Everything that shapes one task's training records. */
export const spliceConfigSchema = pairingConfigSchema.extend({
  transition: z.enum(['model', 'end']).default('model'),
  /** The run's own reflection sentences; defaults to ours. */
  revisionSentences: z.array(z.string().min(1)).min(1).optional(),
  includeGood: z.boolean().default(true),
  /** How to read a step the critic could not judge (a failed job): stop with an error, or as Uncertain. */
  unjudged: z.enum(['throw', 'uncertain']).default('throw'),
});
export type SpliceConfigInput = z.input<typeof spliceConfigSchema>;
export type SpliceConfig = z.output<typeof spliceConfigSchema>;

export interface SpliceTaskResult {
  skipped: TaskSkipReason | null;
  revision: NativeRecord[];
  good: NativeRecord[];
  pairs: number;
  /** Pairs whose splice left no good step (only possible in trees with duplicate sibling texts). */
  emptySplices: number;
  /** Judge calls the reference would make on these pairs, and with per-node sharing (what we make). */
  referenceJudgeCalls: number;
  judgeCalls: number;
}

/** One record of a splice: revision records come in pair order, then the good ones. */
export interface SplicedRecord {
  kind: 'revision' | 'good';
  record: NativeRecord;
}

export type SpliceTaskCounts = Omit<SpliceTaskResult, 'revision' | 'good'> & {
  revision: number;
  good: number;
};

/**
 * Turns one finished (and, for `model`, fully judged) tree into revision and good records.
 * Deterministic: pair order and revision sentences come from seeds derived from the config
 * seed and the task, one sentence draw per pair in pair order.
 */
export function spliceTask(
  tree: TreeFile,
  ctx: Omit<RecordContext, 'task'>,
  configInput: SpliceConfigInput,
  feedbackText?: (nodeId: string) => string | undefined,
  /** Per-pair judging (`judgeSampling: per-pair`): each pair's own verdicts, keyed by pairKeyOf. */
  pairJudgements?: PairJudgements,
): SpliceTaskResult {
  const revision: NativeRecord[] = [];
  const good: NativeRecord[] = [];
  const records = spliceTaskRecords(tree, ctx, configInput, feedbackText, pairJudgements);
  for (let next = records.next(); ; next = records.next()) {
    if (next.done) return { ...next.value, revision, good };
    (next.value.kind === 'revision' ? revision : good).push(next.value.record);
  }
}

/**
 * `spliceTask` without holding the pairs or the records: pairs come one at a time from the sorted
 * leaf list (`LeafPairs`), each record is yielded as soon as it is built, and the counts are the
 * generator's return value. What it keeps grows with the tree (leaf paths, one 4-byte index per
 * pair, the distinct bad paths), not with the records' text.
 */
export function* spliceTaskRecords(
  tree: TreeFile,
  ctx: Omit<RecordContext, 'task'>,
  configInput: SpliceConfigInput,
  feedbackText?: (nodeId: string) => string | undefined,
  pairJudgements?: PairJudgements,
): Generator<SplicedRecord, SpliceTaskCounts> {
  const config = spliceConfigSchema.parse(configInput);
  const context: RecordContext = { ...ctx, task: tree.task };
  const { skipped, leafPaths } = taskLeafPaths(tree);
  const firstError: FirstErrorOptions = { unjudged: config.unjudged };
  const sentences = config.revisionSentences ?? defaultRevisionSentences;
  const rng = createRng(deriveSeed(config.seed, 'revision-sentence', tree.task));
  const pairs = new LeafPairs(leafPaths, config).inOrder(config.seed, tree.task, config.maxPairsPerTask);
  let count = 0;
  let revision = 0;
  let emptySplices = 0;
  let referenceCalls = 0;
  // The distinct bad paths (first seen, as that pair judged them) for the shared-call count.
  const badPaths = new Map<string, PathPair>();
  for (const plain of pairs) {
    // Per pair, the bad path carries that pair's verdicts; its feedback is keyed "pair:node".
    const pair = pairJudgements
      ? { ...plain, bad: badPathAsJudged(plain.bad, pairJudgements[pairKeyOf(plain)]) }
      : plain;
    count++;
    if (!badPaths.has(pair.bad.leafId)) badPaths.set(pair.bad.leafId, pair);
    if (config.transition !== 'end') referenceCalls += firstErrorStep(pair.bad, firstError);
    const sentence = drawRevisionSentence(rng, sentences);
    const cut = cutStep(pair.bad, config.transition, firstError);
    const key = pairKeyOf(pair);
    const textOf =
      feedbackText && pairJudgements ? (nodeId: string) => feedbackText(`${key}:${nodeId}`) : feedbackText;
    const record = buildRevisionRecord(context, pair, {
      transition: config.transition,
      cut,
      sentence,
      ...(textOf ? { feedbackText: textOf } : {}),
    });
    if (record) {
      yield { kind: 'revision', record };
      revision++;
    } else emptySplices++;
  }
  let good = 0;
  if (config.includeGood) {
    for (const path of goodLeafPaths(leafPaths, config.alpha)) {
      yield { kind: 'good', record: buildGoodRecord(context, path) };
      good++;
    }
  }
  return {
    skipped,
    revision,
    good,
    pairs: count,
    emptySplices,
    referenceJudgeCalls: referenceCalls,
    judgeCalls: sharedJudgeCalls([...badPaths.values()], config.transition, firstError),
  };
}
