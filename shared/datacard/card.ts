import type { RecordFeatures } from '../curation/features';
import { type CurationOptionsInput, curate } from '../curation/presets';
import type { Curation, DataCard, DataCardSettings, DataSummary, Distribution } from '../contracts/datacard';

/** Summary statistics and a histogram; `width` is the bucket width (values bucketed by floor(v / width)). */
export function distribution(values: readonly number[], width: number): Distribution {
  if (values.length === 0)
    return { count: 0, min: null, p50: null, p90: null, max: null, mean: null, buckets: [], width };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const buckets = new Map<number, number>();
  for (const v of sorted) {
    // The epsilon keeps 0.3 / 0.1 = 2.9999... in the bucket of 0.3.
    const from = Math.floor(v / width + 1e-9) * width;
    buckets.set(from, (buckets.get(from) ?? 0) + 1);
  }
  return {
    count: sorted.length,
    min: sorted[0]!,
    p50: at(0.5),
    p90: at(0.9),
    max: sorted[sorted.length - 1]!,
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
    buckets: [...buckets].map(([from, n]) => ({ from: round(from), count: n })),
    width,
  };
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** A bucket width giving about 20 buckets for the range, rounded to 1, 2 or 5 x 10^k. */
function niceWidth(values: readonly number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  const raw = Math.max(1, max / 20);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].map((m) => m * magnitude).find((w) => w >= raw) ?? raw) as number;
}

export function summarize(records: readonly RecordFeatures[]): DataSummary {
  const distinct = new Set(records.map((r) => r.contentKey)).size;
  const revision = records.filter((r) => r.kind === 'revision').length;
  return {
    records: records.length,
    revision,
    good: records.length - revision,
    distinct,
    duplicates: records.length - distinct,
    loop_records: records.filter((r) => r.trainedRepeatsOfFailure > 0).length,
    first_action_repeats_error: records.filter((r) => r.firstActionRepeatsError).length,
  };
}

function byTask(records: readonly RecordFeatures[]): DataCard['by_task'] {
  const rows = new Map<number, DataCard['by_task'][number]>();
  for (const r of records) {
    const row = rows.get(r.task) ?? { task: r.task, env: r.env, revision: 0, good: 0 };
    row[r.kind]++;
    rows.set(r.task, row);
  }
  return [...rows.values()].sort((a, b) => a.task - b.task);
}

function judgeLabels(records: readonly RecordFeatures[]): DataCard['judge_labels'] {
  const labels = new Map<string, string>();
  for (const r of records) for (const step of r.judged) labels.set(step.key, step.label);
  const out = { good: 0, bad: 0, uncertain: 0, failed: 0 };
  for (const label of labels.values()) {
    const key = label.toLowerCase();
    if (key === 'good' || key === 'bad' || key === 'uncertain') out[key]++;
    else out.failed++;
  }
  return out;
}

function histogram(values: readonly number[]): DataCard['first_error_vs_branch'] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0] - b[0]).map(([offset, n]) => ({ offset, count: n }));
}

export interface DataCardInput {
  scope: DataCard['scope'];
  /** Every record of the run or dataset, before curation. */
  records: readonly RecordFeatures[];
  curation: Curation;
  curationOptions?: CurationOptionsInput;
  settings: DataCardSettings;
  general?: number;
}

/** The card of the records `curation` keeps, and the curation's effect; also returns the kept records. */
export function buildDataCard(input: DataCardInput): { card: DataCard; kept: RecordFeatures[] } {
  const { kept, steps } = curate(input.records, input.curation, {
    seed: input.settings.seed ?? 0,
    ...input.curationOptions,
  });
  const after = summarize(kept);
  const actions = kept.reduce((s, r) => s + r.trainedActions, 0);
  const rejected = kept.reduce((s, r) => s + r.trainedRejected, 0);
  const revisions = kept.filter((r) => r.kind === 'revision');
  const turns = kept.map((r) => r.turns);
  const tokens = kept.map((r) => r.tokens);
  const trainedTurns = kept.map((r) => r.trainedTurns);
  const card: DataCard = {
    version: 1,
    scope: input.scope,
    curation: input.curation,
    curation_steps: steps,
    before: summarize(input.records),
    after,
    general: input.general ?? 0,
    by_task: byTask(kept),
    turns: distribution(turns, niceWidth(turns)),
    tokens: distribution(tokens, niceWidth(tokens)),
    trained_turns: distribution(trainedTurns, niceWidth(trainedTurns)),
    first_error_vs_branch: histogram(
      revisions.flatMap((r) => (r.errorVsBranch === null ? [] : [r.errorVsBranch])),
    ),
    judge_labels: judgeLabels(kept),
    trained: {
      actions,
      rejected,
      rejected_share: actions === 0 ? 0 : round(rejected / actions),
      loop_records: after.loop_records,
      loop_share: kept.length === 0 ? 0 : round(after.loop_records / kept.length),
      first_action_repeats_error: after.first_action_repeats_error,
    },
    rewards: {
      // Good paths: one value per distinct good leaf; bad paths: per distinct bad leaf.
      good: distribution(
        distinctBy(
          kept,
          (r) => `${r.task}:${r.goodLeaf}`,
          (r) => r.rewardGood,
        ),
        0.1,
      ),
      bad: distribution(
        distinctBy(
          revisions,
          (r) => `${r.task}:${r.badLeaf}`,
          (r) => r.rewardBad ?? 0,
        ),
        0.1,
      ),
    },
    settings: input.settings,
  };
  return { card, kept };
}

function distinctBy(
  records: readonly RecordFeatures[],
  key: (r: RecordFeatures) => string,
  value: (r: RecordFeatures) => number,
): number[] {
  const seen = new Map<string, number>();
  for (const r of records) if (!seen.has(key(r))) seen.set(key(r), value(r));
  return [...seen.values()];
}

/** The one line `build` prints about its data. */
export function dataSummaryLine(card: Pick<DataCard, 'curation' | 'after'>): string {
  const a = card.after;
  const pct = (n: number) => (a.records === 0 ? '0%' : `${Math.round((100 * n) / a.records)}%`);
  return (
    `data (${card.curation}): ${a.records} records (${a.revision} revision, ${a.good} good), ` +
    `${a.distinct} distinct (${pct(a.duplicates)} duplicates), loops in trained turns: ` +
    `${a.loop_records} records (${pct(a.loop_records)}), first action repeats the judged error: ` +
    `${a.first_action_repeats_error}`
  );
}
