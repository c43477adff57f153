import type { JobMessage } from '../../../shared/contracts/messages';
import { type CoordinatorBindings, jobQueues } from '../../common/env';
import type { JobRow, JobTable } from './jobs';

/** Queues take at most this many messages in one sendBatch call. */
const MAX_BATCH = 100;

type QueueKind = 'expand' | 'critique' | 'splice';

const queueKind = (kind: JobRow['kind']): QueueKind =>
  kind === 'judge' ? 'critique' : kind === 'splice' ? 'splice' : 'expand';

function messageOf(runId: string, task: number, job: JobRow): JobMessage {
  const base = { runId, task, jobId: job.id, attempt: job.attempt };
  const kind = queueKind(job.kind);
  return kind === 'critique'
    ? { type: 'critique', ...base }
    : kind === 'splice'
      ? { type: 'splice', ...base }
      : { type: 'expand', ...base };
}

/**
 * The messages of a TaskTree's job rows that have not gone out yet (the jobs table is the outbox:
 * a row is marked sent only after its queue took the message). Jobs go round the bound shards of
 * their kind (each task starting at its own shard), so no single local queue limits throughput, and the messages for one shard go in
 * one sendBatch call: a result that opens several jobs costs one queue operation per shard.
 * Flushes overlap (a result's RPC runs while an earlier one awaits its sendBatch): an attempt whose
 * message is on its way is left to that flush, so each goes out once (before, ~1 in 4 expand
 * messages of a build was such a duplicate).
 */
export class Outbox {
  /** Messages sent since this object started (spreads jobs over their queue's shards). */
  private sent = 0;
  /** Attempts (and re-sent copies) whose sendBatch has not answered yet. */
  private readonly inFlight = new Set<string>();

  constructor(
    /** The object's bindings, read at each send (tests swap them on a live object). */
    private readonly env: () => CoordinatorBindings,
    private readonly jobs: JobTable,
  ) {}

  /** Sends what is unsent; false when a send failed (the caller has the alarm retry soon). */
  async flush(runId: string, task: number, timeoutMs: number): Promise<boolean> {
    const batches = new Map<Queue<JobMessage>, { job: JobRow; delaySeconds: number }[]>();
    const taken: string[] = [];
    for (const job of this.jobs.unsent()) {
      const key = `${job.id}:${job.attempt}:${job.copies}`;
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      taken.push(key);
      const queues = jobQueues(this.env(), queueKind(job.kind));
      this.sent += 1;
      // Offset by the task: trees started together would otherwise send their n-th jobs to the
      // same shard at the same moment, and the local emulator delivers one batch per queue at a
      // time (a message waits until that queue's batch in flight has finished every job).
      // A re-sent copy (never picked up) goes round the shards by its number instead: a shard
      // that stopped delivering (a wedged local queue) holds only the first copy.
      const queue = queues[(task + (job.copies > 0 ? job.copies : this.sent)) % queues.length]!;
      // A retry's backoff: the deadline was set to now + backoff + timeout.
      const delayMs = Math.max(0, job.deadline - timeoutMs - Date.now());
      const entries = batches.get(queue) ?? [];
      entries.push({ job, delaySeconds: Math.ceil(delayMs / 1000) });
      batches.set(queue, entries);
    }
    try {
      for (const [queue, entries] of batches) {
        for (let at = 0; at < entries.length; at += MAX_BATCH) {
          const chunk = entries.slice(at, at + MAX_BATCH);
          try {
            await queue.sendBatch(
              chunk.map(({ job, delaySeconds }) => ({
                body: messageOf(runId, task, job),
                ...(delaySeconds > 0 ? { delaySeconds } : {}),
              })),
            );
          } catch (error) {
            console.error(`task ${runId}/${task}: queue.sendBatch failed, the alarm re-sends`, error);
            return false;
          }
          this.jobs.markSent(chunk.map(({ job }) => job));
        }
      }
      return true;
    } finally {
      for (const key of taken) this.inFlight.delete(key);
    }
  }
}
