import { normalizeAction } from '../eval/loops';
import { estimateTokens } from '../prompts/policy-messages';
import { isTrained } from '../revision/conversation';
import type { NativeRecord } from '../revision/native-record';
import { stableHash } from '../revision/stable-hash';
import { conversationSteps, environmentSteps, rootPrefixLength } from './steps';

// Everything curation and the data card need to know about one record, computed once from the
// record itself: a few numbers and flags, so a run of any size is curated and described from
// a small array while the records stay in storage.

export interface JudgedStep {
  /** Identity of the judged step: task + the actions leading to it (shared by every pair through it). */
  key: string;
  label: string;
}

export interface RecordFeatures {
  id: string;
  kind: 'revision' | 'good';
  task: number;
  env: string | null;
  /** Identity of the conversation: turns, texts and which turns are trained. */
  contentKey: string;
  badLeaf: string | null;
  goodLeaf: string;
  turns: number;
  /** Approximate tokens of the whole conversation (characters / 4; no tokenizer is assumed). */
  tokens: number;
  trainedTurns: number;
  /** Environment actions in the trained turns (the reflection turn is not one). */
  trainedActions: number;
  /** ... of which the environment rejected (e.g. `Could not find ...`). */
  trainedRejected: number;
  /** Trained actions that repeat the action right before them after the environment rejected it. */
  trainedRepeatsOfFailure: number;
  /** Revision records: the first trained action after the reflection is the action judged as the error. */
  firstActionRepeatsError: boolean;
  /** t' minus the step where the good path leaves the bad one (negative: judged error inside the shared prefix). */
  errorVsBranch: number | null;
  rewardGood: number;
  rewardBad: number | null;
  judged: JudgedStep[];
}

export function contentKeyOf(record: Pick<NativeRecord, 'revise_log'>): string {
  return stableHash(JSON.stringify(record.revise_log.map((m) => [m.role, m.content, isTrained(m)])));
}

/** The step (1-based) where two path logs with the same root prefix first differ. */
function divergenceStep(record: NativeRecord, prefix: number): number {
  let step = 1;
  for (let turn = prefix; ; turn += 2, step++) {
    const good = record.high_log[turn];
    const bad = record.low_log[turn];
    if (!good || !bad || good.content !== bad.content) return step;
  }
}

export function recordFeatures(record: NativeRecord): RecordFeatures {
  const prefix = rootPrefixLength(record);
  const steps = environmentSteps(record);
  const trained = steps.filter((s) => s.trained);
  let repeats = 0;
  const all = conversationSteps(record.revise_log).filter((s) => s.turn >= prefix);
  for (let i = 1; i < all.length; i++) {
    const step = all[i]!;
    const before = all[i - 1]!;
    if (step.trained && !step.reflection && before.rejected && before.action === step.action) repeats++;
  }
  const isRevision = record.kind === 'revision';
  const cut = record.first_error_step;
  const judgedError = isRevision && record.revise ? record.revise_feedback.at(-1) : undefined;
  const firstTrained = trained[0];
  const actionsSoFar: string[] = [];
  const judged = record.revise_feedback.map((f) => {
    actionsSoFar.push(f.action);
    return { key: stableHash(record.task, ...actionsSoFar), label: f.judgement };
  });
  return {
    id: record.id,
    kind: record.kind,
    task: record.task,
    env: record.env ?? null,
    contentKey: contentKeyOf(record),
    badLeaf: record.bad_leaf,
    goodLeaf: record.good_leaf,
    turns: record.revise_log.length,
    tokens: record.revise_log.reduce((sum, m) => sum + estimateTokens(m.content), 0),
    trainedTurns: record.revise_log.filter(isTrained).length,
    trainedActions: trained.length,
    trainedRejected: trained.filter((s) => s.rejected).length,
    trainedRepeatsOfFailure: repeats,
    firstActionRepeatsError:
      judgedError !== undefined &&
      judgedError.judgement === 'Bad' &&
      firstTrained !== undefined &&
      firstTrained.action === normalizeAction(judgedError.action),
    errorVsBranch: isRevision && cut !== null ? cut - divergenceStep(record, prefix) : null,
    rewardGood: record.reward_good,
    rewardBad: record.reward_bad,
    judged,
  };
}
