import { describe, expect, it } from 'vitest';
import { dataCardSchema } from '../../../shared/contracts/datacard';
import { recordFeatures } from '../../../shared/curation/features';
import { buildDataCard, dataCardMarkdown, dataSummaryLine, distribution } from '../../../shared/datacard';
import { craftingRecords } from './fixture';

const settings = {
  model: 'sim',
  judge: null,
  seed: 0,
  alpha: 0.5,
  beta: 0.2,
  transition: 'model',
  env: 'crafting',
};

function records() {
  const a = craftingRecords(3);
  const b = craftingRecords(4);
  return [...a.revision, ...a.good, ...b.revision, ...b.good].map(recordFeatures);
}

describe('distribution', () => {
  it('summarises and buckets values', () => {
    const d = distribution([1, 2, 2, 3, 10], 2);
    expect(d).toMatchObject({ count: 5, min: 1, p50: 2, max: 10, mean: 3.6 });
    expect(d.buckets).toEqual([
      { from: 0, count: 1 },
      { from: 2, count: 3 },
      { from: 10, count: 1 },
    ]);
    expect(distribution([0.3, 0.7, 1], 0.1).buckets.map((b) => b.from)).toEqual([0.3, 0.7, 1]);
    expect(distribution([], 1)).toMatchObject({ count: 0, min: null, buckets: [] });
  });
});

describe('data card', () => {
  it('counts the records as they are (reference)', () => {
    const { card, kept } = buildDataCard({
      scope: { kind: 'run', id: 'run-c' },
      records: records(),
      curation: 'reference',
      settings,
    });
    expect(dataCardSchema.parse(card)).toEqual(card);
    expect(kept).toHaveLength(12);
    expect(card.after).toEqual({
      records: 12,
      revision: 8,
      good: 4,
      distinct: 8,
      duplicates: 4,
      loop_records: 6, // the r4 revision records (2 per task) and the r4 good record
      first_action_repeats_error: 4,
    });
    expect(card.before).toEqual(card.after);
    expect(card.by_task).toEqual([
      { task: 3, env: 'crafting', revision: 4, good: 2 },
      { task: 4, env: 'crafting', revision: 4, good: 2 },
    ]);
    // Trained actions per task: 2 x 3 (r-records) + 2 x 2 (g-records) + 4 + 3 (good) = 17, rejected 2+2+2 = 6.
    expect(card.trained).toMatchObject({
      actions: 34,
      rejected: 12,
      loop_records: 6,
      first_action_repeats_error: 4,
    });
    expect(card.trained.rejected_share).toBeCloseTo(12 / 34, 4);
    expect(card.first_error_vs_branch).toEqual([{ offset: 0, count: 8 }]);
    // Judged steps a1 (Good) and b2 (Bad) per task, shared by all the task's records.
    expect(card.judge_labels).toEqual({ good: 2, bad: 2, uncertain: 0, failed: 0 });
    expect(card.rewards.good).toMatchObject({ count: 4, min: 1, max: 1 });
    expect(card.rewards.bad).toMatchObject({ count: 4, min: 0, max: 0 });
    expect(card.turns).toMatchObject({ count: 12, min: 10, max: 16 });
    expect(card.curation_steps).toEqual([]);
  });

  it('shows the clean curation rule by rule, before and after', () => {
    const { card, kept } = buildDataCard({
      scope: { kind: 'run', id: 'run-c' },
      records: records(),
      curation: 'clean',
      settings,
    });
    expect(kept).toHaveLength(4);
    expect(card.before.records).toBe(12);
    expect(card.after).toMatchObject({
      records: 4,
      distinct: 4,
      duplicates: 0,
      loop_records: 0,
      first_action_repeats_error: 0,
    });
    expect(card.curation_steps.map((s) => s.removed)).toEqual([4, 4, 0, 0, 0]);
    expect(card.trained.rejected).toBe(0);
  });

  it('renders the same numbers as markdown and one summary line', () => {
    const { card } = buildDataCard({
      scope: { kind: 'run', id: 'run-c' },
      records: records(),
      curation: 'clean',
      settings,
    });
    const md = dataCardMarkdown(card);
    expect(md).toContain('# Data card: run run-c');
    expect(md).toContain('| exact duplicates | 4 | 0 |');
    expect(md).toContain('| dedupe | 12 | 8 | 4 |');
    expect(md).toContain('| 3 | crafting | 1 | 1 |');
    expect(dataSummaryLine(card)).toBe(
      'data (clean): 4 records (2 revision, 2 good), 4 distinct (0% duplicates), loops in trained turns: 0 records (0%), first action repeats the judged error: 0',
    );
  });
});
