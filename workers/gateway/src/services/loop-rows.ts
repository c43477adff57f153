import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { iterations, loops, runs } from '../../../../shared/db/schema';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import type { CoreBindings } from '../../../common/env';

// The rows of the iterate-train-evaluate loop (D1) and how they are read: shared by the loop's
// state machine (loops.ts), the trainer protocol (trainer.ts) and the views (loop-views.ts).

export type IterationRow = typeof iterations.$inferSelect;
export type LoopRow = typeof loops.$inferSelect;

export interface IterationConfig {
  spec: RunSpec;
  /** Free-form notes the trainer sent with its callback. */
  notes?: Record<string, unknown>;
}

export const loopRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(loops).where(eq(loops.id, id)).get()) ?? null;
export const iterationRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(iterations).where(eq(iterations.id, id)).get()) ?? null;
export const runRow = async (env: CoreBindings, id: string) =>
  (await drizzle(env.DB).select().from(runs).where(eq(runs.id, id)).get()) ?? null;
