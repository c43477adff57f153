import { and, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { webhookSecretContext } from '../../../../shared/crypto/bindings';
import { decryptSecret, encryptSecret } from '../../../../shared/crypto/secret-box';
import { webhookDeliveries, webhooks } from '../../../../shared/db/schema';
import { exportFormatSchema } from '../../../../shared/formats/export';
import type { EventMessage, eventNames, RunFinishedMessage } from '../../../../shared/contracts/messages';
import { runCountsSummary } from '../../../../shared/contracts/run-view';
import { redactSignedLinks } from '../../../../shared/iterations/download-links';
import { httpFailureReason, networkFailureReason } from '../../../../shared/outbound/reasons';
import { SIGNATURE_HEADER, signatureHeader } from '../../../../shared/webhooks/signing';
import type { CoreBindings } from '../../../common/env';
import { outboundRefusal } from '../../../common/outbound';
import { secretsKey } from '../../../common/secrets';
import type { WebhookDeliveryBody } from '../../../../shared/contracts/webhooks';

// Outbound webhooks. emitEvent() records one pending delivery per subscribed webhook and queues
// it; the gateway's queue consumer (events-consumer.ts) POSTs the signed body, records every
// attempt, and retries with exponential backoff until the delivery succeeds or runs out of
// attempts. Queues deliver at least once, so a delivery already delivered/failed is skipped.

export type EventName = (typeof eventNames)[number];

/** Optional settings the workers read from their vars (all have defaults). */
export interface EventBindings extends CoreBindings {
  /** Base URL put in front of the links in event payloads (e.g. https://agent-r.example.com). */
  PUBLIC_URL?: string;
  /** First retry delay; doubles per attempt, capped at an hour (default 30). */
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  /** Per-attempt timeout of the POST (default 10000). */
  WEBHOOK_TIMEOUT_MS?: string;
}

/** Attempts per delivery (the first included). Keep below the events queue's max_retries + 1. */
export const MAX_DELIVERY_ATTEMPTS = 5;
const MAX_BACKOFF_SECONDS = 3600;

function randomId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `${prefix}_${Date.now().toString(36)}${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Seals a webhook's signing secret for its id and URL origin (shared/crypto/bindings.ts). */
export function sealWebhookSecret(
  env: CoreBindings,
  webhook: { id: string; url: string },
  secret: string,
): Promise<string> {
  return encryptSecret(secret, secretsKey(env), { context: webhookSecretContext(webhook) });
}

/** Opens it again; throws when the row's id or URL origin is not what it was sealed for. */
export function openWebhookSecret(
  env: CoreBindings,
  webhook: { id: string; url: string; secretCiphertext: string },
): Promise<string> {
  return decryptSecret(webhook.secretCiphertext, secretsKey(env), { context: webhookSecretContext(webhook) });
}

/** The JSON body a receiver gets; fixed per delivery, so retries send the same bytes. */
export function deliveryBody(delivery: {
  id: string;
  event: string;
  payload: unknown;
  createdAt: number;
}): string {
  const body: WebhookDeliveryBody = {
    id: delivery.id,
    event: delivery.event,
    createdAt: new Date(delivery.createdAt).toISOString(),
    data: delivery.payload,
  };
  return JSON.stringify(body);
}

/**
 * Records and queues one delivery of `event` per active webhook subscribed to it. Returns the
 * delivery ids (empty when nobody listens). With a `key` (e.g. the run id of a run.completed
 * event) the delivery ids are derived from it, so a repeated call (a redelivered queue message)
 * records nothing twice and only re-queues deliveries that are still pending.
 */
export async function emitEvent(
  env: CoreBindings,
  event: EventName,
  payload: Record<string, unknown>,
  /**
   * Makes the emit idempotent: delivery ids derive from it, so an emit repeated after a failure
   * (an outbox retry) records each delivery once and re-queues it (the consumer skips finished ones).
   */
  onceKey?: string,
): Promise<string[]> {
  const db = drizzle(env.DB);
  const subscribed = (await db.select().from(webhooks).where(eq(webhooks.active, true)).all()).filter(
    (hook) => Array.isArray(hook.events) && (hook.events as string[]).includes(event),
  );
  if (subscribed.length === 0) return [];
  const now = Date.now();
  const rows = subscribed.map((hook) => ({
    id: onceKey ? `dlv_${onceKey}_${hook.id}` : randomId('dlv'),
    webhookId: hook.id,
    event,
    payload,
    status: 'pending' as const,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  }));
  for (const row of rows) await db.insert(webhookDeliveries).values(row).onConflictDoNothing();
  const messages: EventMessage[] = rows.map((row) => ({
    type: 'event',
    event,
    deliveryId: row.id,
    webhookId: row.webhookId,
    payload,
  }));
  // sendBatch takes at most 100 messages.
  for (let i = 0; i < messages.length; i += 100) {
    await env.EVENTS.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: 'json' })));
  }
  return rows.map((r) => r.id);
}

/** emitEvent for callers that must not fail because of webhooks (e.g. the RunLedger). */
export async function emitEventSafely(
  env: CoreBindings,
  event: EventName,
  payload: Record<string, unknown>,
): Promise<void> {
  try {
    await emitEvent(env, event, payload);
  } catch (error) {
    console.error(`could not emit ${event}`, error);
  }
}

function link(env: CoreBindings, path: string): string {
  const base = (env as EventBindings).PUBLIC_URL?.replace(/\/+$/, '') ?? '';
  return `${base}${path}`;
}

/** The `run.completed` payload: status, counts and where to download the data. */
export function runCompletedPayload(env: CoreBindings, run: RunFinishedMessage): Record<string, unknown> {
  const k = run.counters;
  const id = encodeURIComponent(run.runId);
  return {
    runId: run.runId,
    status: run.status,
    completedAt: new Date(run.completedAt).toISOString(),
    counts: { ...runCountsSummary(k), failedJobs: k.failedJobs },
    links: {
      run: link(env, `/v1/runs/${id}`),
      manifest: link(env, `/v1/runs/${id}/manifest`),
      datasets: Object.fromEntries(
        exportFormatSchema.options.map((format) => [
          format,
          link(env, `/v1/runs/${id}/dataset?format=${format}`),
        ]),
      ),
    },
  };
}

/** Reacting to a run.finished message: one run.completed delivery per webhook, at most once. */
export async function emitRunCompleted(env: CoreBindings, run: RunFinishedMessage): Promise<void> {
  await emitEvent(env, 'run.completed', runCompletedPayload(env, run), `run-completed-${run.runId}`);
}

export function backoffSeconds(env: CoreBindings, attempts: number): number {
  const configured = Number((env as EventBindings).WEBHOOK_RETRY_BASE_SECONDS);
  const base = Number.isFinite(configured) && configured >= 0 ? configured : 30;
  return Math.min(MAX_BACKOFF_SECONDS, Math.round(base * 2 ** Math.max(0, attempts - 1)));
}

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

async function post(
  env: CoreBindings,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<Outcome> {
  const configured = Number((env as EventBindings).WEBHOOK_TIMEOUT_MS);
  const timeoutMs = Number.isFinite(configured) && configured > 0 ? configured : 10_000;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel();
      return { ok: true, status: response.status };
    }
    // The receiver's body and headers are never recorded: the delivery log shows status + reason.
    await response.body?.cancel();
    return { ok: false, status: response.status, error: httpFailureReason(response.status) };
  } catch (error) {
    return { ok: false, status: null, error: networkFailureReason(error) };
  }
}

/** One delivery attempt; returns how the queue message should be settled. */
export async function deliverWebhook(
  env: CoreBindings,
  message: EventMessage,
): Promise<'done' | { retryIn: number }> {
  const db = drizzle(env.DB);
  const delivery = await db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.id, message.deliveryId))
    .get();
  if (delivery?.status !== 'pending') return 'done';
  const fail = async (error: string, status: number | null = null) => {
    await db
      .update(webhookDeliveries)
      .set({
        status: 'failed',
        payload: redactSignedLinks(delivery.payload),
        lastError: error,
        lastStatusCode: status,
        nextAttemptAt: null,
        updatedAt: Date.now(),
      })
      .where(eq(webhookDeliveries.id, delivery.id));
    return 'done' as const;
  };
  const hook = await db.select().from(webhooks).where(eq(webhooks.id, delivery.webhookId)).get();
  if (!hook?.active) return fail('the webhook was deleted or disabled');
  let secret: string;
  try {
    secret = await openWebhookSecret(env, hook);
  } catch {
    return fail('cannot open the webhook secret for this webhook and URL (was SECRETS_KEY changed?)');
  }
  const refusal = outboundRefusal(env, hook.url, 'the webhook url');
  if (refusal) return fail(refusal);
  // Claimed against the attempt count read above: of two copies of one delivery's message handled
  // at once (a run.finished reported twice queues it twice), exactly one wins and sends.
  const claimed = await db
    .update(webhookDeliveries)
    .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, updatedAt: Date.now() })
    .where(
      and(
        eq(webhookDeliveries.id, delivery.id),
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, delivery.attempts),
      ),
    )
    .returning({ attempts: webhookDeliveries.attempts });
  const attempt = claimed[0]?.attempts;
  if (attempt === undefined) return 'done';
  const body = deliveryBody(delivery);
  const outcome = await post(
    env,
    hook.url,
    {
      'content-type': 'application/json',
      'user-agent': 'agent-r-webhooks/1',
      'x-agent-r-event': delivery.event,
      'x-agent-r-delivery': delivery.id,
      'x-agent-r-attempt': String(attempt),
      [SIGNATURE_HEADER]: await signatureHeader(secret, body),
    },
    body,
  );
  const now = Date.now();
  if (outcome.ok) {
    await db
      .update(webhookDeliveries)
      .set({
        status: 'delivered',
        // The signed links were for the receiver: once it has them, they are not kept in plain text.
        payload: redactSignedLinks(delivery.payload),
        lastStatusCode: outcome.status,
        lastError: null,
        nextAttemptAt: null,
        updatedAt: now,
      })
      .where(eq(webhookDeliveries.id, delivery.id));
    return 'done';
  }
  if (attempt >= MAX_DELIVERY_ATTEMPTS) {
    return fail(`${outcome.error} (gave up after ${attempt} attempts)`, outcome.status);
  }
  const retryIn = backoffSeconds(env, attempt);
  await db
    .update(webhookDeliveries)
    .set({
      lastStatusCode: outcome.status,
      lastError: outcome.error,
      nextAttemptAt: now + retryIn * 1000,
      updatedAt: now,
    })
    .where(eq(webhookDeliveries.id, delivery.id));
  return { retryIn };
}
