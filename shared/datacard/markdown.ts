import type { DataCard, DataSummary, Distribution } from '../contracts/datacard';

// `datacard.md`: the data card for people, the same numbers as `datacard.json`.

/** The headline rows of the card's before/after table: label and DataSummary key. */
export const summaryRows: readonly [string, keyof DataSummary][] = [
  ['records', 'records'],
  ['revision', 'revision'],
  ['good', 'good'],
  ['distinct conversations', 'distinct'],
  ['exact duplicates', 'duplicates'],
  ['records training a repeat of a rejected action (loops)', 'loop_records'],
  ['first trained action repeats the judged error', 'first_action_repeats_error'],
];

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function distributionRow(name: string, d: Distribution): string {
  const f = (x: number | null) => (x === null ? '-' : String(Number(x.toFixed(3))));
  return `| ${name} | ${d.count} | ${f(d.min)} | ${f(d.p50)} | ${f(d.p90)} | ${f(d.max)} | ${f(d.mean)} |`;
}

export function dataCardMarkdown(card: DataCard): string {
  const { before, after, settings: s } = card;
  const lines = [
    `# Data card: ${card.scope.kind} ${card.scope.id}`,
    '',
    `Curation: \`${card.curation}\`. Model: ${s.model ?? '-'}; judge: ${s.judge ?? s.model ?? '-'}; seed ${s.seed ?? '-'}; ` +
      `alpha ${s.alpha ?? '-'}, beta ${s.beta ?? '-'}, transition ${s.transition ?? '-'}; env ${s.env ?? '-'}.`,
    'Every number is computed from the records themselves.',
    '',
    '| | before curation | after |',
    '| --- | --- | --- |',
    ...summaryRows.map(([label, key]) => `| ${label} | ${before[key]} | ${after[key]} |`),
    ...(card.general > 0 ? [`| general chat examples mixed in | | ${card.general} |`] : []),
    '',
  ];
  if (card.curation_steps.length > 0) {
    lines.push(
      '## Curation rules (in order)',
      '',
      '| rule | before | after | removed |',
      '| --- | --- | --- | --- |',
    );
    for (const step of card.curation_steps)
      lines.push(`| ${step.rule} | ${step.before} | ${step.after} | ${step.removed} |`);
    lines.push('');
  }
  const t = card.trained;
  lines.push(
    '## Trained turns',
    '',
    `- environment actions in trained turns: ${t.actions}, rejected by the environment: ${t.rejected} (${pct(t.rejected_share)})`,
    `- records whose trained part repeats an action that was just rejected: ${t.loop_records} (${pct(t.loop_share)})`,
    `- revision records whose first trained action repeats the judged error: ${t.first_action_repeats_error}`,
    '',
    '## Sizes and rewards',
    '',
    '| per record | n | min | p50 | p90 | max | mean |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    distributionRow('turns', card.turns),
    distributionRow('tokens (chars / 4)', card.tokens),
    distributionRow('trained turns', card.trained_turns),
    distributionRow('reward of good paths', card.rewards.good),
    distributionRow('reward of bad paths', card.rewards.bad),
    '',
    '## First error relative to the branch point',
    '',
    "t' minus the step where the good path leaves the bad path (0: the judged error is the branching step; " +
      'negative: the judge placed the error inside the prefix both paths share).',
    '',
    '| offset | records |',
    '| --- | --- |',
    ...card.first_error_vs_branch.map((b) => `| ${b.offset} | ${b.count} |`),
    '',
    '## Judge labels (distinct judged steps)',
    '',
    `good ${card.judge_labels.good}, bad ${card.judge_labels.bad}, uncertain ${card.judge_labels.uncertain}, failed ${card.judge_labels.failed}`,
    '',
    '## Records by task',
    '',
    '| task | env | revision | good |',
    '| --- | --- | --- | --- |',
    ...card.by_task.map((row) => `| ${row.task} | ${row.env ?? '-'} | ${row.revision} | ${row.good} |`),
    '',
  );
  return lines.join('\n');
}
