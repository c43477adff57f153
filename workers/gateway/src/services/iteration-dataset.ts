import { and, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { datasets, iterations } from '../../../../shared/db/schema';
import type { LoopConfig } from '../../../../shared/iterations';
import type { CoreBindings } from '../../../common/env';
import type { GatewayBindings } from '../context';
import { createDataset } from './datasets';
import { failIteration, type IterationRow, iterationBuilds, type LoopRow } from './loop-rows';
import { newId } from './runs';
import { handToTrainer } from './trainer';

// The dataset step of an iteration whose loop pools several builds or mixes general data
// (`builds` / `dataset` in the loop spec): once every build run has finished, ONE dataset is
// assembled from all of them with the dataset service (curation preset, de-duplication, general
// chat data at eta, split), and that dataset is what the trainer gets.
//
//   building   -- every run finished, with data -->  assembling (the dataset's id recorded first)
//   assembling -- the dataset is ready           -->  training (the trainer's delivery queued)
//   assembling -- the assembly failed            -->  failed
// Assembling can take a while (it streams every record through R2 twice). The dataset id is
// claimed before the work starts, so a crash mid-way leaves a trace: the next advance finds the
// dataset ready (moves on), or -- long after any worker could still be writing it -- missing, still
// `building` or failed by the reconciler, and then abandons it and assembles again under a new id.

export const ASSEMBLING = 'assembling';
/** Longer than a queue consumer or request may run: an older assembly was interrupted. */
export const ASSEMBLY_STALE_MS = 20 * 60_000;

async function assemble(env: CoreBindings, loop: LoopRow, row: IterationRow, datasetId: string) {
  const config = loop.config as LoopConfig;
  try {
    await createDataset(
      env as GatewayBindings,
      {
        ...(config.dataset ?? {}),
        name: `${loop.name}: iteration ${row.index} (alpha ${row.alpha})`,
        runIds: iterationBuilds(row).map((b) => b.runId),
        format: 'native',
      },
      { id: datasetId },
    );
  } catch (error) {
    await failIteration(env, row.id, `could not assemble the dataset: ${(error as Error).message}`);
    return;
  }
  await handToTrainer(env, row.id, ASSEMBLING);
}

/** Claims the iteration's dataset step (building -> assembling) and assembles it. */
export async function startAssembly(env: CoreBindings, loop: LoopRow, row: IterationRow): Promise<void> {
  const datasetId = newId('ds');
  const claimed = await drizzle(env.DB)
    .update(iterations)
    .set({ status: ASSEMBLING, datasetId, updatedAt: Date.now() })
    .where(and(eq(iterations.id, row.id), eq(iterations.status, 'building')))
    .returning({ id: iterations.id });
  if (claimed.length > 0) await assemble(env, loop, row, datasetId);
}

/** An iteration found `assembling`: finish what an earlier (maybe interrupted) step began. */
export async function resumeAssembly(env: CoreBindings, loop: LoopRow, row: IterationRow): Promise<void> {
  const db = drizzle(env.DB);
  const dataset = row.datasetId
    ? await db.select().from(datasets).where(eq(datasets.id, row.datasetId)).get()
    : undefined;
  if (dataset?.status === 'ready') return handToTrainer(env, row.id, ASSEMBLING);
  // Recent: another worker is on it (a failed assembly fails the iteration right after). Stale: the
  // assembly was interrupted -- its dataset is missing, still `building`, or was failed since by
  // the gateway's reconciler (reconcile.ts) -- so it starts again.
  if (Date.now() - row.updatedAt < ASSEMBLY_STALE_MS) return;
  const datasetId = newId('ds');
  const claimed = await db
    .update(iterations)
    .set({ datasetId, updatedAt: Date.now() })
    .where(
      and(
        eq(iterations.id, row.id),
        eq(iterations.status, ASSEMBLING),
        eq(iterations.updatedAt, row.updatedAt),
      ),
    )
    .returning({ id: iterations.id });
  if (claimed.length === 0) return;
  if (row.datasetId)
    await db
      .update(datasets)
      .set({ status: 'failed', error: 'abandoned: the assembly was interrupted and started again' })
      .where(and(eq(datasets.id, row.datasetId), eq(datasets.status, 'building')));
  await assemble(env, loop, row, datasetId);
}
