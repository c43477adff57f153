import { and, eq, isNull, lt, or } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { EventMessage } from '../../../../shared/contracts/messages';
import { datasets, webhookDeliveries } from '../../../../shared/db/schema';
import type { CoreBindings } from '../../../common/env';

/**
 * The gateway's reconciler (its cron trigger, every minute, and at most once a minute from an API
 * request, see reconcileFromRequest): nothing it owns stays silently stuck.
 *  - A webhook delivery still `pending` well after it was due (EVENTS.send failed after its row was
 *    written, or its queue message was lost) is queued again; one pending for longer than a day
 *    is failed with the reason. The consumer skips deliveries that are no longer pending.
 *  - A dataset still `building` long after its request began (the request died: an isolate
 *    restart, a CPU limit) is failed with the reason, so GET /v1/datasets shows it and a client
 *    creates it again instead of waiting forever.
 */
export const STUCK_LIMITS = {
  /** A pending delivery this long past its due time (created, or its next attempt) is re-queued. */
  deliveryGraceMs: 5 * 60_000,
  /** A delivery still pending this long after it was created is failed. */
  deliveryGiveUpMs: 24 * 3_600_000,
  /** A dataset building for this long is failed (its request is long gone). */
  datasetBuildMs: 30 * 60_000,
  /** Rows handled per pass (the next pass takes the rest). */
  batch: 100,
};

export interface ReconcileReport {
  deliveriesRequeued: number;
  deliveriesFailed: number;
  datasetsFailed: number;
}

export async function reconcileStuck(env: CoreBindings, now = Date.now()): Promise<ReconcileReport> {
  const db = drizzle(env.DB);
  const report: ReconcileReport = { deliveriesRequeued: 0, deliveriesFailed: 0, datasetsFailed: 0 };
  const overdue = now - STUCK_LIMITS.deliveryGraceMs;
  const stuck = await db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, 'pending'),
        or(
          and(isNull(webhookDeliveries.nextAttemptAt), lt(webhookDeliveries.updatedAt, overdue)),
          lt(webhookDeliveries.nextAttemptAt, overdue),
        ),
      ),
    )
    .limit(STUCK_LIMITS.batch)
    .all();
  for (const delivery of stuck) {
    if (delivery.createdAt < now - STUCK_LIMITS.deliveryGiveUpMs) {
      const hours = Math.round((now - delivery.createdAt) / 3_600_000);
      await db
        .update(webhookDeliveries)
        .set({
          status: 'failed',
          lastError: `never delivered: still pending after ${hours} h (${delivery.attempts} attempts; its queue message was lost or could not be sent)`,
          nextAttemptAt: null,
          updatedAt: now,
        })
        .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
      report.deliveriesFailed += 1;
      continue;
    }
    const message: EventMessage = {
      type: 'event',
      event: delivery.event as EventMessage['event'],
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      payload: delivery.payload as Record<string, unknown>,
    };
    try {
      await env.EVENTS.send(message, { contentType: 'json' });
    } catch (error) {
      console.error(`delivery ${delivery.id}: could not re-queue it (the next pass tries again)`, error);
      continue;
    }
    // Due again from now: the next pass leaves it alone while this message is on its way.
    await db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: null, updatedAt: now })
      .where(and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending')));
    report.deliveriesRequeued += 1;
  }

  const started = now - STUCK_LIMITS.datasetBuildMs;
  const building = await db
    .select({ id: datasets.id, createdAt: datasets.createdAt })
    .from(datasets)
    .where(and(eq(datasets.status, 'building'), lt(datasets.createdAt, started)))
    .limit(STUCK_LIMITS.batch)
    .all();
  for (const row of building) {
    const minutes = Math.round((now - row.createdAt) / 60_000);
    await db
      .update(datasets)
      .set({
        status: 'failed',
        error: `assembly did not finish: still building after ${minutes} min (the request that built it ended); create the dataset again`,
      })
      .where(and(eq(datasets.id, row.id), eq(datasets.status, 'building')));
    report.datasetsFailed += 1;
  }
  if (report.deliveriesRequeued + report.deliveriesFailed + report.datasetsFailed > 0)
    console.warn(`reconciler: ${JSON.stringify(report)}`);
  return report;
}

/** How often API requests run the reconciler when nothing else does (RECONCILE_INTERVAL_MS overrides). */
export const REQUEST_RECONCILE_INTERVAL_MS = 60_000;

/** When this isolate last ran the reconciler from a request. */
let lastFromRequest = Number.NEGATIVE_INFINITY;

/**
 * The same repairs without a cron: a `wrangler dev` started by hand (no `--test-scheduled`, nothing
 * calling /__scheduled) never runs the scheduled handler, so an API request runs the reconciler
 * after the response, at most once per interval per isolate (two indexed D1 reads when nothing is
 * stuck). The cron stays the guarantee in a deployment with no traffic.
 */
export function reconcileFromRequest(
  env: CoreBindings & { RECONCILE_INTERVAL_MS?: string },
  ctx: { waitUntil(promise: Promise<unknown>): void },
  now = Date.now(),
): boolean {
  const configured = Number(env.RECONCILE_INTERVAL_MS ?? Number.NaN);
  const interval =
    Number.isFinite(configured) && configured >= 0 ? configured : REQUEST_RECONCILE_INTERVAL_MS;
  if (now - lastFromRequest < interval) return false;
  lastFromRequest = now;
  ctx.waitUntil(
    reconcileStuck(env, now).catch((error) => console.error('reconciler (from a request) failed', error)),
  );
  return true;
}
