import type { TaskWait } from '../../../shared/contracts/run-view';
import type { JobRow } from './jobs';

const KIND_NAMES: Record<JobRow['kind'], string> = {
  root: 'environment reset (root job)',
  expand: 'expand job',
  judge: 'judge job',
  splice: 'splice job',
};

/**
 * Says what a task waits for, from its open jobs (oldest first): the oldest job, and whether a
 * consumer works on it (its heartbeat moved the deadline past the first one) or it is still queued.
 */
export function describeWait(
  status: string,
  open: JobRow[],
  timeoutMs: number,
  startedAt: number | null,
): Omit<TaskWait, 'task'> {
  const oldest = open[0];
  if (!oldest) {
    return {
      status,
      waitingFor: 'no open job (the reconciler alarm checks this task)',
      since: startedAt ?? Date.now(),
      lastHeartbeat: null,
      openJobs: 0,
    };
  }
  // The deadline was since + timeout when handed out; a consumer's heartbeat moves it on.
  const beat = oldest.deadline - timeoutMs;
  // A free re-send of a queued job moves its deadline too: only a taken job has heartbeats.
  const lastHeartbeat = oldest.picked && beat > oldest.since ? beat : null;
  const copies = oldest.copies > 0 ? ` (re-sent ${oldest.copies}x, no attempt used)` : '';
  const what = `${KIND_NAMES[oldest.kind]} ${oldest.id} (attempt ${oldest.attempt})`;
  const state =
    oldest.sent === 0
      ? 'its message is not sent yet (the alarm retries)'
      : lastHeartbeat !== null
        ? 'a consumer is working on it'
        : `queued, no consumer has reported on it yet${copies}`;
  return {
    status,
    waitingFor: `${what}: ${state}${open.length > 1 ? `; ${open.length - 1} more open` : ''}`,
    since: oldest.since,
    lastHeartbeat,
    openJobs: open.length,
  };
}

/** How long a tree's answer to `waiting` is reused by the ledger. */
export const WAIT_FRESH_MS = 1000;

type TreeWait = Omit<TaskWait, 'task'> | null;

/**
 * The RunLedger's recent answers of its trees' `waiting`: the run view is polled often (the CLI
 * and the bench every 250 ms) and each poll asked every open tree, an RPC per task per poll. An
 * answer is reused for WAIT_FRESH_MS; only the tasks still open are kept.
 */
export class WaitCache {
  private readonly answers = new Map<number, { at: number; wait: Promise<TreeWait> }>();

  /** The open tasks of this poll: answers of the others are dropped. */
  retain(tasks: readonly number[]): void {
    const open = new Set(tasks);
    for (const task of this.answers.keys()) if (!open.has(task)) this.answers.delete(task);
  }

  ask(task: number, now: number, askTree: () => Promise<TreeWait>): Promise<TreeWait> {
    const hit = this.answers.get(task);
    if (hit && now - hit.at < WAIT_FRESH_MS) return hit.wait;
    const entry = { at: now, wait: askTree() };
    this.answers.set(task, entry);
    // A failed ask is not reused: the next poll asks again.
    entry.wait.catch(() => {
      if (this.answers.get(task) === entry) this.answers.delete(task);
    });
    return entry.wait;
  }
}
