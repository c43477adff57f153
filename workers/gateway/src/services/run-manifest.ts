import { type RunManifest, runManifestSchema, runWarnings } from '../../../../shared/contracts/manifest';
import type { RunSpec } from '../../../../shared/contracts/run-spec';
import { type CoreBindings, runLedgerStub } from '../../../common/env';
import { provenanceOf } from '../../../common/provenance';
import { runWithSpec } from './runs';

// A run's manifest (GET /v1/runs/:id/manifest, the build folder's manifest.json and the trainer's
// payload): one builder, so every place that hands out a manifest shows the same counts.

export interface ManifestRunRow {
  id: string;
  status: string;
  spec: RunSpec;
  createdAt: number;
  completedAt: number | null;
}

export async function runManifestFor(env: CoreBindings, row: ManifestRunRow): Promise<RunManifest> {
  const id = row.id;
  const status = await runLedgerStub(env, id).status();
  const k = status?.counters;
  return runManifestSchema.parse({
    run_id: id,
    status: status?.status ?? row.status,
    config: row.spec,
    counts: {
      tasks: row.spec.tasks.length,
      nodes: k?.nodes ?? 0,
      revision: k?.revision ?? 0,
      good: k?.good ?? 0,
      policy_calls: k?.policyCalls ?? 0,
      judge_calls: k?.judgeCalls ?? 0,
      failed_jobs: k?.failedJobs ?? 0,
      tasks_failed: k?.tasksFailed ?? 0,
      prompt_tokens: k?.promptTokens ?? 0,
      completion_tokens: k?.completionTokens ?? 0,
      reference_judge_calls: k?.referenceJudgeCalls ?? 0,
      env_resets: k?.envResets ?? 0,
      env_steps: k?.envSteps ?? 0,
      expansions: k?.expansions ?? 0,
      judge_failures: k?.judgeFailures ?? 0,
      context_retries: k?.contextRetries ?? 0,
    },
    env_per_expansion: envPerExpansion(k),
    tokenizer: k?.tokenizer ?? null,
    warnings: runWarnings({ judge_failures: k?.judgeFailures ?? 0, context_retries: k?.contextRetries ?? 0 }),
    // The model id the server reported (the endpoint's name until the first completion).
    model: k?.policyModel ?? row.spec.policy,
    thresholds: { alpha: row.spec.alpha, beta: row.spec.beta, transition: row.spec.transition },
    seed: row.spec.seed,
    created_at: new Date(row.createdAt).toISOString(),
    completed_at: row.completedAt ? new Date(row.completedAt).toISOString() : null,
    failures: (status?.tasks ?? []).filter((t) => t.error).map((t) => ({ task: t.task, reason: t.error! })),
    provenance: await provenanceOf(env, row.spec, { policy: k?.policyModel, judge: k?.judgeModel }),
  });
}

/** Resets and steps per expansion, rounded to 2 decimals (null before the first expansion). */
function envPerExpansion(k: { envResets?: number; envSteps?: number; expansions?: number } | undefined) {
  const expansions = k?.expansions ?? 0;
  if (expansions === 0) return null;
  const per = (n: number | undefined) => Math.round(((n ?? 0) / expansions) * 100) / 100;
  return { resets: per(k?.envResets), steps: per(k?.envSteps) };
}

/** GET /v1/runs/:id/manifest and the trainer's manifest link: the manifest of a run by id (404 if none). */
export async function runManifestOf(env: CoreBindings, id: string): Promise<RunManifest> {
  return runManifestFor(env, await runWithSpec(env, id));
}
