import { api, apiOptional, errorText } from '../api';
import { barChart } from '../charts';
import { badge, type Child, h, notice, replace } from '../dom';
import { downloadButton, runDownloads } from '../download';
import { int, percent, shortId, time } from '../format';
import { link, type ViewContext } from '../router';
import type { RunView } from '../types';
import {
  flattenNumbers,
  type Loose,
  listOf,
  loopBlock,
  type MetricRow,
  metricsBlock,
  numberOf,
  str,
  table,
} from './eval-metrics';

// Iterations and evaluations come from routes built in parallel (GET /v1/iterations or /v1/loops,
// /v1/evals): a server without them gets a note instead of an error.

function section(id: string, title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** Dataset sizes per run (the paper's Table 1), iterations, their evaluations, assembled datasets. */
export async function datasetsView(ctx: ViewContext): Promise<void> {
  const { main } = ctx;
  main.append(h('h1', { tabindex: '-1' }, 'Datasets & iterations'));
  const holders = {
    runs: h('div', null, notice('Loading…')),
    iterations: h('div', null, notice('Loading…')),
    evals: h('div', null, notice('Loading…')),
    datasets: h('div', null, notice('Loading…')),
  };
  main.append(
    section('sizes-h', 'Revision data per run', holders.runs),
    section('iter-h', 'Iterations', holders.iterations),
    section('eval-h', 'Evaluations', holders.evals),
    section('ds-h', 'Assembled datasets', holders.datasets),
  );

  // undefined: the call failed (the error is shown); null: the route does not exist (404).
  const settle = async <T>(
    holder: HTMLElement,
    what: string,
    load: () => Promise<T>,
  ): Promise<T | undefined> => {
    try {
      return await load();
    } catch (error) {
      replace(holder, notice(`Could not load ${what}: ${errorText(error)}`, 'error'));
      return undefined;
    }
  };
  const [runsBody, iterationsBody, loopsBody, evalsBody, datasetsBody] = await Promise.all([
    settle(holders.runs, 'the runs', () => api<{ runs: RunView[] }>('/v1/runs?limit=200')),
    settle(holders.iterations, 'the iterations', () => apiOptional<unknown>('/v1/iterations')),
    settle(holders.iterations, 'the loops', () => apiOptional<unknown>('/v1/loops')),
    settle(holders.evals, 'the evaluations', () => apiOptional<unknown>('/v1/evals?limit=200')),
    settle(holders.datasets, 'the datasets', () => apiOptional<unknown>('/v1/datasets')),
  ]);
  if (!ctx.alive()) return;

  const runs = runsBody?.runs ?? [];
  const loops = listOf(loopsBody, 'loops');
  // Iterations: GET /v1/iterations when the server lists them, else the loops' lineages.
  let iterations = listOf(iterationsBody, 'iterations');
  if (!iterations.length)
    iterations = loops.flatMap((l) =>
      listOf(l.iterations, 'iterations').map((it) => ({ loopId: l.id, ...it })),
    );
  const evals = listOf(evalsBody, 'evals');
  const iterationById = new Map<string, Loose>();
  const iterationOfRun = new Map<string, Loose>();
  for (const it of iterations) {
    const id = str(it.id);
    if (id) iterationById.set(id, it);
    const runId = str(it.runId ?? it.run_id);
    if (runId) iterationOfRun.set(runId, it);
  }
  const evalOfIteration = new Map<string, Loose>();
  for (const e of evals) {
    const itId = str(e.iterationId ?? e.iteration_id);
    if (itId && !evalOfIteration.has(itId)) evalOfIteration.set(itId, e);
  }
  const iterationLabel = (it: Loose | undefined) =>
    it ? `it ${str(it.index) ?? shortId(str(it.id) ?? '?', 6)}` : '';
  // What a run is part of: an iteration's build, or an evaluation (of an iteration).
  const evalOfRun = new Map<string, Loose>();
  for (const e of evals) {
    const runId = str(e.runId);
    if (runId) evalOfRun.set(runId, e);
  }
  const partOf = (r: RunView) => {
    const it = iterationOfRun.get(r.id);
    if (it) return iterationLabel(it);
    const e = evalOfRun.get(r.id);
    if (!e) return '';
    const evaluated = iterationById.get(str(e.iterationId) ?? '');
    return evaluated ? `eval of ${iterationLabel(evaluated)}` : 'eval';
  };

  if (runsBody) {
    if (!runs.length) replace(holders.runs, notice('No runs yet.'));
    else replace(holders.runs, ...runSizes(runs, partOf));
  }

  const noIterationsApi = iterationsBody === null && loopsBody === null;
  if (iterationsBody !== undefined && loopsBody !== undefined) {
    if (noIterationsApi)
      replace(holders.iterations, notice('This server has no iterations API yet (GET /v1/iterations).'));
    else if (!iterations.length)
      replace(
        holders.iterations,
        notice('No iterations yet (POST /v1/loops starts an iterate-train-evaluate loop).'),
      );
    else {
      const groups = new Map<string, Loose[]>();
      for (const it of iterations) {
        const key = str(it.loopId ?? it.loop_id) ?? '';
        groups.set(key, [...(groups.get(key) ?? []), it]);
      }
      const blocks: Child[] = [];
      for (const [loopId, its] of groups) {
        const loop = loops.find((l) => str(l.id) === loopId);
        its.sort((a, b) => (numberOf(a.index) ?? 0) - (numberOf(b.index) ?? 0));
        blocks.push(loopBlock(loop, its, evalOfIteration, groups.size > 1 || loop !== undefined));
      }
      replace(holders.iterations, ...blocks);
    }
  }

  if (evalsBody !== undefined) {
    if (evalsBody === null)
      replace(holders.evals, notice('This server has no evaluations API yet (GET /v1/evals).'));
    else if (!evals.length) replace(holders.evals, notice('No evaluations yet.'));
    else {
      const rows: MetricRow[] = evals
        .map((e, i) => {
          const it = iterationById.get(str(e.iterationId ?? e.iteration_id) ?? '');
          const label = it ? iterationLabel(it) : (str(e.policy) ?? `#${i + 1}`);
          return {
            label,
            title: str(e.id) ?? '',
            status: str(e.status) ?? 'unknown',
            flat: flattenNumbers(e.metrics),
            at: numberOf(e.createdAt) ?? i,
          };
        })
        .sort((a, b) => a.at - b.at);
      replace(holders.evals, ...metricsBlock('Evaluations', rows, !iterations.length));
    }
  }

  if (datasetsBody !== undefined) {
    const sets = listOf(datasetsBody, 'datasets');
    if (datasetsBody === null) replace(holders.datasets, notice('This server has no datasets API.'));
    else if (!sets.length)
      replace(holders.datasets, notice('No assembled datasets yet (POST /v1/datasets pools finished runs).'));
    else replace(holders.datasets, datasetTable(sets));
  }
}

/** Records per run: bars for the latest runs and a table (with downloads) for all. */
function runSizes(runs: RunView[], iterationOf: (run: RunView) => string): Child[] {
  const recent = runs.slice(0, 12).reverse();
  return [
    barChart(
      'Records per run (revision vs good)',
      recent.map((r) => ({
        label: iterationOf(r) || shortId(r.id.replace(/^run_/, ''), 5),
        values: [
          { name: 'revision', value: r.counters?.revision ?? 0, cls: 'bar-revision' },
          { name: 'good', value: r.counters?.good ?? 0, cls: 'bar-good' },
        ],
      })),
    ),
    sizeLegend(),
    table(
      'Records per run',
      ['Run', 'Part of', 'Status', 'Tasks', 'Revision', 'Good', 'Total', 'Revision share', 'Download'],
      runs.map((r) => {
        const k = r.counters;
        const total = (k?.revision ?? 0) + (k?.good ?? 0);
        return [
          h('a', { class: 'mono', href: link.run(r.id), title: r.id }, r.id),
          iterationOf(r) || '—',
          badge(r.status),
          int(k?.tasks),
          int(k?.revision),
          int(k?.good),
          int(total),
          total ? percent((k?.revision ?? 0) / total) : '—',
          runDownloads(r.id),
        ];
      }),
    ),
  ];
}

function sizeLegend(): HTMLElement {
  return h(
    'p',
    { class: 'legend' },
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch bar-revision' }), 'revision'),
    h('span', { class: 'legend-item' }, h('span', { class: 'swatch bar-good' }), 'good'),
  );
}

function datasetTable(sets: Loose[]): HTMLElement {
  return table(
    'Assembled datasets',
    ['Name', 'Status', 'Format', 'Runs', 'Created', 'Files'],
    sets.map((d) => {
      const links = (d.links ?? {}) as { manifest?: string; files?: Record<string, string> };
      const name = str(d.name) ?? str(d.id) ?? '?';
      const files = Object.entries(links.files ?? {});
      return [
        name,
        badge(str(d.status) ?? 'unknown'),
        str(d.format) ?? '—',
        Array.isArray(d.runIds) ? String(d.runIds.length) : '—',
        time(numberOf(d.createdAt)),
        h(
          'div',
          { class: 'downloads' },
          files.map(([split, path]) =>
            downloadButton(split, path, `${name}.${split}.jsonl`, `Download the ${split} split of ${name}`),
          ),
          str(d.status) === 'ready' && str(d.id)
            ? downloadButton(
                'data card',
                `/v1/datasets/${encodeURIComponent(str(d.id)!)}/datacard?format=md`,
                `${name}.datacard.md`,
                `Download the data card of ${name}`,
              )
            : null,
          links.manifest
            ? downloadButton(
                'manifest',
                links.manifest,
                `${name}.manifest.json`,
                `Download the manifest of ${name}`,
              )
            : null,
        ),
      ];
    }),
  );
}
