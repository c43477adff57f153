import { and, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { iterations, loops, runs, webhooks } from '../../../../shared/db/schema';
import { trainingTasks } from '../../../../shared/eval';
import {
  alphaFor,
  type CallbackBody,
  type LoopBuild,
  type LoopConfig,
  type LoopCreate,
  DEFAULT_LOOP_TASKS,
  loopDatasetSchema,
  type ModelEndpoint,
} from '../../../../shared/iterations';
import { loadEndpoint, saveEndpoint } from '../../../common/endpoints';
import type { CoreBindings } from '../../../common/env';
import { ApiError } from '../../../../shared/contracts/api-error';
import { advanceEvalsOfRun, publicLink } from './evals';
import { emitEventSafely, sealWebhookSecret } from './webhooks';
import { requireOutboundUrl } from '../../../common/outbound';
import { newId, runReferenceProblem, startRun } from './runs';
import { loadWorld } from '../../../common/worlds';
import { advanceIteration, iterationSpecs } from './iteration-builds';
import { evalInputFor, startEval } from './loop-evals';
import {
  failIteration,
  type IterationConfig,
  type IterationRow,
  iterationBuilds,
  iterationRow,
  type LoopRow,
  loopRow,
  setLoop,
} from './loop-rows';
import { runManifestOf } from './run-manifest';

// The iterate-train-evaluate loop. Each iteration is a small state machine:
//   building    -- its build runs finished (completed/partial) -->  training
//                  (loops with `builds`/`dataset`: --> assembling --> training, iteration-dataset.ts)
//   training    -- the trainer's signed callback (or POST .../next) registers a model --> completed
//   building    -- a build run failed or was cancelled --> failed (and so does the loop)
// A completed iteration starts the next one (auto loops) or leaves the loop `waiting` for
// POST /v1/iterations/:id/next; after the last one the loop is `completed` with its final model.
// Every step is claimed with a conditional UPDATE, so repeated or concurrent advances (the
// RunLedger's completion hook, a redelivered callback, a GET) do each thing once.

/** Endpoint names of the models a loop's trainer produces: `<loop id>-m<k>` (model of iteration k). */
export const modelEndpointName = (loopId: string, index: number) => `${loopId}-m${index}`;

async function withDefaultTasks(
  env: CoreBindings,
  build: LoopBuild,
): Promise<LoopBuild & { tasks: number[] }> {
  if (build.tasks) return { ...build, tasks: build.tasks };
  if ((build.env ?? 'crafting') !== 'crafting')
    throw new ApiError(
      400,
      'invalid_request',
      'invalid request: build.tasks: an agentgym loop needs its tasks',
    );
  const name = build.world ?? 'default';
  const world = await loadWorld(env, name);
  if (!world) throw new ApiError(400, 'unknown_world', `unknown world "${name}"`);
  return { ...build, tasks: trainingTasks(world.goals.length, DEFAULT_LOOP_TASKS) };
}

/** The loop's build specs (each of `builds` on top of `build`), their tasks filled in. */
async function loopBuilds(env: CoreBindings, input: LoopCreate) {
  const builds = [];
  for (const build of input.builds ?? [{}])
    builds.push(await withDefaultTasks(env, { ...input.build, ...build }));
  return builds;
}

/** Creates the loop (and its trainer's webhook row) and starts iteration 1. Returns the loop's id. */
export async function createLoop(env: CoreBindings, input: LoopCreate, publicUrl: string): Promise<string> {
  const db = drizzle(env.DB);
  const builds = await loopBuilds(env, input);
  const evalConfig =
    input.eval || input.evalTasks
      ? { ...(input.eval ?? {}), ...(input.evalTasks ? { tasks: input.evalTasks } : {}) }
      : null;
  const dataset = input.dataset ?? (input.builds ? loopDatasetSchema.parse({}) : null);
  const config: LoopConfig = {
    policy: input.policy,
    build: builds[0]!,
    ...(input.builds ? { builds } : {}),
    ...(dataset ? { dataset } : {}),
    alphas: input.alphas,
    iterations: input.iterations ?? input.alphas.length,
    auto: input.auto,
    eval: evalConfig,
    trainerUrl: input.trainerUrl ?? null,
  };
  // Every iteration's specs differ only in policy and alpha: check the first ones fully now.
  for (const { spec } of iterationSpecs(input.name, config, 1, input.policy, alphaFor(1, config.alphas))) {
    const problem = await runReferenceProblem(env, spec);
    if (problem) throw new ApiError(400, problem.code, problem.message);
  }
  const general = dataset?.generalChatKey;
  if (general && !(await env.BUCKET.head(general)))
    throw new ApiError(
      400,
      'unknown_general_chat',
      `dataset.generalChatKey: no general chat data at ${general}`,
    );
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
  const builds = iterationSpecs(loop.name, config, index, policy, alpha);
  const id = newId('itr');
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
      runId: builds[0]!.runId,
      config: { spec: builds[0]!.spec, runs: builds } satisfies IterationConfig,
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
  for (const { runId, spec } of builds) {
    const problem = await runReferenceProblem(env, spec);
    if (problem) {
      await failIteration(env, id, problem.message);
      return (await iterationRow(env, id))!;
    }
    await startRun(env, spec, { id: runId, iterationId: id });
  }
  const evalId = await startEval(env, loop, policy, id, index);
  if (evalId) await db.update(iterations).set({ evalId }).where(eq(iterations.id, id));
  return (await iterationRow(env, id))!;
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
  if (!row) throw new ApiError(404, 'not_found', `iteration ${id} not found`);
  if (row.status === 'completed' && row.resultEndpoint) {
    const existing = await loadEndpoint(env, row.resultEndpoint);
    if (existing && sameModel(existing, body.endpoint)) return row;
    throw new ApiError(
      409,
      'already_registered',
      `iteration ${id} already has its model (${row.resultEndpoint})`,
    );
  }
  if (row.status !== 'training') {
    throw new ApiError(
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
    runIds: iterationBuilds(row).map((b) => b.runId),
    datasetId: row.datasetId,
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
  if (!row) throw new ApiError(404, 'not_found', `iteration ${id} not found`);
  if (row.status === 'training') {
    if (!endpoint)
      throw new ApiError(
        409,
        'needs_model',
        `iteration ${id} waits for its trained model: send {"endpoint": {...}}`,
      );
    await registerModel(env, id, { endpoint }, { startNext: true });
  } else if (row.status === 'completed') {
    const loop = (await loopRow(env, row.loopId))!;
    if (row.index >= (loop.config as LoopConfig).iterations)
      throw new ApiError(409, 'loop_finished', `iteration ${id} was the loop's last`);
    await startIteration(env, loop, row.index + 1, row.resultEndpoint!, row.id);
  } else {
    throw new ApiError(409, 'not_ready', `iteration ${id} is ${row.status}`);
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
  const db = drizzle(env.DB);
  // An iteration's first run is on its row; every build run (the first too) names its iteration.
  const owners = new Set(
    (await db.select({ id: iterations.id }).from(iterations).where(eq(iterations.runId, runId)).all()).map(
      (r) => r.id,
    ),
  );
  const run = await db.select({ iterationId: runs.iterationId }).from(runs).where(eq(runs.id, runId)).get();
  if (run?.iterationId) owners.add(run.iterationId);
  for (const id of owners) await advanceIteration(env, id);
  await advanceEvalsOfRun(env, runId);
}
