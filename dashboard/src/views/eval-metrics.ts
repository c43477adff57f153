// Eval metrics and iterations, read loosely: the iterations and evals routes are built in
// parallel, so shapes are looked up by key patterns and missing fields show as a dash.
import { barChart, lineChart, type Point } from '../charts';
import { badge, type Child, h } from '../dom';
import { int, num, percent, shortId } from '../format';
import { link } from '../router';

export type Loose = Record<string, unknown>;

export function listOf(body: unknown, key: string): Loose[] {
  if (Array.isArray(body)) return body as Loose[];
  if (body && typeof body === 'object' && Array.isArray((body as Loose)[key]))
    return (body as Loose)[key] as Loose[];
  return [];
}

export const str = (v: unknown): string | null =>
  typeof v === 'string' || typeof v === 'number' ? String(v) : null;
export const numberOf = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

/** Numeric fields of an object, top level first, then one and two levels down (dotted keys). */
export function flattenNumbers(value: unknown): Map<string, number> {
  const out = new Map<string, number>();
  let level: [string, unknown][] = value && typeof value === 'object' ? Object.entries(value as Loose) : [];
  for (let depth = 0; depth < 3 && level.length; depth++) {
    const next: [string, unknown][] = [];
    for (const [key, v] of level) {
      if (typeof v === 'number' && Number.isFinite(v)) out.set(key, v);
      else if (v && typeof v === 'object' && !Array.isArray(v))
        for (const [k, w] of Object.entries(v as Loose)) next.push([`${key}.${k}`, w]);
    }
    level = next;
  }
  return out;
}

/** The charted metrics, each found by the first key matching one of its patterns. */
export const metricSpecs = [
  { title: 'Success rate', patterns: [/success.?rate/i], percent: true },
  { title: 'Average reward', patterns: [/(avg|mean|average).?reward/i, /^reward$/i], percent: false },
  // The paper's 0-100 scale (SciWorld's own score): shared/eval/metrics.ts averageScore.
  { title: 'Average score (0-100)', patterns: [/(avg|mean|average).?score/i], percent: false },
  { title: 'Repeated-action loops (share)', patterns: [/loops?.?share/i, /loops?.?rate/i], percent: true },
  { title: 'Self-revision (share)', patterns: [/revisions?.?share/i], percent: true },
  {
    title: 'First-error position (step)',
    patterns: [/first.?error.?(avg|average|mean)?.?(step|position)/i],
    percent: false,
  },
  { title: 'Recovery success', patterns: [/recovery.?success/i], percent: true },
];

export function pick(flat: Map<string, number>, patterns: RegExp[]): [string, number] | null {
  for (const pattern of patterns) for (const [k, v] of flat) if (pattern.test(k)) return [k, v];
  return null;
}

export function table(caption: string, head: string[], rows: Child[][]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          head.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            null,
            r.map((c) => h('td', null, c)),
          ),
        ),
      ),
    ),
  );
}

/** One loop's iterations side by side: data sizes, then eval metrics per iteration. */
export function loopBlock(
  loop: Loose | undefined,
  its: Loose[],
  evalOf: Map<string, Loose>,
  titled: boolean,
): HTMLElement {
  const counts = (it: Loose) => {
    const run = (it.run ?? {}) as Loose;
    return (run.counts ?? run.counters ?? {}) as Loose;
  };
  const metricsOf = (it: Loose) => {
    const e = evalOf.get(str(it.id) ?? '');
    return flattenNumbers(e?.metrics ?? it.eval ?? null);
  };
  const label = (it: Loose) => `it ${str(it.index) ?? '?'}`;
  const rows: MetricRow[] = its.map((it) => ({
    label: label(it),
    title: str(it.id) ?? '',
    status: str(it.status) ?? 'unknown',
    flat: metricsOf(it),
  }));
  const final = (loop?.final ?? null) as Loose | null;
  if (final?.eval)
    rows.push({
      label: 'final',
      title: str(final.evalId) ?? '',
      status: 'final',
      flat: flattenNumbers(final.eval),
    });
  const pickOr = (flat: Map<string, number>, i: number) => {
    const found = pick(flat, metricSpecs[i]!.patterns);
    return found ? (metricSpecs[i]!.percent ? percent(found[1]) : num(found[1])) : '—';
  };
  const policyOf = (it: Loose) => {
    const p = it.policy;
    if (p && typeof p === 'object') return str((p as Loose).model) ?? str((p as Loose).endpoint) ?? '—';
    return str(p ?? it.policyEndpoint) ?? '—';
  };
  return h(
    'div',
    { class: 'loop' },
    titled
      ? h(
          'h3',
          null,
          `Loop ${str(loop?.name) ?? str(loop?.id) ?? '(unnamed)'} `,
          loop ? badge(str(loop.status) ?? 'unknown') : null,
        )
      : null,
    table(
      'Iterations',
      [
        '#',
        'Status',
        'Alpha',
        'Policy',
        'Run',
        'Revision',
        'Good',
        'First error (data)',
        'Success',
        'Reward',
        'Loops',
        'First error (eval)',
      ],
      its.map((it, i) => {
        const runId = str(it.runId ?? it.run_id);
        const c = counts(it);
        const flat = rows[i]!.flat;
        return [
          str(it.index) ?? '—',
          badge(str(it.status) ?? 'unknown'),
          num(numberOf(it.alpha)),
          policyOf(it),
          runId ? h('a', { class: 'mono', href: link.run(runId) }, shortId(runId, 14)) : '—',
          int(numberOf(c.revision)),
          int(numberOf(c.good)),
          num(numberOf(((it.run ?? {}) as Loose).firstErrorStep)),
          pickOr(flat, 0),
          pickOr(flat, 1),
          pickOr(flat, 2),
          pickOr(flat, 4),
        ];
      }),
    ),
    h(
      'div',
      { class: 'charts' },
      barChart(
        'Records per iteration (revision vs good)',
        its.map((it) => ({
          label: label(it),
          values: [
            { name: 'revision', value: numberOf(counts(it).revision) ?? 0, cls: 'bar-revision' },
            { name: 'good', value: numberOf(counts(it).good) ?? 0, cls: 'bar-good' },
          ],
        })),
      ),
      metricCharts(rows),
    ),
  );
}

export interface MetricRow {
  label: string;
  title: string;
  status: string;
  flat: Map<string, number>;
}

export function metricCharts(rows: MetricRow[]): Child[] {
  const charts: Child[] = [];
  for (const spec of metricSpecs) {
    const found = rows.map((r) => pick(r.flat, spec.patterns));
    if (found.every((f) => f === null)) continue;
    const key = found.find((f) => f !== null)?.[0] ?? '';
    const points: Point[] = rows.map((r, i) => ({ label: r.label, value: found[i]?.[1] ?? null }));
    charts.push(
      h(
        'figure',
        { class: 'chart-box' },
        lineChart(spec.title, points, spec.percent ? { yMax: 1, percent: true } : {}),
        h('figcaption', { class: 'muted' }, `metric: ${key}`),
      ),
    );
  }
  return charts;
}

/** Evaluations as a table of their main metrics, with charts when no loop shows them already. */
export function metricsBlock(caption: string, rows: MetricRow[], withCharts: boolean): Child[] {
  const charts = withCharts ? metricCharts(rows) : [];
  return [
    charts.length ? h('div', { class: 'charts' }, charts) : null,
    table(
      caption,
      ['Evaluation', 'Status', ...metricSpecs.map((m) => m.title)],
      rows.map((r) => [
        h('span', { title: r.title }, r.label),
        badge(r.status),
        ...metricSpecs.map((m) => {
          const found = pick(r.flat, m.patterns);
          return found ? (m.percent ? percent(found[1]) : num(found[1])) : '—';
        }),
      ]),
    ),
  ];
}
