import { z } from 'zod';
import type { TreeFile } from '../contracts/tree-file';
import { cutStep, type FirstErrorOptions, referenceJudgeCalls, sharedJudgeCalls } from './first-error';
import type { NativeRecord } from './native-record';
import { collectTaskPairs, pairingConfigSchema, type TaskSkipReason } from './pairs';
import { defaultRevisionSentences, drawRevisionSentence } from './revision-sentences';
import { createSeededRandom, deriveSeed } from './seeded-random';
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
  const config = spliceConfigSchema.parse(configInput);
  const context: RecordContext = { ...ctx, task: tree.task };
  const collected = collectTaskPairs(tree, config);
  const { skipped, goodPaths } = collected;
  // Per pair, the bad path carries that pair's verdicts; its feedback is keyed "pair:node".
  const pairs = pairJudgements
    ? collected.pairs.map((pair) => ({
        ...pair,
        bad: badPathAsJudged(pair.bad, pairJudgements[pairKeyOf(pair)]),
      }))
    : collected.pairs;
  const firstError: FirstErrorOptions = { unjudged: config.unjudged };
  const sentences = config.revisionSentences ?? defaultRevisionSentences;
  const rng = createSeededRandom(deriveSeed(config.seed, 'revision-sentence', tree.task));
  const revision: NativeRecord[] = [];
  let emptySplices = 0;
  for (const pair of pairs) {
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
    if (record) revision.push(record);
    else emptySplices++;
  }
  const good = config.includeGood ? goodPaths.map((path) => buildGoodRecord(context, path)) : [];
  return {
    skipped,
    revision,
    good,
    pairs: pairs.length,
    emptySplices,
    referenceJudgeCalls: referenceJudgeCalls(pairs, config.transition, firstError),
    judgeCalls: sharedJudgeCalls(pairs, config.transition, firstError),
  };
}
