import { api, apiOptional, errorText } from '../api';
import { badge, h, notice, setText } from '../dom';
import { runDownloads } from '../download';
import { dataCardSection } from './datacard';
import { num, shortId, time } from '../format';
import { link, runCrumbs, type ViewContext } from '../router';
import type { Manifest, RunView, TaskView, TaskWait, TrajectoryRow } from '../types';
import { counterItems, every, isFinal, progressBar } from './run-stats';
import { waitingSection } from './run-waiting';

/** Spec fields worth showing at a glance, in this order. */
const specFields = [
  'env',
  'flavor',
  'world',
  'policy',
  'judge',
  'iterations',
  'width',
  'depth',
  'alpha',
  'beta',
  'transition',
  'parallelism',
  'seed',
];

/** One run: counters (live), tasks (each a link to its tree), records, downloads. */
export async function runView(ctx: ViewContext): Promise<void> {
  const { main } = ctx;
  const id = ctx.params.id!;
  let run: RunView;
  try {
    run = await api<RunView>(`/v1/runs/${encodeURIComponent(id)}`);
  } catch (error) {
    main.append(
      h('h1', { tabindex: '-1' }, 'Run'),
      notice(`Could not load run ${id}: ${errorText(error)}`, 'error'),
    );
    return;
  }
  if (!ctx.alive()) return;

  const status = h('span');
  const bar = progressBar();
  const stats = h('dl', { class: 'stats' });
  const statCells: { dt: HTMLElement; dd: HTMLElement }[] = [];
  const taskGrid = h('ol', { class: 'task-grid', 'aria-label': 'Tasks (each opens its search tree)' });
  const failures = h('div');
  const waiting = waitingSection(id);
  const spec = h(
    'dl',
    { class: 'spec' },
    specFields
      .filter((f) => run.spec[f] !== undefined)
      .map((f) => [h('dt', null, f), h('dd', null, String(run.spec[f]))]),
  );

  main.append(
    runCrumbs(id),
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, `Run ${id}`), status),
    h(
      'p',
      { class: 'muted' },
      `Created ${time(run.createdAt)}`,
      run.completedAt ? ` · completed ${time(run.completedAt)}` : '',
    ),
    h('section', { 'aria-label': 'Progress' }, bar.el, stats),
    h('details', { class: 'spec-box' }, h('summary', null, 'Configuration'), spec),
    h('section', { 'aria-labelledby': 'tasks-h' }, h('h2', { id: 'tasks-h' }, 'Tasks'), taskGrid, failures),
    waiting.el,
    h(
      'section',
      { 'aria-labelledby': 'dl-h' },
      h('h2', { id: 'dl-h' }, 'Download the data'),
      runDownloads(id),
    ),
    dataCardSection(`/v1/runs/${encodeURIComponent(id)}/datacard`, String(run.spec.curation ?? 'reference')),
  );
  const records = recordsSection(id);
  main.append(records.el);

  const taskLinks = new Map<number, HTMLAnchorElement>();
  const drawTasks = (tasks: TaskView[]) => {
    for (const t of tasks) {
      let a = taskLinks.get(t.task);
      if (!a) {
        a = h('a', { href: link.tree(id, t.task) }, String(t.task));
        taskLinks.set(t.task, a);
        taskGrid.append(h('li', null, a));
      }
      a.className = `task status-${t.status}`;
      a.setAttribute('aria-label', `task ${t.task}: ${t.status}${t.error ? ` (${t.error})` : ''}`);
      a.title = `task ${t.task}: ${t.status}${t.error ? `\n${t.error}` : ''}`;
    }
  };

  const draw = (r: RunView) => {
    if (status.textContent !== r.status) status.replaceChildren(badge(r.status));
    bar.update(r);
    counterItems(r).forEach(([label, value], i) => {
      let cell = statCells[i];
      if (!cell) {
        cell = { dt: h('dt'), dd: h('dd') };
        statCells.push(cell);
        stats.append(h('div', { class: 'stat' }, cell.dt, cell.dd));
      }
      setText(cell.dt, label);
      setText(cell.dd, value);
    });
  };

  const refresh = async () => {
    const [r, tasks] = await Promise.all([
      api<RunView & { waiting?: TaskWait[] }>(`/v1/runs/${encodeURIComponent(id)}`),
      api<{ tasks: TaskView[] }>(`/v1/runs/${encodeURIComponent(id)}/tasks`),
    ]);
    if (!ctx.alive()) return false;
    const finishedNow = isFinal(r) && !isFinal(run);
    run = r;
    draw(r);
    drawTasks(tasks.tasks);
    waiting.update(isFinal(r) ? [] : (r.waiting ?? []));
    if (finishedNow) void records.reload();
    if (isFinal(r)) void showFailures();
    return !isFinal(r);
  };

  const showFailures = async () => {
    const manifest = await apiOptional<Manifest>(`/v1/runs/${encodeURIComponent(id)}/manifest`);
    if (!ctx.alive() || !manifest?.failures.length) return;
    failures.replaceChildren(
      h('h3', null, 'Failures'),
      h(
        'ul',
        { class: 'failures' },
        manifest.failures.map((f) =>
          h('li', null, h('a', { href: link.tree(id, f.task) }, `task ${f.task}`), `: ${f.reason}`),
        ),
      ),
    );
  };

  draw(run);
  try {
    if (await refresh()) every(2000, ctx.onLeave, refresh);
  } catch (error) {
    failures.replaceChildren(notice(`Could not load the tasks: ${errorText(error)}`, 'error'));
  }
}

/** The run's records, a page at a time, each opening the revision viewer. */
function recordsSection(id: string): { el: HTMLElement; reload(): Promise<void> } {
  const kind = h(
    'select',
    { id: 'record-kind' },
    h('option', { value: '' }, 'all'),
    h('option', { value: 'revision' }, 'revision'),
    h('option', { value: 'good' }, 'good'),
  );
  const taskInput = h('input', {
    id: 'record-task',
    type: 'number',
    min: '0',
    placeholder: 'any',
    class: 'narrow',
  });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'More records');
  const note = h('div');
  let after: string | null = null;

  const rowOf = (t: TrajectoryRow) =>
    h(
      'tr',
      null,
      h('td', null, h('a', { href: link.revision(id, t.id), title: t.id }, shortId(t.id, 16))),
      h(
        'td',
        null,
        h('a', { href: link.tree(id, t.task, t.kind === 'revision' ? t.id : undefined) }, String(t.task)),
      ),
      h('td', null, badge(t.kind === 'revision' ? 'revision' : 'good-record', t.kind)),
      h('td', null, t.firstErrorStep === null ? '—' : String(t.firstErrorStep)),
      h('td', null, num(t.rewardGood)),
      h('td', null, num(t.rewardBad)),
      h('td', null, String(t.turns)),
    );

  const fetchPage = async (reset: boolean) => {
    const params = new URLSearchParams({ limit: '50' });
    if (kind.value) params.set('kind', kind.value);
    if (taskInput.value !== '') params.set('task', taskInput.value);
    if (!reset && after) params.set('after', after);
    try {
      const page = await api<{ trajectories: TrajectoryRow[]; next: string | null }>(
        `/v1/runs/${encodeURIComponent(id)}/trajectories?${params}`,
      );
      if (reset) tbody.replaceChildren();
      tbody.append(...page.trajectories.map(rowOf));
      after = page.next;
      more.hidden = after === null;
      note.replaceChildren(
        tbody.childElementCount ? '' : notice('No records (yet): they are written when a task finishes.'),
      );
    } catch (error) {
      note.replaceChildren(notice(`Could not load the records: ${errorText(error)}`, 'error'));
    }
  };

  kind.addEventListener('change', () => void fetchPage(true));
  taskInput.addEventListener('change', () => void fetchPage(true));
  more.addEventListener('click', () => void fetchPage(false));
  void fetchPage(true);

  const el = h(
    'section',
    { 'aria-labelledby': 'records-h' },
    h('h2', { id: 'records-h' }, 'Records'),
    h(
      'div',
      { class: 'filters' },
      h('label', { for: 'record-kind' }, 'Kind'),
      kind,
      h('label', { for: 'record-task' }, 'Task'),
      taskInput,
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data' },
        h('caption', { class: 'visually-hidden' }, 'Revision and good records'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Record', 'Task', 'Kind', "First error t'", 'Reward good', 'Reward bad', 'Turns'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        tbody,
      ),
    ),
    note,
    more,
  );
  return { el, reload: () => fetchPage(true) };
}
