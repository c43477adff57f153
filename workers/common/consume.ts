import type { AnyJob, JobResult } from '../../shared/contracts/jobs';
import { jobMessageSchema } from '../../shared/contracts/messages';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { ReplayDivergedError } from '../../shared/env/replay';
import { isInferenceError } from '../../shared/inference/inference-error';
import { envFailureReason } from '../../shared/outbound/reasons';
import { type CoreBindings, taskTreeStub } from './env';
import { JobInputError } from './environments';
import { type JobContext, JobSuperseded } from './job-context';
import { assertProductionSecrets } from './secrets';

/** How often a working consumer tells the TaskTree it is alive (a fraction of the job deadline). */
const HEARTBEATS_PER_DEADLINE = 3;

/** Failures that a retry cannot fix (bad input): the job fails at once with the reason. */
function isPermanent(error: unknown): boolean {
  // A replay that observed something else: the server is not deterministic for the task.
  return error instanceof JobInputError || error instanceof ReplayDivergedError;
}

/** The reason recorded for API users: our own words, never a server's body (see reasons.ts). */
function describe(error: unknown): string {
  if (isEnvError(error)) return envFailureReason(error);
  if (isInferenceError(error)) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The loop every job consumer shares: for each message, ask the TaskTree whether the job is still
 * wanted, do it, report the result (accepted once per job id) or the failure (the TaskTree decides
 * about retries, so a retry is one re-sent message, not a queue redelivery). A message is retried
 * by the queue only when the TaskTree itself could not be reached.
 */
export async function consumeJobs<J extends AnyJob>(
  batch: MessageBatch<unknown>,
  env: CoreBindings,
  kinds: readonly J['kind'][],
  work: (job: J, context: JobContext) => Promise<JobResult>,
  /** Called when the TaskTree refused a finished job's result (e.g. its task was cancelled). */
  onRefused?: (job: J, status: string | null) => Promise<void>,
): Promise<void> {
  // Production without SECRETS_KEY does no work at all (the queue retries the batch later).
  assertProductionSecrets(env, ['SECRETS_KEY']);
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = jobMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        console.error('dropping a malformed job message', parsed.error.message);
        return message.ack();
      }
      const { runId, task, jobId } = parsed.data;
      const tree = taskTreeStub(env, runId, task);
      try {
        // A superseded attempt or an extra copy of a taken one is dropped before any work is done.
        const takenAt = Date.now();
        const job = (await tree.getJob(jobId, parsed.data.attempt)) as AnyJob | null;
        if (!job || !kinds.includes(job.kind as J['kind'])) return message.ack();
        const { attempt } = job;
        // Keeps the deadline moving while this attempt works (a wait for a slot, a slow endpoint),
        // so the job is not re-sent beneath it; a hung consumer stops beating and is re-sent.
        const beat = Math.max(500, Math.floor(job.spec.jobTimeoutMs / HEARTBEATS_PER_DEADLINE));
        // getJob and every heartbeat that answers true put the deadline at least this far ahead.
        const slack = job.spec.jobTimeoutMs / 2;
        const context: JobContext = {
          stillCurrent: () => tree.isCurrent(jobId, attempt),
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
        let result: JobResult;
        try {
          result = await work(job as J, context);
        } catch (error) {
          clearInterval(heartbeat);
          if (error instanceof JobSuperseded) return message.ack();
          await tree.failJob(jobId, describe(error), !isPermanent(error), attempt);
          return message.ack();
        }
        clearInterval(heartbeat);
        const { accepted } = await tree.completeJob(jobId, result, attempt);
        if (!accepted && onRefused) await onRefused(job as J, await tree.status());
        message.ack();
      } catch (error) {
        console.error(`job ${runId}/${task}/${jobId}: could not reach the TaskTree`, error);
        message.retry({ delaySeconds: 1 });
      }
    }),
  );
}
