import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunManifest } from '../../shared/contracts/manifest';
import { ApiClient } from '../api-client';
import { gitCommit } from '../provenance';
import { type LocalStack, startLocalStack } from '../stack';
import {
  baselineSection,
  oneProcessSummary,
  parallelSection,
  quickShards,
  runShardedBaseline,
  type ShardedBaseline,
} from './baseline-section';
import { type ExportMeasurement, measureExport } from './export-bench';
import { removeDir, tempDir } from './fault-scenarios';
import { runFaultScenarios } from './faults-section';
import { loadAverage, measureBuild, scalingRow } from './measure-build';
import { formatScaling, perCall, round, targets } from './metrics';
import { type BenchOptions, benchSim, partRuns } from './options';
import type { BenchSection } from './section';
import { benchSections } from './sections';
import { summaryTable } from './summary';

export { type BenchOptions, benchSim, defaultBenchOptions } from './options';
export { summaryTable } from './summary';

/** Runs the benchmark and writes bench.json; returns its content. */
export async function runBench(options: BenchOptions): Promise<Record<string, unknown>> {
  const benchStarted = performance.now();
  const log = (line: string) =>
    options.log(
      line ? `[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${line}` : line,
    );
  const workDir = await tempDir('agent-r-bench-');
  await mkdir(dirname(options.outFile), { recursive: true });
  const result: Record<string, unknown> = { mode: options.quick ? 'quick' : 'full' };
  if (options.only) result.only = options.only;
  const sections = benchSections.filter((s) => partRuns(options, s.key, s.enabled(options)));
  const headline = partRuns(options, 'headline', true);
  // Sections that can share the time the headline spends waiting for the reference baseline.
  const beside = headline ? sections.filter((s) => s.besideBaseline) : [];
  const runSection = async (section: BenchSection, besideBaseline: boolean) => {
    log(`section ${section.key}${besideBaseline ? ' (beside the reference baseline)' : ''}`);
    const value = await section.run({ options, workDir: join(workDir, section.key), log });
    result[section.key] =
      besideBaseline && value && typeof value === 'object'
        ? { ...value, measured_beside_reference_baseline: true }
        : value;
  };
  try {
    if (headline) {
      const whileBaselineRuns = async () => {
        for (const section of beside) await runSection(section, true);
      };
      Object.assign(result, await runHeadline(options, workDir, log, whileBaselineRuns));
    }
    for (const section of sections) if (!beside.includes(section)) await runSection(section, false);
    if (partRuns(options, 'faults', options.faults)) result.faults = await runFaultScenarios(workDir, log);
    result.status ??= sectionsStatus(result);
    result.targets = targets;
    result.load_avg_1m_at_end = loadAverage();
    result.git_commit = gitCommit();
    result.bench_wall_s = round((performance.now() - benchStarted) / 1000, 1);
    result.generated_at = new Date().toISOString();
    await writeFile(options.outFile, `${JSON.stringify(result, null, 2)}\n`);
    const scaling = result.scaling as Parameters<typeof formatScaling>[0] | undefined;
    options.log(
      `\n${summaryTable(result)}\n\n${scaling ? `${formatScaling(scaling)}\n\n` : ''}wrote ${options.outFile}`,
    );
    return result;
  } finally {
    await removeDir(workDir);
  }
}

/** Without the headline build: `completed` when every build of the sections completed. */
function sectionsStatus(result: Record<string, unknown>): string {
  const statuses: unknown[] = [];
  for (const value of Object.values(result)) {
    if (!value || typeof value !== 'object') continue;
    const section = value as { status?: unknown; builds?: { status?: unknown }[] };
    if (section.status !== undefined) statuses.push(section.status);
    for (const build of section.builds ?? []) statuses.push(build.status);
  }
  return statuses.every((s) => s === 'completed') ? 'completed' : 'partial';
}

/**
 * The headline part: the 40-task build, the scaling table and the reference baseline on one stack
 * (the baseline in a child process beside the scaling builds and `whileBaselineRuns`, which runs
 * once the scaling builds are done), then the export measurement.
 */
async function runHeadline(
  options: BenchOptions,
  workDir: string,
  log: (line: string) => void,
  whileBaselineRuns: () => Promise<void>,
): Promise<Record<string, unknown>> {
  let stack: LocalStack | null = null;
  let childBaseline: { result: Promise<ShardedBaseline>; kill(): void } | null = null;
  const result: Record<string, unknown> = {};
  try {
    log(
      `starting the local stack (sim-policy: capacity ${benchSim.capacity}, latency ${benchSim.latencyMs} ms)`,
    );
    stack = await startLocalStack({
      stateDir: join(workDir, 'state'),
      simOptions: { ...benchSim },
      log: (l) => log(`  ${l}`),
    });
    const api = new ApiClient(stack.apiUrl, stack.token);

    log(`build of ${options.tasks} tasks, parallelism ${options.parallelism} per tree`);
    const main = await measureBuild(stack, api, options.tasks, options.parallelism, benchSim.capacity, log);
    log(
      `  ${main.status} in ${(main.wallMs / 1000).toFixed(1)} s, utilisation ${main.utilisation.toFixed(3)} (load ${main.loadAvg1})`,
    );
    result.manifest = await api.json<RunManifest>('GET', `/v1/runs/${main.runId}/manifest`);

    // The reference pattern as `baselineShards` processes side by side (one per contiguous task
    // range, one request at a time each) on their own sim-policy with the same settings, in a child
    // process while the scaling builds run (it is mostly waiting on its endpoint). Quick: only the
    // processes of one task each, `baselineTasks` of them (a lower bound of the parallel wall).
    const shards = Math.min(options.baselineShards, options.tasks);
    const onlyShards = quickShards(
      options.tasks,
      shards,
      options.baselineTasks < options.tasks ? options.baselineTasks : null,
    );
    const replay = options.quick;
    if (!options.skipBaseline) {
      log(
        `reference baseline: ${options.tasks} tasks as ${shards} processes side by side` +
          `${onlyShards ? `, ${onlyShards.length} of them measured` : ''}${replay ? ', repeated judge requests timed, not re-sent' : ''}`,
      );
      childBaseline = runShardedBaseline(options.tasks, shards, onlyShards, replay, (l) => log(`  ${l}`));
      childBaseline.result.catch(() => {}); // awaited below
    }

    const scaling = [];
    for (const count of options.scaling) {
      if (count === options.tasks) {
        scaling.push(scalingRow(main));
        continue;
      }
      log(`scaling: build of ${count} tasks`);
      const m = await measureBuild(stack, api, count, options.parallelism, benchSim.capacity, log);
      log(`  ${m.status} in ${(m.wallMs / 1000).toFixed(1)} s, utilisation ${m.utilisation.toFixed(3)}`);
      scaling.push(scalingRow(m));
    }

    // The scaling builds are done; the baseline's processes may still run for a while.
    await whileBaselineRuns();

    let baselineWallMs: number | null = null;
    let parallelWallMs: number | null = null;
    if (childBaseline) {
      log('waiting for the reference baseline');
      const sharded = await childBaseline.result;
      const baseline = oneProcessSummary(sharded);
      const one = baselineSection(baseline, {
        measured: baseline.tasks.length,
        totalTasks: options.tasks,
        atOnce: sharded.shards.length,
        inChild: true,
      });
      baselineWallMs = one.wallMs;
      parallelWallMs = sharded.parallelWallMs;
      result.baseline = one.section;
      const parallel = parallelSection(sharded, options.tasks);
      result.baseline_parallel = parallel;
      log(
        `  one process: ${(one.wallMs / 1000).toFixed(1)} s for ${options.tasks} tasks (${one.section.note})`,
      );
      log(`  ${shards} processes: ${(sharded.parallelWallMs / 1000).toFixed(1)} s (${parallel.note})`);
    }

    await stack.stop();
    stack = null;

    log('export: 100k synthetic records through the export pipeline (child process)');
    const exportSmall: ExportMeasurement = await measureExport(10_000, 'openai');
    const exportLarge: ExportMeasurement = await measureExport(100_000, 'openai');

    const calls = main.policyCalls + main.judgeCalls;
    const speedup = baselineWallMs === null ? null : baselineWallMs / main.wallMs;
    Object.assign(result, {
      tasks: options.tasks,
      parallelism: options.parallelism,
      endpoint_capacity: benchSim.capacity,
      endpoint_latency_ms: benchSim.latencyMs,
      status: main.status,
      endpoint_utilization: round(main.utilisation),
      speedup_vs_reference: speedup === null ? null : round(speedup, 2),
      speedup_vs_reference_processes: 1,
      speedup_vs_reference_parallel: parallelWallMs === null ? null : round(parallelWallMs / main.wallMs, 2),
      speedup_vs_reference_parallel_processes:
        parallelWallMs === null ? null : Math.min(options.baselineShards, options.tasks),
      judge_calls_per_revision: round(perCall(main.judgeCalls, main.revision), 5),
      reference_judge_calls_per_revision: round(perCall(main.referenceJudgeCalls, main.revision), 5),
      judge_calls_ratio_vs_reference: round(perCall(main.judgeCalls, main.referenceJudgeCalls), 5),
      policy_calls: main.policyCalls,
      judge_calls: main.judgeCalls,
      reference_judge_calls: main.referenceJudgeCalls,
      revision_records: main.revision,
      good_records: main.good,
      nodes: main.nodes,
      failed_jobs: main.failedJobs,
      wall_s: round(main.wallMs / 1000, 2),
      sim_busy_s: round(main.busyMs / 1000, 2),
      sim_max_in_flight: main.simMaxInFlight,
      endpoint_idle: main.idle,
      orchestration_cpu_ms_per_call: round(perCall(main.cpuMs, calls), 2),
      orchestration_cpu_s: round(main.cpuMs / 1000, 2),
      orchestration_cpu_s_by_process: Object.fromEntries(
        Object.entries(main.cpuMsByCommand).map(([comm, ms]) => [comm, round(ms / 1000, 2)]),
      ),
      peak_rss_mb: round(main.peakRssMb, 1),
      load_avg_1m: main.loadAvg1,
      export_records_per_s: Math.round(exportLarge.recordsPerSecond),
      export_peak_rss_delta_mb: round(exportLarge.peakRssDeltaMb, 1),
      export_retained_heap_delta_mb:
        exportLarge.retainedHeapDeltaMb === null ? null : round(exportLarge.retainedHeapDeltaMb, 3),
      export: { records_10k: exportSmall, records_100k: exportLarge },
      scaling,
    });

    return result;
  } finally {
    childBaseline?.kill();
    await stack?.stop();
  }
}
