import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { evals, iterations } from '../../../../shared/db/schema';
import { type EvalCreate, evalCreateSchema } from '../../../../shared/eval';
import type { LoopConfig } from '../../../../shared/iterations';
import type { CoreBindings } from '../../../common/env';
import { createEval } from './evals';
import { type LoopRow, setLoop } from './loop-rows';

// The evaluations of a loop: each iteration's policy and the final model, on the environment of
// the loop's (first) build.

/** The eval request of an iteration's policy (or the final model's, with iterationId null). */
export function evalInputFor(
  config: LoopConfig,
  policy: string,
  iterationId: string | null,
  recoverySourceRunId: string | null,
): EvalCreate {
  const e = config.eval!;
  const b = config.build;
  const recovery = e.recovery
    ? {
        ...(typeof e.recovery === 'object' ? e.recovery : {}),
        ...(recoverySourceRunId ? { fromRun: recoverySourceRunId } : {}),
      }
    : undefined;
  return evalCreateSchema.parse({
    policy,
    env: b.env ?? 'crafting',
    ...(b.env === 'agentgym'
      ? { flavor: b.flavor, envServer: b.envServer }
      : { world: b.world ?? 'default' }),
    ...(e.tasks ? { tasks: e.tasks } : e.split ? { split: e.split } : {}),
    ...(e.maxTasks ? { maxTasks: e.maxTasks } : {}),
    ...(e.rounds ? { rounds: e.rounds } : {}),
    ...(recovery ? { recovery } : {}),
    ...(iterationId ? { iterationId } : {}),
    seed: b.seed ?? 0,
    ...(b.maxTokens ? { maxTokens: b.maxTokens } : {}),
    ...(b.contextTokens ? { contextTokens: b.contextTokens } : {}),
    ...(b.preset ? { preset: b.preset } : {}),
    ...(b.revisionSentences ? { revisionSentences: b.revisionSentences } : {}),
  });
}

/**
 * The recovery test's failed trajectories come from the first iteration's eval (the starting
 * model's greedy failures), so every later model is tested on the same cuts.
 */
async function recoverySourceOf(env: CoreBindings, loopId: string): Promise<string | null> {
  const first = await drizzle(env.DB)
    .select({ evalId: iterations.evalId })
    .from(iterations)
    .where(and(eq(iterations.loopId, loopId), eq(iterations.index, 1)))
    .get();
  if (!first?.evalId) return null;
  const row = await drizzle(env.DB)
    .select({ runId: evals.runId })
    .from(evals)
    .where(eq(evals.id, first.evalId))
    .get();
  return row?.runId ?? null;
}

export async function startEval(
  env: CoreBindings,
  loop: LoopRow,
  policy: string,
  iterationId: string | null,
  index: number,
): Promise<string | null> {
  const config = loop.config as LoopConfig;
  if (!config.eval) return null;
  const source = index > 1 && config.eval.recovery ? await recoverySourceOf(env, loop.id) : null;
  try {
    return await createEval(env, evalInputFor(config, policy, iterationId, source));
  } catch (error) {
    // The build goes on without its evaluation; the reason is kept on the iteration/loop.
    const message = `could not start the evaluation: ${(error as Error).message}`;
    if (iterationId)
      await drizzle(env.DB).update(iterations).set({ error: message }).where(eq(iterations.id, iterationId));
    else await setLoop(env, loop.id, { error: message });
    return null;
  }
}
