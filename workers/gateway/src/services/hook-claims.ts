import { and, eq, isNull, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { hookSignatures, inboundHooks, runs } from '../../../../shared/db/schema';
import type { CoreBindings } from '../../../common/env';
import { ApiError } from '../../../../shared/contracts/api-error';
import { newId } from './runs';

// The inbound build hook's bookkeeping: each accepted signature once (replays are refused), and
// each idempotency key once (a redelivery returns the run the first delivery started).

/** A key claimed by a delivery that died before starting its run is reclaimable after this. */
const ABANDONED_CLAIM_MS = 60_000;

/**
 * Records an accepted signature; false when it was already seen within the window (a replay).
 * Rows older than twice the tolerance can no longer verify and are pruned here.
 */
export async function firstUseOfSignature(
  env: CoreBindings,
  signature: string,
  toleranceSeconds: number,
): Promise<boolean> {
  const db = drizzle(env.DB);
  const now = Date.now();
  await db.delete(hookSignatures).where(lt(hookSignatures.seenAt, now - 2 * toleranceSeconds * 1000));
  const inserted = await db
    .insert(hookSignatures)
    .values({ signature, seenAt: now })
    .onConflictDoNothing()
    .returning({ signature: hookSignatures.signature });
  return inserted.length > 0;
}

async function runExists(env: CoreBindings, id: string): Promise<boolean> {
  const row = await drizzle(env.DB).select({ id: runs.id }).from(runs).where(eq(runs.id, id)).get();
  return row !== undefined;
}

export type HookOutcome = { kind: 'created'; runId: string } | { kind: 'existing'; runId: string };

/**
 * Starts the build of a delivery at most once per idempotency key. The run id is chosen and
 * recorded with the claim before the run starts, so after an error the key is freed only when no
 * run was created; a redelivery after a late error returns the run that exists.
 */
export async function startOncePerKey(
  env: CoreBindings,
  key: string,
  bodySha256: string,
  start: (runId: string) => Promise<void>,
): Promise<HookOutcome> {
  const db = drizzle(env.DB);
  for (let round = 0; round < 2; round++) {
    const planned = newId('run');
    const claimed = await db
      .insert(inboundHooks)
      .values({ idempotencyKey: key, runId: planned, requestSha256: bodySha256, createdAt: Date.now() })
      .onConflictDoNothing()
      .returning({ key: inboundHooks.idempotencyKey });
    if (claimed.length > 0) {
      try {
        await start(planned);
        return { kind: 'created', runId: planned };
      } catch (error) {
        if (!(await runExists(env, planned))) {
          await db
            .delete(inboundHooks)
            .where(and(eq(inboundHooks.idempotencyKey, key), eq(inboundHooks.runId, planned)));
        }
        throw error;
      }
    }
    const first = await db.select().from(inboundHooks).where(eq(inboundHooks.idempotencyKey, key)).get();
    if (!first) continue; // freed between our insert and select: claim again
    if (first.requestSha256 && first.requestSha256 !== bodySha256) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        `idempotency-key "${key}" was already used with a different body`,
      );
    }
    if (first.runId && (await runExists(env, first.runId))) return { kind: 'existing', runId: first.runId };
    if (Date.now() - first.createdAt < ABANDONED_CLAIM_MS) break;
    // The first delivery died before its run existed: free the key and claim it again.
    await db
      .delete(inboundHooks)
      .where(
        and(
          eq(inboundHooks.idempotencyKey, key),
          first.runId ? eq(inboundHooks.runId, first.runId) : isNull(inboundHooks.runId),
        ),
      );
  }
  throw new ApiError(
    409,
    'in_progress',
    `a delivery with idempotency-key "${key}" is still being processed; retry shortly`,
  );
}
