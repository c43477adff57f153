import type { AnyJob, JobResult } from '../../shared/contracts/jobs';
import { jobMessageSchema } from '../../shared/contracts/messages';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { ReplayDivergedError } from '../../shared/env/replay';
import { DeadlineExceeded, withDeadline } from '../../shared/deadline';
import { isInferenceError } from '../../shared/inference/inference-error';
import { envFailureReason } from '../../shared/outbound/reasons';
import { type CoreBindings, taskTreeStub } from './env';
import { JobInputError } from './environments';
import { type JobContext, JobSuperseded } from './job-context';
import { assertProductionSecrets } from './secrets';

/** How often a working consumer tells the TaskTree it is alive (a fraction of the job deadline). */
const HEARTBEATS_PER_DEADLINE = 3;

/**
 * Cloudflare ends a queue consumer invocation after 15 minutes of wall time ("Consumer duration
 * (wall clock time) | 15 minutes", https://developers.cloudflare.com/queues/platform/limits/), and
 * the local queue (miniflare's broker) hands a queue its next batch only once the previous
 * invocation returned, with no limit at all: one await that never settles held a whole shard
 * (splicing 48 tasks of a 1,000-task build) for good. So every message has deadlines, and the
 * invocation returns within MAX_WORK_MS + 3 TaskTree calls whatever one message does.
 */
const MAX_WORK_MS = 12 * 60_000;
/** A message's work may take this many job deadlines (a wait for a slot, a slow endpoint). */
const WORK_DEADLINES = 5;
/** Deadlines are never shorter than this (a busy local stack answers a TaskTree call in seconds). */
const MIN_DEADLINE_MS = 30_000;
/** A TaskTree call (take, report, fail) has at most this long, and at most the job deadline. */
const MAX_CALL_MS = 120_000;

/** The deadlines of one message's work and of each TaskTree call, from its run's job deadline. */
export function consumerDeadlines(jobTimeoutMs: number): { workMs: number; callMs: number } {
  return {
    workMs: Math.min(MAX_WORK_MS, Math.max(MIN_DEADLINE_MS, jobTimeoutMs * WORK_DEADLINES)),
    callMs: Math.min(MAX_CALL_MS, Math.max(MIN_DEADLINE_MS, jobTimeoutMs)),
  };
}

/** Failures that a retry cannot fix (bad input): the job fails at once with the reason. */
function isPermanent(error: unknown): boolean {
  // A replay that observed something else: the server is not deterministic for the task.
  return error instanceof JobInputError || error instanceof ReplayDivergedError;
}

/** The reason recorded for API users: our own words, never a server's body (see reasons.ts). */
function describe(error: unknown): string {
  if (isEnvError(error)) return envFailureReason(error);
  if (isInferenceError(error) || error instanceof DeadlineExceeded) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

type Work<J extends AnyJob> = (job: J, context: JobContext) => Promise<JobResult>;
type OnRefused<J extends AnyJob> = (job: J, status: string | null) => Promise<void>;

/**
 * The loop every job consumer shares: for each message, ask the TaskTree whether the job is still
 * wanted, do it, report the result (accepted once per job id) or the failure (the TaskTree decides
 * about retries, so a retry is one re-sent message, not a queue redelivery). A message is retried
 * by the queue only when the TaskTree could not be reached to take the job. Every await has a
 * deadline (consumerDeadlines), so the invocation returns whatever one message does.
 */
export async function consumeJobs<J extends AnyJob>(
  batch: MessageBatch<unknown>,
  env: CoreBindings,
  kinds: readonly J['kind'][],
  work: Work<J>,
  /** Called when the TaskTree refused a finished job's result (e.g. its task was cancelled). */
  onRefused?: OnRefused<J>,
): Promise<void> {
  // Production without SECRETS_KEY does no work at all (the queue retries the batch later).
  assertProductionSecrets(env, ['SECRETS_KEY']);
  await Promise.all(batch.messages.map((message) => consumeOne(message, env, kinds, work, onRefused)));
}

async function consumeOne<J extends AnyJob>(
  message: Message<unknown>,
  env: CoreBindings,
  kinds: readonly J['kind'][],
  work: Work<J>,
  onRefused?: OnRefused<J>,
): Promise<void> {
  const parsed = jobMessageSchema.safeParse(message.body);
  if (!parsed.success) {
    console.error('dropping a malformed job message', parsed.error.message);
    return message.ack();
  }
  const { runId, task, jobId } = parsed.data;
  const tree = taskTreeStub(env, runId, task);
  let job: AnyJob | null;
  const takenAt = Date.now();
  try {
    // A superseded attempt or an extra copy of a taken one is dropped before any work is done.
    const taking = tree.getJob(jobId, parsed.data.attempt) as Promise<AnyJob | null>;
    job = await withDeadline(taking, MAX_CALL_MS, 'taking the job');
  } catch (error) {
    console.error(`job ${runId}/${task}/${jobId}: could not reach the TaskTree`, error);
    return message.retry({ delaySeconds: 1 });
  }
  if (!job || !kinds.includes(job.kind as J['kind'])) return message.ack();
  const { attempt } = job;
  const { workMs, callMs } = consumerDeadlines(job.spec.jobTimeoutMs);
  const call = <T>(promise: Promise<T>, what: string) => withDeadline(promise, callMs, what);
  // Keeps the deadline moving while this attempt works (a wait for a slot, a slow endpoint), so
  // the job is not re-sent beneath it; it stops with the work, at the latest at workMs.
  const beat = Math.max(500, Math.floor(job.spec.jobTimeoutMs / HEARTBEATS_PER_DEADLINE));
  // getJob and every heartbeat that answers true put the deadline at least this far ahead.
  const slack = job.spec.jobTimeoutMs / 2;
  const context: JobContext = {
    stillCurrent: () => call(tree.isCurrent(jobId, attempt), 'checking the job'),
    currentUntil: takenAt + slack,
  };
  const heartbeat = setInterval(() => {
    const sentAt = Date.now();
    void tree
      .keepAlive(jobId, attempt)
      .then((alive) => {
        if (alive) context.currentUntil = Math.max(context.currentUntil ?? 0, sentAt + slack);
      })
      .catch(() => false);
  }, beat);
  // A failure (or a result that could not be reported) ends this attempt; the TaskTree retries it.
  const fail = (error: unknown, retryable: boolean) =>
    call(tree.failJob(jobId, describe(error), retryable, attempt), 'reporting the failure').catch((e) =>
      // The attempt stays taken and silent: the TaskTree's alarm fails it after its deadline.
      console.error(`job ${runId}/${task}/${jobId}#${attempt}: could not report a failure`, e),
    );
  let result: JobResult;
  try {
    result = await withDeadline(work(job as J, context), workMs, `attempt ${attempt}'s work`);
  } catch (error) {
    if (!(error instanceof JobSuperseded)) await fail(error, !isPermanent(error));
    return message.ack();
  } finally {
    clearInterval(heartbeat);
    // Work given up at its deadline runs on unobserved: it must ask before any further effect.
    context.currentUntil = 0;
  }
  try {
    const { accepted } = await call(tree.completeJob(jobId, result, attempt), 'reporting the result');
    if (!accepted && onRefused)
      await call(onRefused(job as J, await call(tree.status(), 'reading the status')), 'taking back');
  } catch (error) {
    // Whether the result was applied is unknown: failing this attempt is a no-op if it was, and
    // if it lands later its attempt is no longer current, so it is never applied twice.
    await fail(error, true);
  }
  message.ack();
}
