import { and, eq } from 'drizzle-orm';
import { cardSettings, runDataCard } from '../../../common/datacard';
import { drizzle } from 'drizzle-orm/d1';
import { dataCardSchema } from '../../../../shared/contracts/datacard';
import { datasets, iterations, webhookDeliveries, webhooks } from '../../../../shared/db/schema';
import { exportFormatSchema } from '../../../../shared/formats/export';
import { exportManifestSchema } from '../../../../shared/formats/manifest';
import { exportKey } from '../../../common/storage-keys';
import {
  CALLBACK_LINK_SECONDS,
  DOWNLOAD_LINK_SECONDS,
  type LoopConfig,
  signDownloadPath,
  type TrainerPayload,
} from '../../../../shared/iterations';
import type { EventMessage } from '../../../../shared/contracts/messages';
import type { RunManifest } from '../../../../shared/contracts/manifest';
import { runManifestOf } from './run-manifest';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { loadEndpoint } from '../../../common/endpoints';
import type { CoreBindings } from '../../../common/env';

import { openWebhookSecret } from './webhooks';
import { derivedKey } from '../../../common/secrets';
import { newId } from './runs';

import { type IterationRow, iterationBuilds, iterationRow, type LoopRow, loopRow } from './loop-rows';
// The trainer protocol of the iterate-train-evaluate loop: the signed payload a trainer gets when
// an iteration's build is done (dataset links, manifest, callback), and the trainer's secret that
// verifies its callback and download links.

/** Files a trainer may download for an iteration: `manifest.json` and `<kind>.<format>.jsonl`. */
export const iterationFilePath = (iterationId: string, file: string) =>
  `/v1/iterations/${encodeURIComponent(iterationId)}/files/${file}`;

/** The server's own key for the links handed to trainers (checked before any database read). */
export const iterationLinkKey = (env: CoreBindings) => derivedKey(env, 'iteration links');

export const iterationCallbackPath = (iterationId: string) =>
  `/v1/iterations/${encodeURIComponent(iterationId)}/callback`;

/** Signed (no token) links to an iteration's files, valid until `expires` (unix seconds). */
async function signer(env: CoreBindings, loop: LoopRow, iterationId: string, expires: number) {
  const linkKey = await iterationLinkKey(env);
  return async (file: string) =>
    `${loop.publicUrl}${await signDownloadPath(linkKey, iterationFilePath(iterationId, file), expires)}`;
}

async function callbackOf(env: CoreBindings, loop: LoopRow, iterationId: string, now: number) {
  const path = iterationCallbackPath(iterationId);
  return {
    // A signed link (use it as given): the gateway checks it before reading anything.
    url: `${loop.publicUrl}${await signDownloadPath(await iterationLinkKey(env), path, now + CALLBACK_LINK_SECONDS, 'POST')}`,
    method: 'POST' as const,
    body: '{"endpoint": {"baseUrl": "http://host:8000/v1", "model": "NAME", "apiKey": "optional"}} signed like this webhook (x-agent-r-signature, same secret)',
  };
}

const runCounts = (c: RunManifest['counts']) => ({
  tasks: c.tasks,
  revision: c.revision,
  good: c.good,
  nodes: c.nodes,
  tasks_failed: c.tasks_failed,
});

export async function trainerPayload(
  env: CoreBindings,
  loop: LoopRow,
  iteration: IterationRow,
): Promise<TrainerPayload> {
  const config = loop.config as LoopConfig;
  const manifest = await runManifestOf(env, iteration.runId!);
  const policy = await loadEndpoint(env, iteration.policyEndpoint);
  const now = Math.floor(Date.now() / 1000);
  const expires = now + DOWNLOAD_LINK_SECONDS;
  const signed = await signer(env, loop, iteration.id, expires);
  const common = {
    kind: 'agent-r.iteration.dataset' as const,
    loop: { id: loop.id, name: loop.name, iterations: config.iterations },
    iteration: { id: iteration.id, index: iteration.index, alpha: iteration.alpha },
    policy: {
      endpoint: iteration.policyEndpoint,
      baseUrl: policy?.baseUrl ?? '',
      model: policy?.model ?? '',
    },
    run: { id: iteration.runId!, status: manifest.status, counts: runCounts(manifest.counts) },
    callback: await callbackOf(env, loop, iteration.id, now),
  };
  if (iteration.datasetId)
    return { ...common, ...(await assembledPart(env, loop, iteration, signed, expires)) };
  const datasets: Record<string, string> = {};
  const links: Record<string, string> = {};
  const runPath = `/v1/runs/${encodeURIComponent(iteration.runId!)}`;
  for (const format of exportFormatSchema.options) {
    datasets[format] = await signed(`all.${format}.jsonl`);
    links[format] = `${loop.publicUrl}${runPath}/dataset?format=${format}`;
  }
  return {
    ...common,
    manifest,
    downloads: {
      manifest: await signed('manifest.json'),
      datasets,
      expiresAt: new Date(expires * 1000).toISOString(),
    },
    links: { manifest: `${loop.publicUrl}${runPath}/manifest`, datasets: links },
    datacard: (await runDataCard(env, iteration.runId!, manifest.config as RunSpec)).card,
  };
}

/**
 * The payload's data part for an iteration that assembled one dataset from all its builds: the
 * dataset's manifest and data card, its splits in every format, and every build run.
 */
async function assembledPart(
  env: CoreBindings,
  loop: LoopRow,
  iteration: IterationRow,
  signed: (file: string) => Promise<string>,
  expires: number,
) {
  const db = drizzle(env.DB);
  const id = iteration.datasetId!;
  const row = await db.select().from(datasets).where(eq(datasets.id, id)).get();
  if (row?.status !== 'ready') throw new Error(`dataset ${id} is ${row?.status ?? 'missing'}`);
  const manifest = exportManifestSchema.parse(row.manifest);
  const card = await env.BUCKET.get(exportKey(id, 'datacard.json'));
  const train: Record<string, string> = {};
  const validation: Record<string, string> = {};
  const hasValidation = manifest.files.some((f) => f.split === 'validation');
  for (const format of exportFormatSchema.options) {
    train[format] = await signed(`train.${format}.jsonl`);
    if (hasValidation) validation[format] = await signed(`validation.${format}.jsonl`);
  }
  const runs = [];
  for (const build of iterationBuilds(iteration)) {
    const m = await runManifestOf(env, build.runId);
    runs.push({
      id: build.runId,
      env: cardSettings(build.spec).env ?? '',
      status: m.status,
      counts: runCounts(m.counts),
    });
  }
  const files = `${loop.publicUrl}/v1/datasets/${encodeURIComponent(id)}/files`;
  return {
    manifest,
    downloads: {
      manifest: await signed('manifest.json'),
      datasets: train,
      ...(hasValidation ? { validation } : {}),
      expiresAt: new Date(expires * 1000).toISOString(),
    },
    // The bearer API serves the stored (native) files; other formats come from the signed links.
    links: {
      manifest: `${files}/manifest.json`,
      datasets: Object.fromEntries(
        manifest.files.map((f) => [f.split, `${files}/${encodeURIComponent(f.name)}`]),
      ),
    },
    ...(card ? { datacard: dataCardSchema.parse(await card.json()) } : {}),
    runs,
    dataset: {
      id,
      runIds: manifest.run_ids,
      counts: Object.fromEntries(
        Object.entries(manifest.counts).filter((e): e is [string, number] => typeof e[1] === 'number'),
      ),
    },
  };
}

/** Queues the signed `dataset.ready` delivery to the loop's trainer (the outbound webhook path). */
export async function sendToTrainer(
  env: CoreBindings,
  loop: LoopRow,
  iteration: IterationRow,
): Promise<string> {
  const db = drizzle(env.DB);
  const hook = await db.select().from(webhooks).where(eq(webhooks.id, loop.trainerWebhookId!)).get();
  if (!hook) throw new Error(`the trainer's webhook ${loop.trainerWebhookId} was deleted`);
  const payload = await trainerPayload(env, loop, iteration);
  const deliveryId = newId('dlv');
  const now = Date.now();
  await db.insert(webhookDeliveries).values({
    id: deliveryId,
    webhookId: hook.id,
    event: 'dataset.ready',
    payload,
    status: 'pending',
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  });
  const message: EventMessage = {
    type: 'event',
    event: 'dataset.ready',
    deliveryId,
    webhookId: hook.id,
    payload: payload as unknown as Record<string, unknown>,
  };
  await env.EVENTS.send(message, { contentType: 'json' });
  return deliveryId;
}

/**
 * Moves an iteration from `from` (building, or assembling its dataset) to training and queues the
 * trainer's delivery. The claim makes it happen once however often it is called.
 */
export async function handToTrainer(env: CoreBindings, id: string, from: string): Promise<void> {
  const db = drizzle(env.DB);
  const claimed = await db
    .update(iterations)
    .set({ status: 'training', updatedAt: Date.now() })
    .where(and(eq(iterations.id, id), eq(iterations.status, from)))
    .returning({ loopId: iterations.loopId });
  if (!claimed[0]) return;
  const loop = (await loopRow(env, claimed[0].loopId))!;
  if (!loop.trainerWebhookId) return; // it waits for POST /v1/iterations/:id/next with the new model
  try {
    const deliveryId = await sendToTrainer(env, loop, (await iterationRow(env, id))!);
    await db.update(iterations).set({ trainerDeliveryId: deliveryId }).where(eq(iterations.id, id));
  } catch (error) {
    await db
      .update(iterations)
      .set({ error: `could not notify the trainer: ${(error as Error).message}` })
      .where(eq(iterations.id, id));
  }
}

/** The trainer's secret for an iteration's loop (verifies callbacks and download links). */
export async function trainerSecretOf(env: CoreBindings, iterationId: string): Promise<string | null> {
  const row = await iterationRow(env, iterationId);
  if (!row) return null;
  const loop = await loopRow(env, row.loopId);
  if (!loop?.trainerWebhookId) return null;
  const hook = await drizzle(env.DB)
    .select()
    .from(webhooks)
    .where(eq(webhooks.id, loop.trainerWebhookId))
    .get();
  return hook ? openWebhookSecret(env, hook) : null;
}
