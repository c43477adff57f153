import type { LiveMessage } from '../../../shared/contracts/live-tree';
import { api, apiOptional, errorText } from '../api';
import { badge, h, notice, replace, setText } from '../dom';
import { int, num, shortId } from '../format';
import { link, replaceQuery, runCrumbs, type ViewContext } from '../router';
import { connectLive, type LiveState } from '../tree/live';
import { TreeModel } from '../tree/model';
import { type Highlight, scoreColor, TreeView } from '../tree/view';
import {
  isFinalTaskStatus,
  type NativeRecord,
  type TaskProgress,
  type TrajectoryRow,
  type TreeFile,
} from '../types';
import { every } from './run-stats';
import { nodeDetails } from './node-details';

const liveLabels: Record<LiveState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'refreshing every 3 s',
  stopped: 'final',
};

/** One task's search tree, growing live while the task runs. */
export async function treeView(ctx: ViewContext): Promise<void> {
  const { main } = ctx;
  const runId = ctx.params.id!;
  const task = Number(ctx.params.task);
  const base = `/v1/runs/${encodeURIComponent(runId)}/tasks/${task}`;

  const heading = h('h1', { tabindex: '-1' }, `Task ${task}`);
  const statusEl = h('span');
  const liveEl = h('span', { class: 'live', role: 'status', 'aria-live': 'polite' });
  const stats = h('p', { class: 'stats-line', 'aria-live': 'off' });
  const message = h('div');
  main.append(
    runCrumbs(runId, `task ${task}`),
    h('div', { class: 'page-head' }, heading, statusEl, liveEl),
    stats,
    message,
  );

  let progress: TaskProgress | null = null;
  let model = new TreeModel();
  // When the task finishes while watched: a last refetch, its records as pairs, the socket closed.
  let onFinished = () => {};
  let wasFinal: boolean | null = null;
  const showProgress = (p: TaskProgress) => {
    progress = p;
    const final = isFinalTaskStatus(p.status);
    if (wasFinal === false && final) queueMicrotask(() => onFinished());
    wasFinal = final;
    if (statusEl.textContent !== p.status) replace(statusEl, badge(p.status));
    setText(
      stats,
      [
        `${int(Math.max(model.size, p.nodes))} nodes`,
        `${int(p.policyCalls)} policy calls`,
        `${int(p.judgeCalls)} judge calls`,
        `${int(p.pairs ?? 0)} pairs`,
        `${int(p.revision)} revision`,
        `${int(p.good)} good`,
        `${int(p.failedJobs)} failed jobs`,
      ].join(' · '),
    );
    if (p.error) replace(message, notice(`Task ${p.status}: ${p.error}`, 'error'));
  };
  const isFinal = () => progress !== null && isFinalTaskStatus(progress.status);

  let file: TreeFile | null = null;
  try {
    const p = await apiOptional<TaskProgress>(base);
    if (p) showProgress(p);
    file = await apiOptional<TreeFile>(`${base}/tree`);
  } catch (error) {
    replace(message, notice(`Could not load the tree: ${errorText(error)}`, 'error'));
    return;
  }
  if (!ctx.alive()) return;
  if (file) model = TreeModel.fromFile(file);

  const details = h('aside', { class: 'details', 'aria-label': 'Node details', 'aria-live': 'polite' });
  const view = new TreeView(model, `Search tree of task ${task}`, (node) =>
    replace(details, ...nodeDetails(node, actions)),
  );
  const actions = {
    toggle: (id: string) => {
      view.toggle(id);
      const node = model.get(id);
      if (node) replace(details, ...nodeDetails(node, actions));
    },
    select: (id: string) => view.select(id, { center: true }),
    collapsed: (id: string) => view.collapsed.has(id),
  };
  replace(details, ...nodeDetails(null, actions));

  const pairs = pairPicker(runId, task, ctx.query.get('pair'));
  const toolbar = h(
    'div',
    { class: 'toolbar', role: 'toolbar', 'aria-label': 'Tree view' },
    pairs.el,
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', 'aria-label': 'Zoom out', onclick: () => view.zoomBy(0.8) }, '−'),
    h('button', { type: 'button', 'aria-label': 'Zoom in', onclick: () => view.zoomBy(1.25) }, '+'),
    h('button', { type: 'button', onclick: () => view.fit() }, 'Fit'),
    h('button', { type: 'button', onclick: () => view.expandAll() }, 'Expand all'),
    h('button', { type: 'button', onclick: () => view.collapseToBudget() }, 'Collapse'),
  );
  const empty = h('div', { class: 'tree-empty' });
  main.append(
    toolbar,
    pairs.summary,
    h('div', { class: 'tree-layout' }, h('div', { class: 'tree-box' }, view.svg, empty), details),
    legend(),
  );
  const drawn = () => {
    view.render();
    replace(empty, model.size ? '' : notice('The tree appears when the task has its first observation.'));
    view.svg.dataset.nodes = String(view.drawnCount);
    if (progress) showProgress(progress);
  };
  drawn();

  // Pairs: highlight the good and bad paths of the chosen record.
  pairs.onChange = async (recordId, focus) => {
    replaceQuery({ pair: recordId, focus: null });
    if (!recordId) {
      view.setHighlight(null);
      pairs.describe(null, null);
      return;
    }
    try {
      const record = await api<NativeRecord>(
        `/v1/runs/${encodeURIComponent(runId)}/trajectories/${encodeURIComponent(recordId)}`,
      );
      if (!ctx.alive()) return;
      const highlight = highlightOf(model, record);
      view.setHighlight(highlight, focus);
      pairs.describe(record, highlight);
    } catch (error) {
      pairs.describe(null, null, `Could not load record ${recordId}: ${errorText(error)}`);
    }
  };
  void pairs.load().then(() => {
    const initial = ctx.query.get('pair');
    const focus = ctx.query.get('focus');
    if (initial && ctx.alive())
      void pairs.onChange(initial, focus === 'good' || focus === 'bad' ? focus : null);
  });

  // Live: nodes arrive over the task's WebSocket; redraws are batched to animation frames.
  let frame = 0;
  const redraw = () => {
    if (!frame)
      frame = requestAnimationFrame(() => {
        frame = 0;
        drawn();
      });
  };
  let refetching = false;
  const refetch = async () => {
    if (refetching) return;
    refetching = true;
    try {
      const [f, p] = await Promise.all([
        apiOptional<TreeFile>(`${base}/tree`),
        apiOptional<TaskProgress>(base),
      ]);
      if (!ctx.alive()) return;
      if (f) model.mergeFile(f);
      if (p) showProgress(p);
      redraw();
    } finally {
      refetching = false;
    }
  };
  const onMessage = (m: LiveMessage) => {
    if (m.type === 'hello') {
      if (m.nodes !== model.size) void refetch();
    } else if (m.type === 'nodes') {
      let orphan = false;
      for (const node of m.nodes) if (model.upsert(node) === 'orphan') orphan = true;
      if (orphan) void refetch();
      redraw();
    }
    if (m.type !== 'hello' || m.status) {
      const status = m.status ?? '';
      if (status !== progress?.status) showProgress({ ...(progress ?? emptyProgress(task)), status });
    }
  };
  let live: { stop(): void } | null = null;
  onFinished = () => {
    live?.stop();
    void refetch();
    void pairs.load();
  };
  const setLive = (state: LiveState) => {
    liveEl.className = `live live-${state}`;
    setText(liveEl, isFinal() && state === 'stopped' ? '' : `● ${liveLabels[state]}`);
    view.svg.dataset.live = state;
  };
  if (!isFinal()) {
    live = connectLive(runId, task, { message: onMessage, state: setLive });
    ctx.onLeave(() => live?.stop());
    // Counters (policy calls, pairs...) and, when the socket is unavailable, the tree itself.
    every(3000, ctx.onLeave, async () => {
      if (view.svg.dataset.live === 'polling') await refetch();
      else {
        const p = await apiOptional<TaskProgress>(base);
        if (p && ctx.alive()) showProgress(p);
      }
      return ctx.alive() && !isFinal();
    });
  } else {
    setLive('stopped');
  }
  ctx.onLeave(() => cancelAnimationFrame(frame));
}

function emptyProgress(task: number): TaskProgress {
  return {
    task,
    status: 'pending',
    nodes: 0,
    policyCalls: 0,
    judgeCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    revision: 0,
    good: 0,
    failedJobs: 0,
    error: null,
  };
}

/** The good and bad paths of a record, with its first error and the step the revision resumes at. */
function highlightOf(model: TreeModel, record: NativeRecord): Highlight {
  const good = model.pathTo(record.good_leaf);
  const bad = record.bad_leaf ? model.pathTo(record.bad_leaf) : [];
  const t = record.first_error_step;
  const firstError = t !== null && t > 0 && t < bad.length ? bad[t]! : null;
  const resume = record.branch_step !== null ? (good[record.branch_step] ?? null) : null;
  return {
    good,
    bad,
    firstError,
    firstErrorLabel: record.revise ? `first error, step ${t} (judged)` : `cut at step ${t} (direct revision)`,
    resume,
  };
}

/** The select of (good, bad) pairs: the task's revision records, and its good records. */
function pairPicker(runId: string, task: number, initial: string | null) {
  const select = h('select', { id: 'pair-select' }, h('option', { value: '' }, 'loading records…'));
  const summary = h('div', { class: 'pair-summary', 'aria-live': 'polite' });
  const picker = {
    el: h('span', { class: 'field' }, h('label', { for: 'pair-select' }, 'Highlight a pair'), select),
    summary,
    onChange: async (_id: string | null, _focus: 'good' | 'bad' | null) => {},
    async load() {
      let rows: TrajectoryRow[] = [];
      let more = false;
      try {
        const page = await api<{ trajectories: TrajectoryRow[]; next: string | null }>(
          `/v1/runs/${encodeURIComponent(runId)}/trajectories?task=${task}&limit=500`,
        );
        rows = page.trajectories;
        more = page.next !== null;
      } catch (error) {
        replace(summary, notice(`Could not list the records: ${errorText(error)}`, 'error'));
      }
      const revisions = rows.filter((r) => r.kind === 'revision');
      const goods = rows.filter((r) => r.kind === 'good');
      const option = (r: TrajectoryRow) =>
        h(
          'option',
          { value: r.id },
          r.kind === 'revision'
            ? `${shortId(r.id, 8)} · first error t'=${r.firstErrorStep ?? '—'} · good ${num(r.rewardGood)} vs bad ${num(r.rewardBad)}`
            : `${shortId(r.id, 8)} · good path · reward ${num(r.rewardGood)}`,
        );
      replace(
        select,
        h(
          'option',
          { value: '' },
          rows.length ? `none (${revisions.length} pairs listed)` : 'no records yet',
        ),
        revisions.length
          ? h('optgroup', { label: 'Revision records (good vs bad)' }, revisions.map(option))
          : null,
        goods.length ? h('optgroup', { label: 'Good records' }, goods.map(option)) : null,
        more ? h('option', { disabled: true }, 'the first 500 records of this task are listed') : null,
      );
      if (initial && rows.some((r) => r.id === initial)) select.value = initial;
    },
    describe(record: NativeRecord | null, hl: Highlight | null, error?: string) {
      if (error) return replace(summary, notice(error, 'error'));
      if (!record || !hl) return replace(summary);
      const missing = !hl.good.length || (record.bad_leaf && !hl.bad.length);
      replace(
        summary,
        h('span', { class: 'swatch swatch-good', 'aria-hidden': 'true' }),
        ` good path: ${Math.max(0, hl.good.length - 1)} steps, reward ${num(record.reward_good)}`,
        record.bad_leaf
          ? [
              h('span', { class: 'swatch swatch-bad', 'aria-hidden': 'true' }),
              ` bad path: ${Math.max(0, hl.bad.length - 1)} steps, reward ${num(record.reward_bad)}`,
            ]
          : null,
        record.first_error_step !== null ? ` · first error at step ${record.first_error_step}` : '',
        record.branch_step !== null ? ` · revision resumes at good step ${record.branch_step}` : '',
        ' · ',
        h('a', { href: link.revision(runId, record.id) }, 'open the record'),
        missing ? notice('Some of its nodes are not in this tree yet.') : null,
      );
    },
  };
  select.addEventListener('change', () => void picker.onChange(select.value || null, null));
  return picker;
}

function legend(): HTMLElement {
  const stops = [0, 0.25, 0.5, 0.75, 1];
  return h(
    'div',
    { class: 'legend', 'aria-label': 'Legend' },
    h('span', null, 'value / reward'),
    h(
      'span',
      { class: 'scale' },
      stops.map((v) => {
        const stop = h('span', { class: 'scale-stop', title: num(v) }, num(v));
        stop.style.background = scoreColor(v);
        return stop;
      }),
    ),
    h('span', { class: 'legend-item' }, h('span', { class: 'dot unvisited' }), 'not visited'),
    h('span', { class: 'legend-item' }, h('span', { class: 'square' }), 'episode finished'),
    h('span', { class: 'legend-item' }, h('span', { class: 'cross-mark' }, '×'), 'failed'),
    h('span', { class: 'legend-item' }, h('span', { class: 'tri' }, '▲'), 'judged bad'),
    h('span', { class: 'legend-item' }, '+N', ' collapsed subtree'),
    h('span', { class: 'legend-item' }, 'number = visits'),
  );
}
