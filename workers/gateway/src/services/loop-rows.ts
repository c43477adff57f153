import { and, eq, inArray } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { iterations, loops, runs } from '../../../../shared/db/schema';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import type { CoreBindings } from '../../../common/env';

// The rows of the iterate-train-evaluate loop (D1) and how they are read: shared by the loop's
// state machine (loops.ts), its builds (iteration-builds.ts), the dataset assembly
// (iteration-dataset.ts), the trainer protocol (trainer.ts) and the views (loop-views.ts).

export type IterationRow = typeof iterations.$inferSelect;
export type LoopRow = typeof loops.$inferSelect;

/** One build of an iteration: its run and the spec it was started with. */
export interface IterationBuild {
  runId: string;
  spec: RunSpec;
}

export interface IterationConfig {
  /** The (first) build's spec. */
  spec: RunSpec;
  /** Every build of the iteration (absent on iterations of single-build loops made before builds). */
  runs?: IterationBuild[];
  /** Free-form notes the trainer sent with its callback. */
  notes?: Record<string, unknown>;
}

/** The builds of an iteration, whichever shape its config was stored in. */
export function iterationBuilds(row: IterationRow): IterationBuild[] {
  const config = row.config as IterationConfig;
  return config.runs ?? (row.runId ? [{ runId: row.runId, spec: config.spec }] : []);
}

export const loopRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(loops).where(eq(loops.id, id)).get()) ?? null;
export const iterationRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(iterations).where(eq(iterations.id, id)).get()) ?? null;
export const runRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(runs).where(eq(runs.id, id)).get()) ?? null;

export async function setLoop(env: CoreBindings, id: string, values: Partial<LoopRow>): Promise<void> {
  await drizzle(env.DB)
    .update(loops)
    .set({ ...values, updatedAt: Date.now() })
    .where(eq(loops.id, id));
}

/** The iteration statuses that may still fail (and take the loop down with them). */
const UNFINISHED = ['building', 'assembling', 'training'];

export async function failIteration(env: CoreBindings, id: string, error: string): Promise<void> {
  const db = drizzle(env.DB);
  const now = Date.now();
  const claimed = await db
    .update(iterations)
    .set({ status: 'failed', error, updatedAt: now, completedAt: now })
    .where(and(eq(iterations.id, id), inArray(iterations.status, UNFINISHED)))
    .returning({ loopId: iterations.loopId, index: iterations.index });
  const hit = claimed[0];
  if (hit)
    await setLoop(env, hit.loopId, {
      status: 'failed',
      error: `iteration ${hit.index}: ${error}`,
      completedAt: now,
    });
}
