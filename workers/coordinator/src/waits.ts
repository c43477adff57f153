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
  const lastHeartbeat = beat > oldest.since ? beat : null;
  const what = `${KIND_NAMES[oldest.kind]} ${oldest.id} (attempt ${oldest.attempt})`;
  const state =
    oldest.sent === 0
      ? 'its message is not sent yet (the alarm retries)'
      : lastHeartbeat !== null
        ? 'a consumer is working on it'
        : 'queued, no consumer has reported on it yet';
  return {
    status,
    waitingFor: `${what}: ${state}${open.length > 1 ? `; ${open.length - 1} more open` : ''}`,
    since: oldest.since,
    lastHeartbeat,
    openJobs: open.length,
  };
}
