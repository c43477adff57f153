import { type EnvCost, moveAlongPath, pathKeys, stepKey } from '../../../shared/env/replay';
import { hashToSeed } from '../../../shared/random';
import type { ExpandJob, ExpandedChild, JobResult } from '../../../shared/contracts/jobs';
import { childOfStep, type PathStep } from '../../../shared/mcts';
import {
  actionForRun,
  normalizeResponse,
  observationForRun,
  policyPromptForRun,
} from '../../../shared/run-conversation';
import type { CoreBindings } from '../../common/env';
import { openEnvironment, releaseOutcomeFor } from '../../common/environments';
import { alwaysCurrent, ensureCurrent, type JobContext } from '../../common/job-context';
import { sampleFitted } from '../../common/policy';
import { effectiveTextCap } from '../../../shared/text-cap';

/** Resets the environment to the task (and replays the run's `startFrom` steps): the tree's root. */
export async function expandRoot(
  env: CoreBindings,
  job: ExpandJob,
  context: JobContext = alwaysCurrent,
): Promise<JobResult> {
  if (touchesOutside(job)) await ensureCurrent(context, 'environment reset');
  const leased = await openEnvironment(env, job.spec, leaseHolder(job));
  try {
    const first = await leased.session.reset(job.task);
    const prefix: PathStep[] = [];
    for (const response of job.spec.startFrom?.[String(job.task)] ?? []) {
      const action = actionForRun(job.spec, normalizeResponse(response));
      const result = await leased.session.step(action);
      prefix.push({
        response: normalizeResponse(response),
        action,
        observation: observationForRun(job.spec, result.observation),
      });
      if (result.done) break;
    }
    const snapshot = await leased.session.snapshot();
    // The env stays where the root is: the first expansion steps on from here.
    await leased.release(
      'ok',
      pathKeys(job.task, [{ action: '', observation: first.observation }, ...prefix]),
    );
    const envCost = { resets: 1, steps: prefix.length };
    return { kind: 'root', observation: first.observation, snapshot, prefix, envCost };
  } catch (error) {
    await leased.release(releaseOutcomeFor(error));
    throw error;
  }
}

/**
 * Expands one node: `width` policy samples in one request (the prompt is the node's conversation),
 * de-duplicated by normalised text, then each distinct action stepped from the node's state.
 * The sampling seed depends only on (run seed, task, node), so a retried job samples the same.
 */
export async function expandNode(
  env: CoreBindings,
  job: ExpandJob,
  context: JobContext = alwaysCurrent,
): Promise<JobResult> {
  const { spec } = job;
  const holder = leaseHolder(job);
  const sampled = await sampleFitted(env, spec.policy, holder, {
    context,
    // Cut to what still fits a child's prompt with the task and this step alone.
    maxChars: effectiveTextCap(spec.maxResponseChars, spec),
    prompt: policyPromptForRun(spec, job.path),
    contextTokens: spec.contextTokens,
    n: spec.width,
    temperature: spec.temperature,
    maxTokens: spec.maxTokens,
    seed: hashToSeed(spec.seed, job.task, job.nodeId),
  });
  const responses = [...new Set(sampled.texts.map(normalizeResponse))];
  const nodeKeys = job.snapshot === null ? pathKeys(job.task, job.path) : [];
  // A superseded attempt (re-sent while this one waited) stops before touching a served
  // environment (the crafting engine needs no check: see touchesOutside).
  if (touchesOutside(job)) await ensureCurrent(context, 'environment steps');
  const leased = await openEnvironment(env, spec, holder, { task: job.task, keys: nodeKeys });
  const children: ExpandedChild[] = [];
  const envCost: EnvCost = { resets: 0, steps: 0 };
  // Where the env is (its step keys); null while unknown (mid-call, or after a failure).
  let position = leased.position;
  try {
    for (const response of responses) {
      if (job.snapshot !== null) {
        await leased.session.restore(job.snapshot);
      } else {
        const from = position;
        position = null;
        const view = (observation: string) => observationForRun(spec, observation);
        position = await moveAlongPath(leased.session, job.task, job.path, from, envCost, view);
      }
      const action = actionForRun(spec, response);
      const before = position;
      position = null;
      const result = await leased.session.step(action);
      envCost.steps++;
      const seen = { ...result, observation: observationForRun(spec, result.observation) };
      // The node keeps the action the env received (replays send it again) and the policy's own.
      const sent = result.sentAction ?? action;
      if (before) position = [...before, stepKey({ action: sent, observation: seen.observation })];
      children.push({
        ...childOfStep(response, sent, seen),
        ...(sent !== action ? { rawAction: action } : {}),
        snapshot: await leased.session.snapshot(),
      });
    }
    await leased.release('ok', position);
  } catch (error) {
    await leased.release(releaseOutcomeFor(error));
    throw error;
  }
  return {
    kind: 'expand',
    children,
    usage: sampled.usage,
    policyCalls: spec.width > 0 ? 1 : 0,
    envCost,
    contextRetries: sampled.contextRetries,
    tokenizer: sampled.tokenizer,
    ...(sampled.model ? { model: sampled.model } : {}),
  };
}

/**
 * The built-in crafting engine runs inside this worker: stepping it has no effect outside (a
 * superseded attempt's result is refused anyway), so it is not worth a check of the attempt.
 */
function touchesOutside(job: ExpandJob): boolean {
  return job.spec.env !== 'crafting';
}

/**
 * Env leases and gate slots are held per attempt: two attempts of one job (a re-send while the
 * first still runs) never share an env id.
 */
function leaseHolder(job: ExpandJob): string {
  return `${job.runId}:${job.task}:${job.jobId}#${job.attempt}`;
}
