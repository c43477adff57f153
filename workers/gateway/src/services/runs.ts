import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { ApiError, notFound } from '../../../../shared/contracts/api-error';
import { type RunSpec, runSpecSchema } from '../../../../shared/contracts/run-spec';
import { resolveTaskList, type TaskContext } from '../../../../shared/env/task-lists';
import type { RunView } from '../../../../shared/contracts/run-view';
import { runs } from '../../../../shared/db/schema';
import { endpointExists, loadEndpointSettings } from '../../../common/endpoints';
import { type CoreBindings, runLedgerStub } from '../../../common/env';
import { outboundRefusal } from '../../../common/outbound';
import { runStartFromKey } from '../../../common/storage-keys';
import { loadWorld } from '../../../common/worlds';

// Starting a run, shared by POST /v1/runs, the signed build hook, evaluations and iteration loops
// (the last two also start runs from the RunLedger's completion hook, outside any request).

export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  const text = [...bytes]
    .map((b) => b.toString(36).padStart(2, '0'))
    .join('')
    .slice(0, 14);
  return `${prefix}_${Date.now().toString(36)}${text}`;
}

export interface RunReferenceProblem {
  code: 'unknown_endpoint' | 'unknown_world' | 'outbound_refused' | 'width_exceeds_concurrency';
  message: string;
}

/** A run naming an endpoint or world that does not exist is refused up front, not failed later. */
export async function runReferenceProblem(
  env: CoreBindings,
  spec: RunSpec,
): Promise<RunReferenceProblem | null> {
  for (const name of new Set([spec.policy, spec.judge ?? spec.policy])) {
    if (!(await endpointExists(env, name))) {
      return {
        code: 'unknown_endpoint',
        message: `unknown endpoint "${name}": register it first with PUT /v1/endpoints/${name}`,
      };
    }
  }
  // Without `n` support an expansion needs `width` slots of the gate at once: more than the
  // endpoint's maxConcurrency could never be granted, so the run would wait forever.
  const policy = await loadEndpointSettings(env, spec.policy);
  if (policy && !policy.supportsN && spec.width > policy.maxConcurrency) {
    return {
      code: 'width_exceeds_concurrency',
      message:
        `width ${spec.width} needs ${spec.width} concurrent requests to endpoint "${spec.policy}" ` +
        `(supportsN is false), but its maxConcurrency is ${policy.maxConcurrency}: lower the width, ` +
        `raise maxConcurrency, or set supportsN if the server accepts n`,
    };
  }
  const envRefusal = spec.envServer ? outboundRefusal(env, spec.envServer, 'envServer') : null;
  if (envRefusal) return { code: 'outbound_refused', message: envRefusal };
  if (spec.env === 'crafting' && !(await loadWorld(env, spec.world))) {
    return {
      code: 'unknown_world',
      message: `unknown world "${spec.world}": upload it with PUT /v1/worlds/${spec.world} (agent-r world import)`,
    };
  }
  return null;
}

/**
 * Records the run and starts its RunLedger. The spec is stored once, under the run's id: D1's
 * row holds it without `startFrom`, and `startFrom` (megabytes for a large recovery run, over
 * D1's 2 MB value limit) goes to R2 first (`runStartFromKey`). The ledger gets the whole spec once,
 * with its start. Idempotent for a given id: a repeated call (a retried hook) neither duplicates
 * the row nor rewrites the spec nor restarts the ledger.
 */
export async function startRun(
  env: CoreBindings,
  spec: RunSpec,
  options: { id?: string; iterationId?: string | null } = {},
): Promise<string> {
  const id = options.id ?? newId('run');
  const now = Date.now();
  const db = drizzle(env.DB);
  const existing = await db.select({ id: runs.id }).from(runs).where(eq(runs.id, id)).get();
  if (!existing) {
    const { startFrom, ...config } = spec;
    let startFromBytes: number | null = null;
    if (startFrom) {
      const body = new TextEncoder().encode(JSON.stringify(startFrom));
      await env.BUCKET.put(runStartFromKey(id), body, { httpMetadata: { contentType: 'application/json' } });
      startFromBytes = body.byteLength;
    }
    await db
      .insert(runs)
      .values({
        id,
        status: 'queued',
        spec: config,
        startFromBytes,
        taskCount: spec.tasks.length,
        iterationId: options.iterationId ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing();
  }
  await runLedgerStub(env, id).start(id, spec);
  return id;
}

/**
 * POST /v1/runs and the build hook: tasks may be sent as ids or as the CLI's task-list text
 * ("0-19,25", "textcraft_31", SciWorld's "boil:0-4" or "reference": shared/env/task-lists.ts).
 */
export const runCreateSchema = z.preprocess((body) => {
  if (body && typeof body === 'object' && typeof (body as { tasks?: unknown }).tasks === 'string') {
    const { tasks: text, env, flavor } = body as { tasks: string; env?: unknown; flavor?: unknown };
    try {
      const context = { env: env === 'agentgym' ? 'agentgym' : 'crafting', flavor } as TaskContext;
      return { ...body, tasks: resolveTaskList(text, context) };
    } catch (error) {
      throw new ApiError(400, 'invalid_request', `invalid request: tasks: ${(error as Error).message}`);
    }
  }
  return body;
}, runSpecSchema);

/** A run naming an endpoint or world that does not exist is refused up front, not failed later. */
export async function checkRunReferences(env: CoreBindings, spec: RunSpec): Promise<void> {
  const problem = await runReferenceProblem(env, spec);
  if (problem) throw new ApiError(400, problem.code, problem.message);
}

/** Starts a build from a validated spec (POST /v1/runs, the signed build webhook). */
export async function createRun(
  env: CoreBindings,
  spec: RunSpec,
  options: { id?: string; iterationId?: string | null } = {},
): Promise<RunView> {
  await checkRunReferences(env, spec);
  const id = await startRun(env, spec, options);
  return loadRunView(env, id);
}

/**
 * A run's spec as D1 holds it: all but `startFrom` (rows written before `startFrom` moved to R2
 * carry it inline). Everything but the run view and the manifest needs no more.
 */
export type RunConfig = Omit<RunSpec, 'startFrom'>;

/** The run's D1 row with its spec (without `startFrom`: runWithSpec) typed, or a 404. */
export async function requireRun(env: CoreBindings, id: string) {
  const row = await drizzle(env.DB).select().from(runs).where(eq(runs.id, id)).get();
  if (!row) throw notFound(`run ${id}`);
  return { ...row, spec: row.spec as RunConfig };
}

/** The run's D1 row with its whole spec: `startFrom` read back from R2 where it is stored. */
export async function runWithSpec(env: CoreBindings, id: string) {
  const row = await requireRun(env, id);
  if (row.startFromBytes === null) return { ...row, spec: row.spec as RunSpec };
  const object = await env.BUCKET.get(runStartFromKey(id));
  if (!object) throw new Error(`run ${id}: its startFrom is missing from R2 (${runStartFromKey(id)})`);
  const startFrom = (await object.json()) as NonNullable<RunSpec['startFrom']>;
  return { ...row, spec: { ...row.spec, startFrom } as RunSpec };
}

/** The run as the API shows it: the D1 row with the ledger's live status and counters. */
export async function loadRunView(env: CoreBindings, id: string): Promise<RunView> {
  const row = await runWithSpec(env, id);
  const ledger = await runLedgerStub(env, id).status();
  return {
    id: row.id,
    status: ledger?.status ?? row.status,
    spec: row.spec as Record<string, unknown>,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    completedAt: row.completedAt,
    error: row.error,
    counters: ledger?.counters ?? null,
  };
}
