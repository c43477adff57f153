import { join } from 'node:path';
import { ApiError } from '../../shared/contracts/api-error';
import { ApiClient } from '../api-client';
import { startLocalStack } from '../stack';
import { type BuildMeasurement, measureBuild } from './measure-build';
import { round } from './metrics';
import type { BenchOptions } from './options';
import type { BenchSection, SectionContext } from './section';

/**
 * bench.json `scale`: builds of growing task counts against a fast endpoint, one stack for all of
 * them (sizes in ascending order, so memory a build leaves behind shows up in the next one's peak).
 * The default world has 216 goals: task i >= 216 plays goal i mod 216 under its own task id (what
 * `agent-r build --repeat-goals` allows), so every task is a distinct tree.
 */
export const scaleSim = { capacity: 128, latencyMs: 30, perTokenMs: 0.2, seed: 0 } as const;

/**
 * Full bench: 100, 300 and 1,000 tasks. Quick: 50 and 100. The builds are bound by the stack's
 * CPU, not the endpoint (utilisation ~0.05 at C=128): on a quiet 2-core machine at 5.5 ms of stack
 * CPU per call a 300-task build (28,600 calls) takes 180 s, which alone would break the quick
 * bench's ~4 minutes; 50 and 100 give the same two figures (wall per task and peak RSS, largest
 * over smallest) over a factor of 2 in ~75 s.
 */
export function scaleSizes(options: BenchOptions): number[] {
  if (options.scaleSizes !== null) return options.scaleSizes;
  return options.quick ? [50, 100] : [100, 300, 1000];
}

export const scaleSizesNote =
  'quick bench: 50 and 100 tasks (ratios over 2x); the full bench (npm run bench, or agent-r bench --only scale) builds 100, 300 and 1,000 tasks (ratios over 10x)';

/** Status poll interval of the scale builds: each poll asks every unfinished tree what it waits for. */
export const scalePollMs = 1000;

/**
 * An API client whose GETs retry (up to 10 times, 60 s each) when the stack does not answer: a
 * stack too busy to answer a status poll for a while is something this section reports
 * (`polls_unanswered`), not a reason to drop a build of hundreds of tasks.
 */
export class PatientApi extends ApiClient {
  unanswered = 0;

  override async request(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 120_000,
    contentType?: string,
  ): Promise<Response> {
    if (method !== 'GET' || timeoutMs === 0) return super.request(method, path, body, timeoutMs, contentType);
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.request(method, path, body, Math.min(timeoutMs, 60_000), contentType);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 0 || attempt >= 10) throw error;
        this.unanswered += 1;
      }
    }
  }
}

export function scaleRow(m: BuildMeasurement, pollsUnanswered = 0) {
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
    polls_unanswered: pollsUnanswered,
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
    const api = new PatientApi(stack.apiUrl, stack.token);
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
      const unansweredBefore = api.unanswered;
      const m = await measureBuild(
        stack,
        api,
        tasks,
        options.parallelism,
        scaleSim.capacity,
        log,
        scalePollMs,
      );
      const row = scaleRow(m, api.unanswered - unansweredBefore);
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
      sizes_note: options.scaleSizes ? `--scale-sizes ${options.scaleSizes.join(',')}` : scaleSizesNote,
      poll_ms: scalePollMs,
      rss_note: 'peak RSS of the stack process group (wrangler + workerd), sampled every 250 ms',
      builds: rows,
      ...scaleRatios(rows),
    };
  } finally {
    await stack.stop();
  }
}

export const scaleSection: BenchSection = { key: 'scale', enabled: () => true, run: runScale };
