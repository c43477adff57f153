import { and, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { evals, iterations, loops, webhooks } from '../../../../shared/db/schema';
import { type EvalCreate, evalCreateSchema, trainingTasks } from '../../../../shared/eval';
import {
  alphaFor,
  type CallbackBody,
  type LoopConfig,
  type LoopCreate,
  DEFAULT_LOOP_TASKS,
  type ModelEndpoint,
} from '../../../../shared/iterations';
import { runSpecSchema } from '../../../../shared/contracts/run-spec';
import { loadEndpoint, saveEndpoint } from '../../../common/endpoints';
import type { CoreBindings } from '../../../common/env';
import { advanceEvalsOfRun, createEval, isFinalRunStatus, publicLink, RequestError } from './evals';
import { emitEventSafely, sealWebhookSecret } from './webhooks';
import { requireOutboundUrl } from '../../../common/outbound';
import { newId, runReferenceProblem, startRun } from './runs';
import { loadWorld } from '../../../common/worlds';

import {
  type IterationConfig,
  type IterationRow,
  iterationRow,
  type LoopRow,
  loopRow,
  runRow,
} from './loop-rows';
import { runManifestOf, sendToTrainer } from './trainer';

// The iterate-train-evaluate loop. Each iteration is a small state machine:
//   building  -- its build run finished (completed/partial) -->  training
//   training  -- the trainer's signed callback (or POST .../next) registers a model --> completed
//   building  -- its build run failed or was cancelled --> failed (and so does the loop)
// A completed iteration starts the next one (auto loops) or leaves the loop `waiting` for
// POST /v1/iterations/:id/next; after the last one the loop is `completed` with its final model.
// Every step is claimed with a conditional UPDATE, so repeated or concurrent advances (the
// RunLedger's completion hook, a redelivered callback, a GET) do each thing once.

async function setLoop(env: CoreBindings, id: string, values: Partial<LoopRow>): Promise<void> {
  await drizzle(env.DB)
    .update(loops)
    .set({ ...values, updatedAt: Date.now() })
    .where(eq(loops.id, id));
}

/** Endpoint names of the models a loop's trainer produces: `<loop id>-m<k>` (model of iteration k). */
export const modelEndpointName = (loopId: string, index: number) => `${loopId}-m${index}`;

async function defaultBuildTasks(env: CoreBindings, input: LoopCreate): Promise<number[]> {
  if (input.build.tasks) return input.build.tasks;
  if ((input.build.env ?? 'crafting') !== 'crafting')
    throw new RequestError(
      400,
      'invalid_request',
      'invalid request: build.tasks: an agentgym loop needs its tasks',
    );
  const name = input.build.world ?? 'default';
  const world = await loadWorld(env, name);
  if (!world) throw new RequestError(400, 'unknown_world', `unknown world "${name}"`);
  return trainingTasks(world.goals.length, DEFAULT_LOOP_TASKS);
}

/** Creates the loop (and its trainer's webhook row) and starts iteration 1. Returns the loop's id. */
export async function createLoop(env: CoreBindings, input: LoopCreate, publicUrl: string): Promise<string> {
  const db = drizzle(env.DB);
  const build = { ...input.build, tasks: await defaultBuildTasks(env, input) };
  const evalConfig =
    input.eval || input.evalTasks
      ? { ...(input.eval ?? {}), ...(input.evalTasks ? { tasks: input.evalTasks } : {}) }
      : null;
  const config: LoopConfig = {
    policy: input.policy,
    build,
    alphas: input.alphas,
    iterations: input.iterations ?? input.alphas.length,
    auto: input.auto,
    eval: evalConfig,
    trainerUrl: input.trainerUrl ?? null,
  };
  // Every iteration's spec differs only in policy and alpha: check the first one fully now.
  const first = runSpecSchema.parse({ ...build, policy: input.policy, alpha: alphaFor(1, config.alphas) });
  const problem = await runReferenceProblem(env, first);
  if (problem) throw new RequestError(400, problem.code, problem.message);
  if (evalConfig) evalInputFor(config, input.policy, null, null); // validates the eval settings

  const id = newId('loop');
  let trainerWebhookId: string | null = null;
  if (input.trainerUrl) requireOutboundUrl(env, input.trainerUrl, 'trainerUrl');
  if (input.trainerUrl && input.trainerSecret) {
    trainerWebhookId = newId('whk');
    await db.insert(webhooks).values({
      id: trainerWebhookId,
      url: input.trainerUrl,
      // Subscribed to no event: only this loop's deliveries go to its trainer.
      events: [],
      secretCiphertext: await sealWebhookSecret(
        env,
        { id: trainerWebhookId, url: input.trainerUrl },
        input.trainerSecret,
      ),
      active: true,
      createdAt: Date.now(),
    });
  }
  const now = Date.now();
  await db.insert(loops).values({
    id,
    name: input.name,
    status: 'running',
    config,
    trainerWebhookId,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    createdAt: now,
    updatedAt: now,
  });
  const loop = (await loopRow(env, id))!;
  await startIteration(env, loop, 1, input.policy, null);
  return id;
}

/** The eval request of an iteration's policy (or the final model's, with iterationId null). */
function evalInputFor(
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

async function startEval(
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

/** Starts iteration `index` of the loop with `policy` (idempotent per loop and index). */
export async function startIteration(
  env: CoreBindings,
  loop: LoopRow,
  index: number,
  policy: string,
  parentId: string | null,
): Promise<IterationRow> {
  const db = drizzle(env.DB);
  const config = loop.config as LoopConfig;
  const alpha = alphaFor(index, config.alphas);
  const spec = runSpecSchema.parse({
    ...config.build,
    policy,
    alpha,
    label: `${loop.name}: iteration ${index} (alpha ${alpha})`,
  });
  const id = newId('itr');
  const runId = newId('run');
  const now = Date.now();
  const inserted = await db
    .insert(iterations)
    .values({
      id,
      loopId: loop.id,
      index,
      parentId,
      status: 'building',
      policyEndpoint: policy,
      alpha,
      runId,
      config: { spec } satisfies IterationConfig,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: iterations.id });
  if (inserted.length === 0) {
    // This iteration was started before (a repeated callback or /next): nothing new.
    return (await db
      .select()
      .from(iterations)
      .where(and(eq(iterations.loopId, loop.id), eq(iterations.index, index)))
      .get())!;
  }
  await setLoop(env, loop.id, { status: 'running' });
  const problem = await runReferenceProblem(env, spec);
  if (problem) {
    await failIteration(env, id, problem.message);
    return (await iterationRow(env, id))!;
  }
  await startRun(env, spec, { id: runId, iterationId: id });
  const evalId = await startEval(env, loop, policy, id, index);
  if (evalId) await db.update(iterations).set({ evalId }).where(eq(iterations.id, id));
  return (await iterationRow(env, id))!;
}

async function failIteration(env: CoreBindings, id: string, error: string): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  const claimed = await db
    .update(iterations)
    .set({ status: 'failed', error, updatedAt: now, completedAt: now })
    .where(and(eq(iterations.id, id), inArray(iterations.status, ['building', 'training'])))
    .returning({ loopId: iterations.loopId, index: iterations.index });
  const hit = claimed[0];
  if (hit)
    await setLoop(env, hit.loopId, {
      status: 'failed',
      error: `iteration ${hit.index}: ${error}`,
      completedAt: now,
    });
}

/** The status of an iteration whose build found nothing to train on. */
export const NO_DATA_STATUS = 'no_data';

/**
 * A build whose trees hold no (good, bad) pair and no good path has nothing to train: the
 * iteration ends as `no_data` (not an error) and the loop completes with the iteration's policy
 * as its final model, whose evaluation is the iteration's own.
 */
async function endWithoutData(env: CoreBindings, row: IterationRow): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  const message =
    `no revision data: build run ${row.runId} found no (good, bad) pair and no good trajectory ` +
    `(alpha ${row.alpha}); nothing to train, so the loop ends with ${row.policyEndpoint} as its final model`;
  const claimed = await db
    .update(iterations)
    .set({ status: NO_DATA_STATUS, error: message, updatedAt: now, completedAt: now })
    .where(and(eq(iterations.id, row.id), eq(iterations.status, 'building')))
    .returning({ id: iterations.id });
  if (claimed.length === 0) return;
  await db
    .update(loops)
    .set({
      status: 'completed',
      finalEndpoint: row.policyEndpoint,
      finalEvalId: row.evalId,
      updatedAt: now,
      completedAt: now,
    })
    .where(and(eq(loops.id, row.loopId), inArray(loops.status, ['running', 'waiting'])));
}

/** Moves an iteration on when its build run has finished. Idempotent. */
export async function advanceIteration(env: CoreBindings, id: string): Promise<IterationRow | null> {
  const db = drizzle(env.DB);
  const row = await iterationRow(env, id);
  if (row?.status !== 'building' || !row.runId) return row;
  const run = await runRow(env, row.runId);
  if (!run) {
    // Recorded but never started (a crash between the writes): start it now.
    await startRun(env, (row.config as IterationConfig).spec, { id: row.runId, iterationId: row.id });
    return row;
  }
  if (!isFinalRunStatus(run.status)) return row;
  if (run.status === 'failed' || run.status === 'cancelled') {
    await failIteration(
      env,
      id,
      `build run ${run.id} ${run.status === 'failed' ? 'failed on every task' : 'was cancelled'}`,
    );
    return iterationRow(env, id);
  }
  const counts = (await runManifestOf(env, row.runId)).counts;
  if (counts.revision + counts.good === 0) {
    await endWithoutData(env, row);
    return iterationRow(env, id);
  }
  const claimed = await db
    .update(iterations)
    .set({ status: 'training', updatedAt: Date.now() })
    .where(and(eq(iterations.id, id), eq(iterations.status, 'building')))
    .returning({ id: iterations.id });
  if (claimed.length === 0) return iterationRow(env, id);
  const loop = (await loopRow(env, row.loopId))!;
  if (loop.trainerWebhookId) {
    try {
      const deliveryId = await sendToTrainer(env, loop, row);
      await db.update(iterations).set({ trainerDeliveryId: deliveryId }).where(eq(iterations.id, id));
    } catch (error) {
      await db
        .update(iterations)
        .set({ error: `could not notify the trainer: ${(error as Error).message}` })
        .where(eq(iterations.id, id));
    }
  }
  // Without a trainer the iteration waits for POST /v1/iterations/:id/next with the new model.
  return iterationRow(env, id);
}

function sameModel(a: { baseUrl: string; model: string }, b: ModelEndpoint): boolean {
  return a.baseUrl.replace(/\/+$/, '') === b.baseUrl.replace(/\/+$/, '') && a.model === b.model;
}

/**
 * Registers the model trained on an iteration's data (the trainer's callback, or by hand) as the
 * endpoint `<loop>-m<index+1>`, completes the iteration and moves the loop on. A repeated callback
 * with the same model is answered with the iteration as it is; another model is refused.
 */
export async function registerModel(
  env: CoreBindings,
  id: string,
  body: CallbackBody,
  options: { startNext: boolean },
): Promise<IterationRow> {
  const db = drizzle(env.DB);
  const row = await iterationRow(env, id);
  if (!row) throw new RequestError(404, 'not_found', `iteration ${id} not found`);
  if (row.status === 'completed' && row.resultEndpoint) {
    const existing = await loadEndpoint(env, row.resultEndpoint);
    if (existing && sameModel(existing, body.endpoint)) return row;
    throw new RequestError(
      409,
      'already_registered',
      `iteration ${id} already has its model (${row.resultEndpoint})`,
    );
  }
  if (row.status !== 'training') {
    throw new RequestError(
      409,
      'not_training',
      row.status === 'building'
        ? `iteration ${id} is still building its data`
        : `iteration ${id} is ${row.status}: it takes no model`,
    );
  }
  const loop = (await loopRow(env, row.loopId))!;
  const parent = await loadEndpoint(env, row.policyEndpoint);
  const name = modelEndpointName(loop.id, row.index + 1);
  const e = body.endpoint;
  await saveEndpoint(env, {
    name,
    baseUrl: e.baseUrl,
    model: e.model,
    ...(e.apiKey ? { apiKey: e.apiKey } : {}),
    maxConcurrency: e.maxConcurrency ?? parent?.maxConcurrency ?? 8,
    supportsN: e.supportsN ?? parent?.supportsN ?? true,
    timeoutMs: e.timeoutMs ?? parent?.timeoutMs ?? 60_000,
    retry: parent?.retry ?? { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 },
    defaults: parent?.defaults ?? { temperature: 1, maxTokens: 500, stop: [] },
  });
  const now = Date.now();
  const config: IterationConfig = {
    ...(row.config as IterationConfig),
    ...(body.notes ? { notes: body.notes } : {}),
  };
  const claimed = await db
    .update(iterations)
    .set({ status: 'completed', resultEndpoint: name, config, updatedAt: now, completedAt: now })
    .where(and(eq(iterations.id, id), eq(iterations.status, 'training')))
    .returning({ id: iterations.id });
  if (claimed.length === 0) return (await iterationRow(env, id))!;
  const done = (await iterationRow(env, id))!;
  await emitEventSafely(env, 'iteration.completed', await iterationCompletedPayload(env, loop, done));
  await afterIteration(env, loop, done, options.startNext || (loop.config as LoopConfig).auto);
  return (await iterationRow(env, id))!;
}

async function iterationCompletedPayload(env: CoreBindings, loop: LoopRow, row: IterationRow) {
  const manifest = row.runId ? await runManifestOf(env, row.runId) : null;
  return {
    loopId: loop.id,
    loopName: loop.name,
    iterationId: row.id,
    index: row.index,
    alpha: row.alpha,
    policy: row.policyEndpoint,
    model: row.resultEndpoint,
    runId: row.runId,
    evalId: row.evalId,
    counts: manifest
      ? { revision: manifest.counts.revision, good: manifest.counts.good, tasks: manifest.counts.tasks }
      : null,
    last: row.index >= (loop.config as LoopConfig).iterations,
    links: {
      loop: publicLink(env, `/v1/loops/${encodeURIComponent(loop.id)}`, loop.publicUrl),
      iteration: publicLink(env, `/v1/iterations/${encodeURIComponent(row.id)}`, loop.publicUrl),
    },
  };
}

/** After a completed iteration: the next one (auto or asked for), or the loop's end. */
async function afterIteration(
  env: CoreBindings,
  loop: LoopRow,
  row: IterationRow,
  startNext: boolean,
): Promise<void> {
  const config = loop.config as LoopConfig;
  const model = row.resultEndpoint!;
  if (row.index >= config.iterations) {
    const now = Date.now();
    const claimed = await drizzle(env.DB)
      .update(loops)
      .set({ status: 'completed', finalEndpoint: model, updatedAt: now, completedAt: now })
      .where(and(eq(loops.id, loop.id), inArray(loops.status, ['running', 'waiting'])))
      .returning({ id: loops.id });
    if (claimed.length > 0 && config.eval) {
      const evalId = await startEval(env, loop, model, null, row.index + 1);
      if (evalId) await setLoop(env, loop.id, { finalEvalId: evalId });
    }
    return;
  }
  if (startNext) await startIteration(env, loop, row.index + 1, model, row.id);
  else await setLoop(env, loop.id, { status: 'waiting' });
}

/**
 * POST /v1/iterations/:id/next: registers the model (when the iteration still waits for one) and
 * starts the next iteration, or starts the next iteration of a completed one in a manual loop.
 */
export async function nextIteration(
  env: CoreBindings,
  id: string,
  endpoint: ModelEndpoint | undefined,
): Promise<IterationRow> {
  const row = await iterationRow(env, id);
  if (!row) throw new RequestError(404, 'not_found', `iteration ${id} not found`);
  if (row.status === 'training') {
    if (!endpoint)
      throw new RequestError(
        409,
        'needs_model',
        `iteration ${id} waits for its trained model: send {"endpoint": {...}}`,
      );
    await registerModel(env, id, { endpoint }, { startNext: true });
  } else if (row.status === 'completed') {
    const loop = (await loopRow(env, row.loopId))!;
    if (row.index >= (loop.config as LoopConfig).iterations)
      throw new RequestError(409, 'loop_finished', `iteration ${id} was the loop's last`);
    await startIteration(env, loop, row.index + 1, row.resultEndpoint!, row.id);
  } else {
    throw new RequestError(409, 'not_ready', `iteration ${id} is ${row.status}`);
  }
  const next = await drizzle(env.DB)
    .select()
    .from(iterations)
    .where(and(eq(iterations.loopId, row.loopId), eq(iterations.index, row.index + 1)))
    .get();
  return next ?? (await iterationRow(env, id))!;
}

/**
 * A run finished (the run.finished message): moves on the iteration whose build this was and
 * every eval waiting on it. Both only move forward, so a repeated call changes nothing; a failure
 * throws, and the queue retries the message (GETs of the iteration or eval retry the advance too).
 */
export async function onRunFinished(env: CoreBindings, runId: string): Promise<void> {
  const owners = await drizzle(env.DB)
    .select({ id: iterations.id })
    .from(iterations)
    .where(eq(iterations.runId, runId))
    .all();
  for (const { id } of owners) await advanceIteration(env, id);
  await advanceEvalsOfRun(env, runId);
}
