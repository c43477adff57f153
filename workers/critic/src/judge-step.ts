import type { JobResult, JudgeJob } from '../../../shared/contracts/jobs';
import { hashToSeed } from '../../../shared/random';
import { parseJudgement, verifierPrompt } from '../../../shared/prompts/verifier';
import type { CoreBindings } from '../../common/env';
import type { JobContext } from '../../common/job-context';
import { sampleFitted } from '../../common/policy';

/**
 * Asks the judge (the actor model itself unless the run names another endpoint) whether one step
 * of a bad path was good, bad or uncertain. Its history is cut to fit the model's context the way
 * the policy's is (oldest steps first; the task and the judged step always stay); a prompt that
 * cannot fit fails the job, which the TaskTree records as a `failed` judgement with the reason.
 * Per-node sampling uses the run's temperature, seeded by (run seed, task, node) so a retried job
 * asks the same; per-pair sampling (`judgeSampling`), as the reference, samples at temperature 1
 * with a seed of its own per pair.
 */
export async function judgeStep(env: CoreBindings, job: JudgeJob, context?: JobContext): Promise<JobResult> {
  const { spec } = job;
  const perPair = job.pairKey !== undefined;
  const sampled = await sampleFitted(
    env,
    spec.judge ?? spec.policy,
    `${job.runId}:${job.task}:${job.jobId}#${job.attempt}`,
    {
      ...(context ? { context } : {}),
      ...(spec.maxResponseChars ? { maxChars: spec.maxResponseChars } : {}),
      prompt: verifierPrompt(
        { taskDescription: job.taskDescription, history: job.history, current: job.current },
        spec.judgePrompt,
      ),
      contextTokens: spec.contextTokens,
      n: 1,
      temperature: perPair ? 1 : spec.temperature,
      maxTokens: spec.maxTokens,
      seed: perPair
        ? hashToSeed(spec.seed, 'judge', job.task, job.nodeId, job.pairKey!)
        : hashToSeed(spec.seed, 'judge', job.task, job.nodeId),
      // A task waits on its judgements to finish, while expansions are plentiful: judge first.
      priority: 1,
    },
  );
  const feedback = sampled.texts[0] ?? '';
  return {
    kind: 'judge',
    judgement: parseJudgement(feedback),
    feedback,
    usage: sampled.usage,
    contextRetries: sampled.contextRetries,
    tokenizer: sampled.tokenizer,
    ...(sampled.model ? { model: sampled.model } : {}),
  };
}
