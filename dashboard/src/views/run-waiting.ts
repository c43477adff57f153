import { h } from '../dom';
import { duration, time } from '../format';
import { link } from '../router';
import type { TaskWait } from '../types';

/**
 * Per unfinished task, what it waits for and since when (GET /v1/runs/:id `waiting`): a slow
 * endpoint shows a job whose consumer keeps beating; a wedged task one that nobody works on.
 */
export function waitingSection(runId: string): { el: HTMLElement; update(waits: TaskWait[]): void } {
  const body = h('tbody');
  const el = h(
    'section',
    { 'aria-labelledby': 'waiting-h', hidden: true },
    h('h2', { id: 'waiting-h' }, 'Unfinished tasks: what each waits for'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', 'aria-labelledby': 'waiting-h' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            ['Task', 'Status', 'Waiting for', 'Since', 'Last heartbeat', 'Open jobs'].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        body,
      ),
    ),
  );
  const update = (waits: TaskWait[], now = Date.now()) => {
    el.hidden = waits.length === 0;
    body.replaceChildren(
      ...waits.map((w) =>
        h(
          'tr',
          { 'data-task': String(w.task) },
          h('td', null, h('a', { href: link.tree(runId, w.task) }, `task ${w.task}`)),
          h('td', null, w.status),
          h('td', { class: 'waiting-for' }, w.waitingFor),
          h('td', { title: time(w.since) }, `${duration(now - w.since)} ago`),
          h('td', null, w.lastHeartbeat === null ? '—' : `${duration(now - w.lastHeartbeat)} ago`),
          h('td', null, String(w.openJobs)),
        ),
      ),
    );
  };
  return { el, update };
}
