import { hashToSeed } from '../../../shared/inference/seeded-random';
import type { JobResult, JudgeJob } from '../../../shared/contracts/jobs';
import { buildVerifierMessages, parseJudgement } from '../../../shared/prompts/verifier';
import type { CoreBindings } from '../../common/env';
import type { JobContext } from '../../common/job-context';
import { sampleThroughGate } from '../../common/policy';

/**
 * Asks the judge (the actor model itself unless the run names another endpoint) whether one step
 * of a bad path was good, bad or uncertain. Sampled like the reference (the run's temperature),
 * seeded by (run seed, task, node) so a retried job asks the same.
 */
export async function judgeStep(env: CoreBindings, job: JudgeJob, context?: JobContext): Promise<JobResult> {
  const { spec } = job;
  const sampled = await sampleThroughGate(
    env,
    spec.judge ?? spec.policy,
    `${job.runId}:${job.task}:${job.jobId}#${job.attempt}`,
    {
      ...(context ? { context } : {}),
      ...(spec.maxResponseChars ? { maxChars: spec.maxResponseChars } : {}),
      messages: buildVerifierMessages({
        taskDescription: job.taskDescription,
        history: job.history,
        current: job.current,
      }),
      n: 1,
      temperature: spec.temperature,
      maxTokens: spec.maxTokens,
      seed: hashToSeed(spec.seed, 'judge', job.task, job.nodeId),
      // A task waits on its judgements to finish, while expansions are plentiful: judge first.
      priority: 1,
    },
  );
  const feedback = sampled.texts[0] ?? '';
  return { kind: 'judge', judgement: parseJudgement(feedback), feedback, usage: sampled.usage };
}
