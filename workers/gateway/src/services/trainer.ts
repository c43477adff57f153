import { eq } from 'drizzle-orm';
import { runDataCard } from '../../../common/datacard';
import { drizzle } from 'drizzle-orm/d1';
import { webhookDeliveries, webhooks } from '../../../../shared/db/schema';
import { exportFormatSchema } from '../../../../shared/formats/export';
import {
  CALLBACK_LINK_SECONDS,
  DOWNLOAD_LINK_SECONDS,
  type LoopConfig,
  signDownloadPath,
  type TrainerPayload,
} from '../../../../shared/iterations';
import type { EventMessage } from '../../../../shared/contracts/messages';
import { runManifestOf } from './run-manifest';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { loadEndpoint } from '../../../common/endpoints';
import type { CoreBindings } from '../../../common/env';

import { openWebhookSecret } from './webhooks';
import { derivedKey } from '../../../common/secrets';
import { newId } from './runs';

import { type IterationRow, iterationRow, type LoopRow, loopRow } from './loop-rows';
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
  const base = loop.publicUrl;
  const linkKey = await iterationLinkKey(env);
  const signed = async (file: string) =>
    `${base}${await signDownloadPath(linkKey, iterationFilePath(iteration.id, file), expires)}`;
  const datasets: Record<string, string> = {};
  const links: Record<string, string> = {};
  const runPath = `/v1/runs/${encodeURIComponent(iteration.runId!)}`;
  for (const format of exportFormatSchema.options) {
    datasets[format] = await signed(`all.${format}.jsonl`);
    links[format] = `${base}${runPath}/dataset?format=${format}`;
  }
  const c = manifest.counts;
  return {
    kind: 'agent-r.iteration.dataset',
    loop: { id: loop.id, name: loop.name, iterations: config.iterations },
    iteration: { id: iteration.id, index: iteration.index, alpha: iteration.alpha },
    policy: {
      endpoint: iteration.policyEndpoint,
      baseUrl: policy?.baseUrl ?? '',
      model: policy?.model ?? '',
    },
    run: {
      id: iteration.runId!,
      status: manifest.status,
      counts: {
        tasks: c.tasks,
        revision: c.revision,
        good: c.good,
        nodes: c.nodes,
        tasks_failed: c.tasks_failed,
      },
    },
    manifest,
    downloads: {
      manifest: await signed('manifest.json'),
      datasets,
      expiresAt: new Date(expires * 1000).toISOString(),
    },
    links: { manifest: `${base}${runPath}/manifest`, datasets: links },
    callback: {
      // A signed link (use it as given): the gateway checks it before reading anything.
      url: `${base}${await signDownloadPath(linkKey, iterationCallbackPath(iteration.id), now + CALLBACK_LINK_SECONDS, 'POST')}`,
      method: 'POST',
      body: '{"endpoint": {"baseUrl": "http://host:8000/v1", "model": "NAME", "apiKey": "optional"}} signed like this webhook (x-agent-r-signature, same secret)',
    },
    datacard: (await runDataCard(env, iteration.runId!, manifest.config as RunSpec)).card,
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
