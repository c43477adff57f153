// The data card of a run or an assembled dataset: what the records hold, before and after curation.
import type { DataCard, Distribution } from '../../../shared/contracts/datacard';
import { api, errorText } from '../api';
import { type BarGroup, barChart } from '../charts';
import { h, notice, replace } from '../dom';
import { int, percent } from '../format';
import { summaryRows } from '../../../shared/datacard/markdown';
import { table } from './eval-metrics';

const one = (name: string, value: number, cls = 'bar-revision') => [{ name, value, cls }];

function histogram(title: string, d: Distribution): SVGSVGElement {
  return barChart(
    title,
    d.buckets.map((b): BarGroup => ({ label: String(b.from), values: one('records', b.count) })),
  );
}

export function dataCardBody(card: DataCard): HTMLElement {
  const t = card.trained;
  return h(
    'div',
    { class: 'datacard' },
    h(
      'p',
      { class: 'muted' },
      `Curation ${card.curation}; model ${card.settings.model ?? '—'}, seed ${card.settings.seed ?? '—'}, ` +
        `alpha ${card.settings.alpha ?? '—'}, beta ${card.settings.beta ?? '—'}, env ${card.settings.env ?? '—'}. ` +
        `In trained turns: ${int(t.actions)} actions, ${percent(t.rejected_share)} rejected by the environment; ` +
        `${int(t.loop_records)} records (${percent(t.loop_share)}) repeat a rejected action.`,
    ),
    table(
      'Before and after curation',
      ['', 'before', 'after'],
      summaryRows.map(([label, key]) => [label, int(card.before[key]), int(card.after[key])]),
    ),
    card.curation_steps.length
      ? table(
          'Curation rules, in order',
          ['rule', 'before', 'after', 'removed'],
          card.curation_steps.map((s) => [s.rule, int(s.before), int(s.after), int(s.removed)]),
        )
      : null,
    barChart(
      'Records by task',
      card.by_task.map((r) => ({
        label: String(r.task),
        values: [
          { name: 'revision', value: r.revision, cls: 'bar-revision' },
          { name: 'good', value: r.good, cls: 'bar-good' },
        ],
      })),
    ),
    barChart(
      "First error (t') minus branch step",
      card.first_error_vs_branch.map((b) => ({ label: String(b.offset), values: one('records', b.count) })),
    ),
    histogram('Turns per record', card.turns),
    histogram('Tokens per record (chars / 4)', card.tokens),
    barChart('Judge labels (distinct judged steps)', [
      { label: 'good', values: one('steps', card.judge_labels.good, 'bar-good') },
      { label: 'bad', values: one('steps', card.judge_labels.bad) },
      { label: 'uncertain', values: one('steps', card.judge_labels.uncertain) },
      { label: 'failed', values: one('steps', card.judge_labels.failed) },
    ]),
    histogram('Reward of good paths', card.rewards.good),
    histogram('Reward of bad paths', card.rewards.bad),
  );
}

/** A section that loads the card on demand (it reads every record, so not on every page view). */
export function dataCardSection(path: string, label: string): HTMLElement {
  const body = h('div');
  const button = h('button', { type: 'button' }, 'Show the data card');
  button.addEventListener('click', async () => {
    button.disabled = true;
    replace(body, notice('Computing the data card…'));
    try {
      replace(body, dataCardBody(await api<DataCard>(path)));
    } catch (error) {
      replace(body, notice(`Could not load the data card: ${errorText(error)}`, 'error'));
      button.disabled = false;
    }
  });
  return h(
    'section',
    { 'aria-labelledby': 'card-h' },
    h('h2', { id: 'card-h' }, `Data card (${label})`),
    button,
    body,
  );
}
