import { api, errorText } from '../api';
import { badge, type Child, h, notice } from '../dom';
import { num } from '../format';
import { link, runCrumbs, type ViewContext } from '../router';
import type { NativeRecord } from '../types';

type Turn = NativeRecord['revise_log'][number];
type Segment = 'task' | 'bad' | 'reflection' | 'good';

interface Part {
  segment: Segment;
  turns: Turn[];
  /** Step number of the first assistant turn in this part (1-based), for bad and good parts. */
  firstStep: number;
}

const segmentInfo: Record<Segment, { title: string; note: string }> = {
  task: { title: 'Task', note: 'Instruction and first observation (never trained)' },
  bad: {
    title: 'Bad prefix',
    note: 'Steps of the bad path up to the first error (kept as context, loss off)',
  },
  reflection: {
    title: 'Reflection',
    note: 'The revision turn the model learns to say (trained), then "ok."',
  },
  good: { title: 'Good suffix', note: 'Steps of the good path from where it differs (trained)' },
};

/**
 * Splits revise_log into task prefix / bad steps / reflection / good steps. The reflection is the
 * first trained assistant turn of a revision record; t' bad steps (two turns each) precede it.
 */
export function segmentsOf(record: NativeRecord): Part[] {
  const log = record.revise_log;
  const firstTrained = log.findIndex((t) => t.role === 'assistant' && t.loss === true);
  if (firstTrained < 0) return [{ segment: 'task', turns: log, firstStep: 0 }];
  if (record.kind === 'good') {
    return [
      { segment: 'task', turns: log.slice(0, firstTrained), firstStep: 0 },
      { segment: 'good', turns: log.slice(firstTrained), firstStep: 1 },
    ];
  }
  const badSteps = record.first_error_step ?? 0;
  const badStart = Math.max(0, firstTrained - 2 * badSteps);
  const reflectionEnd = Math.min(log.length, firstTrained + 2);
  return [
    { segment: 'task', turns: log.slice(0, badStart), firstStep: 0 },
    { segment: 'bad', turns: log.slice(badStart, firstTrained), firstStep: 1 },
    { segment: 'reflection', turns: log.slice(firstTrained, reflectionEnd), firstStep: 0 },
    { segment: 'good', turns: log.slice(reflectionEnd), firstStep: record.branch_step ?? 1 },
  ];
}

/** "Thought: ...\nAction: ..." shown as two parts, the action emphasised. */
function content(text: string): Child {
  const match = /^([\s\S]*?)\n?\s*Action:\s*([\s\S]*)$/.exec(text);
  if (!match) return h('div', { class: 'turn-text' }, text);
  return h(
    'div',
    { class: 'turn-text' },
    match[1] ? h('div', null, match[1]) : null,
    h(
      'div',
      { class: 'turn-action' },
      h('span', { class: 'muted' }, 'Action: '),
      h('code', null, match[2] ?? ''),
    ),
  );
}

function turnView(turn: Turn, part: Part, step: number | null, verdict: string | null): HTMLElement {
  const trained = turn.role === 'assistant' && turn.loss === true;
  const tags: Child[] = [];
  if (turn.role === 'assistant')
    tags.push(
      h(
        'span',
        { class: trained ? 'tag tag-trained' : 'tag tag-untrained' },
        trained ? 'trained' : 'not trained',
      ),
    );
  if (verdict) tags.push(h('span', { class: `tag verdict-${verdict.toLowerCase()}` }, `judge: ${verdict}`));
  const who =
    turn.role === 'user' && part.segment !== 'task' && part.segment !== 'reflection'
      ? 'environment'
      : turn.role;
  const label = `${who}${step !== null ? `, step ${step}` : ''}${turn.role === 'assistant' ? (trained ? ', trained' : ', not trained') : ''}`;
  return h(
    'article',
    {
      class: `turn role-${turn.role} seg-${part.segment}${trained ? ' trained' : ''}`,
      'aria-label': label,
      'data-loss': turn.role === 'assistant' ? String(trained) : null,
    },
    h(
      'header',
      null,
      h('span', { class: 'who' }, who),
      step !== null ? h('span', { class: 'step' }, `step ${step}`) : null,
      tags,
    ),
    content(turn.content),
  );
}

/** One record as a conversation: bad prefix, reflection and good suffix visibly apart. */
export async function revisionView(ctx: ViewContext): Promise<void> {
  const { main } = ctx;
  const runId = ctx.params.id!;
  const recordId = ctx.params.record!;
  const crumbs = runCrumbs(runId, `record ${recordId}`);
  main.append(crumbs);
  let record: NativeRecord;
  try {
    record = await api<NativeRecord>(
      `/v1/runs/${encodeURIComponent(runId)}/trajectories/${encodeURIComponent(recordId)}`,
    );
  } catch (error) {
    main.append(
      h('h1', { tabindex: '-1' }, 'Record'),
      notice(`Could not load the record: ${errorText(error)}`, 'error'),
    );
    return;
  }
  if (!ctx.alive()) return;

  const parts = segmentsOf(record);
  const isRevision = record.kind === 'revision';
  const facts: [string, string][] = [
    ['Task', String(record.task)],
    ['Kind', isRevision ? (record.revise ? 'revision (model-guided cut)' : 'revision (direct)') : 'good'],
    ["First error t'", record.first_error_step === null ? '—' : String(record.first_error_step)],
    ['Resumes at good step', record.branch_step === null ? '—' : String(record.branch_step)],
    ['Reward good / bad', `${num(record.reward_good)} / ${num(record.reward_bad)}`],
    [
      'Turns (trained)',
      `${record.revise_log.length} (${record.revise_log.filter((t) => t.role === 'assistant' && t.loss === true).length})`,
    ],
  ];
  const treeLinks = h(
    'p',
    { class: 'button-row' },
    h(
      'a',
      { class: 'button good', href: link.tree(runId, record.task, record.id, 'good') },
      'Good path in the tree',
    ),
    record.bad_leaf
      ? h(
          'a',
          { class: 'button bad', href: link.tree(runId, record.task, record.id, 'bad') },
          'Bad path in the tree',
        )
      : null,
  );

  // The judge's verdicts, one per judged bad step, in order.
  const verdicts = record.revise_feedback.map((f) => f.judgement);
  const body = h('div', { class: 'conversation' });
  for (const part of parts) {
    if (!part.turns.length) continue;
    const info = segmentInfo[part.segment];
    let step = part.firstStep;
    const turns = part.turns.map((turn) => {
      const isStep = turn.role === 'assistant' && (part.segment === 'bad' || part.segment === 'good');
      const shown = isStep ? step : null;
      const verdict = part.segment === 'bad' && isStep ? (verdicts[step - 1] ?? null) : null;
      if (isStep) step++;
      return turnView(turn, part, shown, verdict);
    });
    const section = h(
      'section',
      { class: `segment seg-${part.segment}`, 'aria-label': `${info.title}: ${info.note}` },
      h('h2', null, info.title, ' ', h('span', { class: 'muted' }, `— ${info.note}`)),
      turns,
    );
    body.append(
      part.segment === 'task'
        ? h(
            'details',
            { class: 'segment-task' },
            h('summary', null, `${info.title} (${part.turns.length} turns)`),
            section,
          )
        : section,
    );
  }

  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, `Record ${recordId}`),
      badge(isRevision ? 'revision' : 'good-record', record.kind),
    ),
    h(
      'dl',
      { class: 'facts inline' },
      facts.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v))),
    ),
    treeLinks,
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch seg-bad' }), 'bad prefix (loss off)'),
      h(
        'span',
        { class: 'legend-item' },
        h('span', { class: 'swatch seg-reflection' }),
        'reflection (trained)',
      ),
      h('span', { class: 'legend-item' }, h('span', { class: 'swatch seg-good' }), 'good suffix (trained)'),
    ),
    body,
    logsSection(record),
  );
}

/** The two source paths in full (the reference's high_log and low_log). */
function logsSection(record: NativeRecord): HTMLElement {
  const log = (title: string, turns: Turn[]) =>
    h(
      'details',
      { class: 'raw-log' },
      h('summary', null, `${title} (${turns.length} turns)`),
      h(
        'ol',
        null,
        turns.map((t) =>
          h('li', null, h('strong', null, `${t.role}: `), h('span', { class: 'turn-text' }, t.content)),
        ),
      ),
    );
  return h(
    'section',
    { 'aria-labelledby': 'logs-h' },
    h('h2', { id: 'logs-h' }, 'Source paths'),
    log('Whole good path (high_log)', record.high_log),
    record.low_log.length ? log('Whole bad path (low_log)', record.low_log) : null,
  );
}
