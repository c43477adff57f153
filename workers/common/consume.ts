import type { AnyJob, JobResult } from '../../shared/contracts/jobs';
import { jobMessageSchema } from '../../shared/contracts/messages';
import { isEnvError } from '../../shared/env/agentgym/errors';
import { isInferenceError } from '../../shared/inference/inference-error';
import { envFailureReason } from '../../shared/outbound/reasons';
import { type CoreBindings, taskTreeStub } from './env';
import { JobInputError } from './environments';
import { assertProductionSecrets } from './secrets';

/** Failures that a retry cannot fix (bad input): the job fails at once with the reason. */
function isPermanent(error: unknown): boolean {
  return error instanceof JobInputError;
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
  work: (job: J) => Promise<JobResult>,
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
        const job = (await tree.getJob(jobId)) as AnyJob | null;
        if (!job || !kinds.includes(job.kind as J['kind'])) return message.ack();
        if (job.attempt !== parsed.data.attempt) return message.ack(); // superseded by a re-send
        let result: JobResult;
        try {
          result = await work(job as J);
        } catch (error) {
          await tree.failJob(jobId, describe(error), !isPermanent(error));
          return message.ack();
        }
        await tree.completeJob(jobId, result);
        message.ack();
      } catch (error) {
        console.error(`job ${runId}/${task}/${jobId}: could not reach the TaskTree`, error);
        message.retry({ delaySeconds: 1 });
      }
    }),
  );
}
