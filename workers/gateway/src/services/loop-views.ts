import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { iterations, loops, recordIndex, webhookDeliveries } from '../../../../shared/db/schema';
import type { EvalMetrics } from '../../../../shared/eval';
import type { LoopConfig } from '../../../../shared/iterations';
import type {
  EvalSummary,
  IterationView,
  LoopView as ContractLoopView,
} from '../../../../shared/contracts/loops';
import { runCountsSummary } from '../../../../shared/contracts/run-view';
import { loadEndpoint } from '../../../common/endpoints';
import { type CoreBindings, runLedgerStub } from '../../../common/env';
import { advanceEval, type EvalRow, evalView } from './evals';
import { advanceIteration } from './iteration-builds';
import { ASSEMBLING } from './iteration-dataset';
import {
  type IterationConfig,
  type IterationRow,
  iterationBuilds,
  type LoopRow,
  loopRow,
  runRow,
} from './loop-rows';

// What GET /v1/loops/:id and /v1/iterations/:id answer: a loop with its iterations, each with its
// build's progress and its eval's summary. Reading one moves its state machine on (a safety net
// beside the run.finished message).

async function evalSummary(env: CoreBindings, evalId: string | null): Promise<EvalSummary | null> {
  if (!evalId) return null;
  const row = (await advanceEval(env, evalId)) as EvalRow | null;
  if (!row) return null;
  const view = await evalView(env, row);
  const m = view.metrics as EvalMetrics | null;
  return {
    id: row.id,
    status: row.status,
    phase: view.phase,
    tasks: m?.tasks ?? view.spec.tasks.length,
    scored: m?.scored ?? null,
    successRate: m?.successRate ?? null,
    averageReward: m?.averageReward ?? null,
    loopShare: m?.loops.share ?? null,
    revisionShare: m?.revisions.share ?? null,
    firstErrorStep: m?.firstError.averageStep ?? null,
    recoverySuccessRate: m?.recovery?.successRate ?? null,
  };
}

export async function iterationView(env: CoreBindings, row: IterationRow): Promise<IterationView> {
  const db = drizzle(env.DB);
  const policy = await loadEndpoint(env, row.policyEndpoint);
  let run: IterationView['run'] = null;
  if (row.runId) {
    const runRecord = await runRow(env, row.runId);
    if (runRecord) {
      const ledger = await runLedgerStub(env, row.runId).status();
      const k = ledger?.counters;
      const avg = await db
        .select({ value: sql<number | null>`avg(${recordIndex.firstErrorStep})` })
        .from(recordIndex)
        .where(and(eq(recordIndex.runId, row.runId), eq(recordIndex.kind, 'revision')))
        .get();
      run = {
        status: ledger?.status ?? runRecord.status,
        counts: k ? runCountsSummary(k) : null,
        firstErrorStep: avg?.value ?? null,
      };
    }
  }
  const delivery = row.trainerDeliveryId
    ? await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, row.trainerDeliveryId)).get()
    : null;
  return {
    id: row.id,
    loopId: row.loopId,
    index: row.index,
    status: row.status,
    alpha: row.alpha,
    parentId: row.parentId,
    policy: { endpoint: row.policyEndpoint, baseUrl: policy?.baseUrl ?? null, model: policy?.model ?? null },
    runId: row.runId,
    runIds: iterationBuilds(row).map((b) => b.runId),
    datasetId: row.datasetId,
    run,
    evalId: row.evalId,
    eval: await evalSummary(env, row.evalId),
    resultEndpoint: row.resultEndpoint,
    trainerDelivery: delivery
      ? {
          id: delivery.id,
          status: delivery.status,
          attempts: delivery.attempts,
          lastError: delivery.lastError,
        }
      : null,
    notes: (row.config as IterationConfig).notes ?? null,
    error: row.error,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
  };
}

/** One iteration, moved on first if its run allows. */
export async function loadIterationView(env: CoreBindings, id: string): Promise<IterationView | null> {
  const row = await advanceIteration(env, id);
  return row ? iterationView(env, row) : null;
}

/** The loop view of shared/contracts/loops.ts, its config typed. */
export type LoopView = Omit<ContractLoopView, 'config'> & { config: LoopConfig };

export async function loopView(env: CoreBindings, loop: LoopRow): Promise<LoopView> {
  const rows = await drizzle(env.DB)
    .select()
    .from(iterations)
    .where(eq(iterations.loopId, loop.id))
    .orderBy(asc(iterations.index))
    .all();
  const views: IterationView[] = [];
  for (const row of rows) {
    const moving = row.status === 'building' || row.status === ASSEMBLING;
    const current = moving ? ((await advanceIteration(env, row.id)) ?? row) : row;
    views.push(await iterationView(env, current));
  }
  const fresh = (await loopRow(env, loop.id)) ?? loop;
  const config = fresh.config as LoopConfig;
  return {
    id: fresh.id,
    name: fresh.name,
    status: fresh.status,
    config,
    trainer:
      fresh.trainerWebhookId && config.trainerUrl
        ? { url: config.trainerUrl, webhookId: fresh.trainerWebhookId }
        : null,
    publicUrl: fresh.publicUrl,
    iterations: views,
    final: fresh.finalEndpoint
      ? {
          endpoint: fresh.finalEndpoint,
          evalId: fresh.finalEvalId,
          eval: await evalSummary(env, fresh.finalEvalId),
        }
      : null,
    error: fresh.error,
    createdAt: fresh.createdAt,
    updatedAt: fresh.updatedAt,
    completedAt: fresh.completedAt,
  };
}

export async function loadLoopView(env: CoreBindings, id: string): Promise<LoopView | null> {
  const loop = await loopRow(env, id);
  return loop ? loopView(env, loop) : null;
}

export async function listLoopRows(env: CoreBindings, limit: number): Promise<LoopRow[]> {
  return drizzle(env.DB).select().from(loops).orderBy(desc(loops.createdAt)).limit(limit).all();
}
