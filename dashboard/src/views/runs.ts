import { api, errorText } from '../api';
import { badge, h, notice, setText } from '../dom';
import { int, time } from '../format';
import { link, replaceQuery, type ViewContext } from '../router';
import { RUN_STATUSES, type RunView } from '../types';
import { eta, every, failures, progressBar, tokens } from './run-stats';

interface Row {
  tr: HTMLTableRowElement;
  update(run: RunView): void;
}

const columns = [
  'Run',
  'Status',
  'Tasks',
  'Nodes',
  'Policy calls',
  'Judge calls',
  'Tokens',
  'Revision',
  'Good',
  'Failures',
  'ETA',
  'Created',
];

function runRow(run: RunView): Row {
  const cells = columns.map(() => h('td'));
  const bar = progressBar();
  const status = h('span');
  cells[0]!.append(h('a', { class: 'mono', href: link.run(run.id), title: run.id }, run.id));
  if (typeof run.spec.label === 'string')
    cells[0]!.append(h('div', { class: 'run-label muted' }, run.spec.label));
  cells[1]!.append(status);
  cells[2]!.append(bar.el);
  const tr = h('tr', { 'data-run-id': run.id }, cells);
  return {
    tr,
    update(r) {
      const k = r.counters;
      if (status.textContent !== r.status) status.replaceChildren(badge(r.status));
      bar.update(r);
      setText(cells[3]!, int(k?.nodes));
      setText(cells[4]!, int(k?.policyCalls));
      setText(cells[5]!, int(k?.judgeCalls));
      setText(cells[6]!, tokens(r));
      setText(cells[7]!, int(k?.revision));
      setText(cells[8]!, int(k?.good));
      setText(cells[9]!, failures(r));
      setText(cells[10]!, eta(r));
      setText(cells[11]!, time(r.createdAt));
      tr.dataset.status = r.status;
    },
  };
}

/** The runs, newest first, with counters refreshed in place every two seconds. */
export async function runsView(ctx: ViewContext): Promise<void> {
  const { main } = ctx;
  let filter = ctx.query.get('status') ?? '';
  const select = h(
    'select',
    { id: 'status-filter' },
    h('option', { value: '' }, 'All'),
    RUN_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  select.value = filter;
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data runs', 'aria-describedby': 'runs-summary' },
    h('caption', { class: 'visually-hidden' }, 'Runs, newest first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    tbody,
  );
  const summary = h('p', { id: 'runs-summary', class: 'muted', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, 'Load older runs');
  const status = h('div');
  main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Runs'),
      h('div', { class: 'filters' }, h('label', { for: 'status-filter' }, 'Status'), select),
    ),
    newRunForm(),
    summary,
    status,
    h('div', { class: 'table-wrap' }, table),
    more,
  );

  const rows = new Map<string, Row>();
  let runs: RunView[] = [];
  let next: number | null = null;

  const draw = () => {
    const shown = runs.filter((r) => !filter || r.status === filter);
    for (const run of runs) {
      let row = rows.get(run.id);
      if (!row) {
        row = runRow(run);
        rows.set(run.id, row);
      }
      row.update(run);
    }
    tbody.replaceChildren(...shown.map((r) => rows.get(r.id)!.tr));
    const active = runs.filter((r) => r.status === 'running' || r.status === 'queued').length;
    setText(
      summary,
      runs.length === 0
        ? ''
        : `${shown.length} of ${runs.length} loaded runs shown${active ? ` · ${active} in progress, refreshing live` : ''}`,
    );
    more.hidden = next === null;
    if (runs.length === 0)
      status.replaceChildren(notice('No runs yet. Start one above or with `npx agent-r build`.'));
    else if (shown.length === 0) status.replaceChildren(notice(`No ${filter} runs among the loaded ones.`));
    else status.replaceChildren();
  };

  const load = async () => {
    const limit = Math.min(200, Math.max(50, runs.length));
    const page = await api<{ runs: RunView[]; next: number | null }>(`/v1/runs?limit=${limit}`);
    if (!ctx.alive()) return false;
    // Older pages loaded with "Load older runs" stay; the first page is replaced.
    const oldest = page.runs.at(-1)?.createdAt ?? 0;
    const older = page.next === null ? [] : runs.filter((r) => r.createdAt < oldest);
    runs = [...page.runs, ...older];
    if (page.next === null || older.length === 0) next = page.next;
    draw();
    return true;
  };

  select.addEventListener('change', () => {
    filter = select.value;
    replaceQuery({ status: filter || null });
    draw();
  });
  more.addEventListener('click', async () => {
    if (next === null) return;
    const page = await api<{ runs: RunView[]; next: number | null }>(`/v1/runs?limit=50&before=${next}`);
    runs = [...runs, ...page.runs.filter((p) => !runs.some((r) => r.id === p.id))];
    next = page.next;
    draw();
  });

  try {
    await load();
  } catch (error) {
    status.replaceChildren(notice(`Could not load the runs: ${errorText(error)}`, 'error'));
  }
  every(2000, ctx.onLeave, load);
}

/** A compact form to start a build from the browser (POST /v1/runs). */
function newRunForm(): HTMLElement {
  const field = (id: string, label: string, value: string, attrs: Record<string, string> = {}) =>
    h(
      'span',
      { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name: id, value, ...attrs }),
    );
  const message = h('p', { class: 'notice', role: 'status' });
  message.hidden = true;
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Start a build' },
    field('new-tasks', 'Tasks', '0-4', { size: '8', placeholder: '0-19 or 0,3,7' }),
    field('new-iterations', 'Iterations', '8', { type: 'number', min: '1', max: '256' }),
    field('new-width', 'Width', '4', { type: 'number', min: '1', max: '16' }),
    field('new-depth', 'Depth', '20', { type: 'number', min: '1', max: '100' }),
    field('new-policy', 'Policy endpoint', 'sim', { size: '10' }),
    h('button', { type: 'submit', class: 'primary' }, 'Start'),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = (id: string) => (form.querySelector<HTMLInputElement>(`#${id}`)?.value ?? '').trim();
    message.hidden = false;
    message.className = 'notice';
    message.textContent = 'Starting…';
    try {
      const run = await api<RunView>('/v1/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          tasks: value('new-tasks'),
          iterations: Number(value('new-iterations')),
          width: Number(value('new-width')),
          depth: Number(value('new-depth')),
          policy: value('new-policy'),
        }),
      });
      location.hash = link.run(run.id);
    } catch (error) {
      message.className = 'notice notice-error';
      message.textContent = `Could not start the build: ${errorText(error)}`;
    }
  });
  return h('details', { class: 'new-run' }, h('summary', null, 'Start a build'), form);
}
