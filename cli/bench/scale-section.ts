import { join } from 'node:path';
import { ApiClient } from '../api-client';
import { startLocalStack } from '../stack';
import { type BuildMeasurement, measureBuild } from './measure-build';
import { round } from './metrics';
import type { BenchOptions } from './options';
import type { BenchSection, SectionContext } from './section';

/**
 * bench.json `scale`: builds of 100, 300 and (full bench) 1,000 tasks against a fast endpoint, one
 * stack for all of them (sizes in ascending order, so memory a build leaves behind shows up in the
 * next one's peak). The default world has 216 goals: task i >= 216 plays goal i mod 216 under its own
 * task id (what `agent-r build --repeat-goals` allows), so every task is a distinct tree.
 */
export const scaleSim = { capacity: 128, latencyMs: 30, perTokenMs: 0.2, seed: 0 } as const;

export function scaleSizes(options: BenchOptions): number[] {
  return options.quick ? [100, 300] : [100, 300, 1000];
}

export function scaleRow(m: BuildMeasurement) {
  return {
    tasks: m.tasks,
    status: m.status,
    wall_s: round(m.wallMs / 1000, 2),
    wall_ms_per_task: round(m.wallMs / m.tasks, 1),
    policy_calls: m.policyCalls,
    judge_calls: m.judgeCalls,
    endpoint_utilization: round(m.utilisation),
    sim_max_in_flight: m.simMaxInFlight,
    revision_records: m.revision,
    nodes: m.nodes,
    failed_jobs: m.failedJobs,
    orchestration_cpu_ms_per_call: round(m.cpuMs / Math.max(1, m.policyCalls + m.judgeCalls), 2),
    peak_rss_mb: round(m.peakRssMb, 1),
    load_avg_1m: m.loadAvg1,
  };
}

/** Wall time per task and peak RSS of the largest build relative to the smallest. */
export function scaleRatios(rows: ReturnType<typeof scaleRow>[]) {
  const first = rows[0];
  const last = rows.at(-1);
  if (!first || !last || first === last) return { wall_per_task_ratio: null, peak_rss_ratio: null };
  return {
    wall_per_task_ratio: round(last.wall_ms_per_task / first.wall_ms_per_task, 3),
    peak_rss_ratio: round(last.peak_rss_mb / first.peak_rss_mb, 3),
  };
}

async function runScale(ctx: SectionContext): Promise<unknown> {
  const { options, log } = ctx;
  log(`scale: own stack, sim-policy C=${scaleSim.capacity}, ${scaleSim.latencyMs} ms`);
  const stack = await startLocalStack({
    stateDir: join(ctx.workDir, 'state'),
    simOptions: { ...scaleSim },
    log: (l) => log(`  ${l}`),
  });
  try {
    const api = new ApiClient(stack.apiUrl, stack.token);
    // The stack registers `sim` with the headline bench's 32 slots; this endpoint has more.
    await api.json('PUT', '/v1/endpoints/sim', {
      baseUrl: `${stack.simUrl}/v1`,
      model: 'sim-policy',
      maxConcurrency: scaleSim.capacity,
      supportsN: true,
    });
    const rows = [];
    for (const tasks of scaleSizes(options)) {
      log(`scale: build of ${tasks} tasks`);
      const m = await measureBuild(stack, api, tasks, options.parallelism, scaleSim.capacity, log);
      const row = scaleRow(m);
      log(
        `  ${m.status} in ${row.wall_s} s, utilisation ${row.endpoint_utilization}, peak RSS ${row.peak_rss_mb} MB (load ${m.loadAvg1})`,
      );
      rows.push(row);
    }
    return {
      endpoint_capacity: scaleSim.capacity,
      endpoint_latency_ms: scaleSim.latencyMs,
      endpoint_per_token_ms: scaleSim.perTokenMs,
      parallelism: options.parallelism,
      rss_note: 'peak RSS of the stack process group (wrangler + workerd), sampled every 250 ms',
      builds: rows,
      ...scaleRatios(rows),
    };
  } finally {
    await stack.stop();
  }
}

export const scaleSection: BenchSection = { key: 'scale', enabled: () => true, run: runScale };
