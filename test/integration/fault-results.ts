import { env as workerEnv } from 'cloudflare:workers';
import { expect, inject } from 'vitest';
import { type DurabilityResult, durabilityResultSchema } from '../../cli/bench/faults/result';
import type { CoordinatorBindings } from '../../workers/common/env';
import { taskRecordsKey } from '../../workers/common/storage-keys';
import { api, recordLineReader } from './helpers';

/**
 * What the durability scenarios measure about a finished run, the way the bench measures its
 * wrangler-dev scenarios (cli/bench/faults/durability.ts): R2's record files against the ledger's
 * counts (the manifest) and D1's trajectory index.
 */

const env = workerEnv as unknown as CoordinatorBindings;

/** Every record of a run in R2, in file order. */
async function r2Records(id: string, tasks: number[]) {
  const out = [];
  for (const task of tasks)
    for (const kind of ['revision', 'good'] as const) {
      const text = (await (await env.BUCKET.get(taskRecordsKey(id, task, kind)))?.text()) ?? '';
      out.push(...text.split('\n').filter(Boolean).map(recordLineReader()));
    }
  return out;
}

export interface RunMeasure {
  /** Records the ledger counts that R2 does not hold. */
  lost: number;
  /** Record ids R2 holds twice, plus D1 index rows beyond the ledger's count. */
  duplicated: number;
  records: number;
  indexRows: number;
  /** Each record without its run-specific ids, to compare two runs of one spec. */
  contents: string[];
}

export async function measureRun(id: string, tasks: number[]): Promise<RunMeasure> {
  const records = await r2Records(id, tasks);
  const manifest = (await (await api(`/v1/runs/${id}/manifest`)).json()) as {
    counts: { revision: number; good: number };
  };
  const counted = manifest.counts.revision + manifest.counts.good;
  const index = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
    .bind(id)
    .first<{ n: number }>();
  const indexRows = index?.n ?? 0;
  const unique = new Set(records.map((r) => r.id)).size;
  return {
    lost: Math.max(0, counted - unique),
    duplicated: records.length - unique + Math.max(0, indexRows - counted),
    records: records.length,
    indexRows,
    // Record ids hash the run id: compare everything else.
    contents: records.map(({ id: _id, run_id: _run, ...rest }) => JSON.stringify(rest)),
  };
}

/** Records of `faulty` missing from `clean` (lost) and beyond it (duplicated), as multisets. */
export function contentDiff(clean: string[], faulty: string[]): { lost: number; duplicated: number } {
  const left = new Map<string, number>();
  for (const c of clean) left.set(c, (left.get(c) ?? 0) + 1);
  let duplicated = 0;
  for (const f of faulty) {
    const n = left.get(f) ?? 0;
    if (n > 0) left.set(f, n - 1);
    else duplicated += 1;
  }
  return { lost: [...left.values()].reduce((a, b) => a + b, 0), duplicated };
}

/** Hands a scenario's result to the bench when it asked for them (AGENT_R_FAULT_RESULTS). */
export async function reportFaultResult(result: DurabilityResult): Promise<void> {
  console.log(`FAULTS ${JSON.stringify(result)}`);
  const url = inject('faultResultsUrl');
  if (!url) return;
  const posted = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(durabilityResultSchema.parse(result)),
  });
  expect(posted.status).toBe(204);
}
