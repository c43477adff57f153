import { z } from 'zod';

/**
 * The inputs of docs/scale.md (scale-plan.ts): the bench.json sections it reads, and the Workers
 * Paid list prices and platform limits it applies to them, each with the page it comes from.
 */

const counts = z.record(z.string(), z.number());

/** The parts of bench.json the plan reads (the rest is ignored). */
export const planInputSchema = z.object({
  generated_at: z.string().optional(),
  platform_ops: z.object({
    tasks: z.number(),
    policy_calls: z.number().positive(),
    judge_calls: z.number(),
    revision_records: z.number().positive(),
    nodes: z.number(),
    load_avg_1m: z.number(),
    totals: counts,
    per_policy_call: counts,
    cpu_ms_per_policy_call: z.number(),
    storage_bytes_per_revision_record: z.object({
      d1_bytes: z.number(),
      r2_bytes: z.number(),
      do_bytes: z.number(),
    }),
    /** Present when the databases were measured as SQLite counts them (no WAL files). */
    storage_note: z.string().optional(),
    measured_at: z.string().optional(),
  }),
  scale: z
    .object({
      endpoint_capacity: z.number(),
      endpoint_latency_ms: z.number(),
      builds: z.array(
        z.object({
          tasks: z.number(),
          status: z.string(),
          wall_s: z.number(),
          wall_ms_per_task: z.number(),
          policy_calls: z.number(),
          revision_records: z.number(),
          endpoint_utilization: z.number(),
          orchestration_cpu_ms_per_call: z.number(),
          peak_rss_mb: z.number(),
          load_avg_1m: z.number(),
        }),
      ),
      wall_per_task_ratio: z.number().nullable(),
      peak_rss_ratio: z.number().nullable(),
      measured_at: z.string().optional(),
    })
    .optional(),
  deep_tree: z
    .object({
      status: z.string(),
      nodes: z.number(),
      expansions: z.number(),
      cpu_ms_per_expansion_start: z.number().nullable(),
      cpu_ms_per_expansion_end: z.number().nullable(),
      end_over_start: z.number().nullable(),
      stack_rss_mb_before_splice: z.number().nullable(),
      splice_rss_growth_mb: z.number().nullable(),
      polls_unanswered: z.number(),
      load_avg_1m: z.number(),
      wall_s: z.number(),
      revision_records: z.number().optional(),
      measured_at: z.string().optional(),
    })
    .optional(),
});
export type PlanInput = z.infer<typeof planInputSchema>;

export const page = {
  workersPricing: 'https://developers.cloudflare.com/workers/platform/pricing/',
  workersLimits: 'https://developers.cloudflare.com/workers/platform/limits/',
  doPricing: 'https://developers.cloudflare.com/durable-objects/platform/pricing/',
  doLimits: 'https://developers.cloudflare.com/durable-objects/platform/limits/',
  doFaq: 'https://developers.cloudflare.com/durable-objects/reference/faq/',
  d1Pricing: 'https://developers.cloudflare.com/d1/platform/pricing/',
  d1Limits: 'https://developers.cloudflare.com/d1/platform/limits/',
  queuesPricing: 'https://developers.cloudflare.com/queues/platform/pricing/',
  queuesLimits: 'https://developers.cloudflare.com/queues/platform/limits/',
  r2Pricing: 'https://developers.cloudflare.com/r2/pricing/',
};

/** Workers Paid list prices beyond the included usage, US$ (looked up 2026-12-03 on the pages cited). */
export const prices = {
  queueOpPerM: 0.4, // Queues: per million operations; one message = write + read + delete (64 KB each)
  doRequestPerM: 0.15, // DO: every RPC method call is one billed request
  doRowWrittenPerM: 1.0, // DO SQLite storage: rows written
  doStoredGbMonth: 0.2,
  d1RowWrittenPerM: 1.0,
  d1RowReadPerM: 0.001,
  d1StoredGbMonth: 0.75,
  r2ClassAPerM: 4.5, // puts
  r2StoredGbMonth: 0.015,
  workersRequestPerM: 0.3,
  workersCpuMsPerM: 0.02,
};

/** Platform limits (Workers Paid) the plan checks against. */
export const limits = {
  doRequestsPerSecond: 1000, // one Durable Object: a single thread, on the order of 1,000 requests/s (DO FAQ)
  queueMessagesPerSecond: 5000, // per queue
  d1QueriesPerSecond: 1000, // one database runs queries one at a time: ~1,000/s at 1 ms each (D1 limits FAQ)
  d1DatabaseBytes: 10e9,
  doObjectBytes: 10e9,
  subrequestsPerInvocation: 10_000,
  d1QueriesPerInvocation: 1000,
  cpuMsPerInvocation: 300_000,
  expandQueues: 4, // agent-r-expand, -1, -2, -3 (workers/coordinator/wrangler.toml)
};

export const TARGET_TASKS = 100_000;

export function n(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A measured figure as the document shows it (4 significant digits); the arithmetic uses the shown
 * value, so every product and quotient in the text can be checked by hand.
 */
export const fig = (value: number) => Number(value.toPrecision(4));

/** Significant figures for small and large numbers alike (prices, rates). */
export function s(value: number, significant = 4): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 10 ** significant) return n(value);
  return Number(value.toPrecision(significant)).toLocaleString('en-US', {
    maximumSignificantDigits: significant,
  });
}

export const usd = (value: number) => `$${s(value, 3)}`;

/** When and on which commit a bench.json was measured (the headline's manifest or `git_commit`). */
function measuredAt(file: Record<string, unknown>): string {
  const manifest = file.manifest as { provenance?: { git_commit?: unknown } } | undefined;
  const commit = file.git_commit ?? manifest?.provenance?.git_commit;
  return `${String(file.generated_at)}${typeof commit === 'string' ? ` on ${commit.slice(0, 7)}` : ''}`;
}

/** Merges bench.json files left to right (a later file's sections win) and validates the result. */
export function planInput(files: readonly Record<string, unknown>[]): PlanInput {
  const merged: Record<string, unknown> = {};
  for (const file of files) {
    for (const [key, value] of Object.entries(file)) {
      // Each section remembers when its file was generated (they may come from different runs).
      merged[key] =
        value && typeof value === 'object' && !Array.isArray(value) && typeof file.generated_at === 'string'
          ? { measured_at: measuredAt(file), ...value }
          : value;
    }
  }
  return planInputSchema.parse(merged);
}
