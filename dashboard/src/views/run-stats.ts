// Pieces shared by the runs list and a run's page: progress, counters, ETA.
import { h } from '../dom';
import { compact, duration, int } from '../format';
import { isFinalRunStatus, type RunView } from '../types';

export function isFinal(run: RunView): boolean {
  return isFinalRunStatus(run.status);
}

/** Remaining time from the average task rate so far; '' when it cannot be told yet. */
export function eta(run: RunView, now = Date.now()): string {
  if (isFinal(run)) return run.completedAt ? `took ${duration(run.completedAt - run.createdAt)}` : '—';
  const k = run.counters;
  if (!k || k.tasks === 0) return '—';
  const finished = k.tasksDone + k.tasksFailed;
  if (finished === 0) return 'estimating…';
  const elapsed = Math.max(1, now - run.createdAt);
  return `~${duration(((k.tasks - finished) * elapsed) / finished)}`;
}

export function failures(run: RunView): string {
  const k = run.counters;
  if (!k) return '—';
  if (!k.tasksFailed && !k.failedJobs) return '0';
  const parts: string[] = [];
  if (k.tasksFailed) parts.push(`${k.tasksFailed} task${k.tasksFailed === 1 ? '' : 's'}`);
  if (k.failedJobs) parts.push(`${k.failedJobs} job${k.failedJobs === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export function tokens(run: RunView): string {
  const k = run.counters;
  return k ? compact(k.promptTokens + k.completionTokens) : '—';
}

/** A labelled progress bar: tasks done (and failed) of the total. */
export function progressBar(): { el: HTMLElement; update(run: RunView): void } {
  const done = h('span', { class: 'bar-done' });
  const failed = h('span', { class: 'bar-failed' });
  const bar = h('span', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0' }, done, failed);
  const label = h('span', { class: 'bar-label' });
  return {
    el: h('span', { class: 'progress' }, bar, label),
    update(run) {
      const k = run.counters;
      const total = k?.tasks ?? 0;
      const ok = k?.tasksDone ?? 0;
      const bad = k?.tasksFailed ?? 0;
      bar.setAttribute('aria-valuemax', String(total));
      bar.setAttribute('aria-valuenow', String(ok + bad));
      bar.setAttribute('aria-label', `${ok} of ${total} tasks done${bad ? `, ${bad} failed` : ''}`);
      done.style.width = total ? `${(100 * ok) / total}%` : '0';
      failed.style.width = total ? `${(100 * bad) / total}%` : '0';
      label.textContent = `${int(ok + bad)}/${int(total)}`;
    },
  };
}

/** Counters as label/value pairs (for the stat cards). */
export function counterItems(run: RunView): [string, string][] {
  const k = run.counters;
  return [
    ['Nodes', int(k?.nodes)],
    ['Policy calls', int(k?.policyCalls)],
    ['Judge calls', int(k?.judgeCalls)],
    ['Tokens', tokens(run)],
    ['Revision', int(k?.revision)],
    ['Good', int(k?.good)],
    ['Failures', failures(run)],
    isFinal(run)
      ? ['Duration', run.completedAt ? duration(run.completedAt - run.createdAt) : '—']
      : ['ETA', eta(run)],
  ];
}

/** Runs a refresh now and then every `ms` while the page is shown and visible; stops on leave. */
export function every(
  ms: number,
  onLeave: (fn: () => void) => void,
  fn: () => Promise<boolean | undefined> | boolean | undefined,
): void {
  let stopped = false;
  let timer = 0;
  const tick = async () => {
    if (stopped) return;
    let keepGoing: boolean | undefined = true;
    if (document.visibilityState !== 'hidden') {
      try {
        keepGoing = await fn();
      } catch (error) {
        console.warn('refresh failed', error);
      }
    }
    if (!stopped && keepGoing !== false) timer = window.setTimeout(tick, ms);
  };
  timer = window.setTimeout(tick, ms);
  onLeave(() => {
    stopped = true;
    window.clearTimeout(timer);
  });
}
