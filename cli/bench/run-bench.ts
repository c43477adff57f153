import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApiClient } from '../api-client';
import { type LocalStack, startLocalStack } from '../stack';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  type BaselineResult,
  type BaselineTaskResult,
  runReferenceBaseline,
} from './reference-baseline/baseline';
import { resetSimStats, runAndWait, simStats } from './build-run';
import { type ExportMeasurement, measureExport } from './export-bench';
import {
  deadEnvSummary,
  inferenceFaultSummary,
  removeDir,
  resumeSummary,
  runDeadEnvServer,
  runInferenceFaults,
  runResume,
  startScenarioStack,
  tempDir,
} from './fault-scenarios';
import {
  extrapolateLinear,
  formatScaling,
  formatTable,
  perCall,
  round,
  type TableRow,
  targets,
  utilisation,
} from './metrics';
import { meterGroup } from './proc';

export interface BenchOptions {
  quick: boolean;
  /** Where bench.json goes (default out/bench.json). */
  outFile: string;
  /** Tasks of the headline build (default 40). */
  tasks: number;
  /** Descents in flight per tree in our builds. */
  parallelism: number;
  /** Task counts of the scaling table (default 10, 20, 40, 80; quick: 10, 20). */
  scaling: number[];
  /** Tasks the reference baseline is measured on (all of them unless quick). */
  baselineTasks: number;
  /** Baseline tasks measured at once (1 = strictly sequential). */
  baselineTasksAtOnce: number;
  /** Run the three fault scenarios and add a `faults` section. */
  faults: boolean;
  skipBaseline: boolean;
  log: (line: string) => void;
}

/** The benchmark's endpoint: a GPU-like server with 32 slots and ~150 ms per request. */
export const benchSim = { capacity: 32, latencyMs: 150, seed: 0 } as const;

export function defaultBenchOptions(quick: boolean, log: (line: string) => void): BenchOptions {
  return {
    quick,
    outFile: 'out/bench.json',
    tasks: 40,
    parallelism: 16,
    // The main build is the table's 40-task row (not built twice).
    scaling: quick ? [10, 20, 40] : [10, 20, 40, 80],
    baselineTasks: quick ? 8 : 40,
    // Tasks measured side by side, each strictly sequential; never more than the endpoint has slots.
    baselineTasksAtOnce: quick ? 8 : benchSim.capacity,
    faults: !quick,
    skipBaseline: false,
    log,
  };
}

function tasksSpec(n: number, parallelism: number): RunSpecInput {
  return { tasks: Array.from({ length: n }, (_, i) => i), parallelism, seed: 0 };
}

interface BuildMeasurement {
  tasks: number;
  runId: string;
  status: string;
  wallMs: number;
  busyMs: number;
  utilisation: number;
  policyCalls: number;
  judgeCalls: number;
  referenceJudgeCalls: number;
  revision: number;
  good: number;
  nodes: number;
  failedJobs: number;
  cpuMs: number;
  cpuMsByCommand: Record<string, number>;
  peakRssMb: number;
  simMaxInFlight: number;
  simRequests: number;
}

async function measureBuild(
  stack: LocalStack,
  api: ApiClient,
  tasks: number,
  parallelism: number,
  log: (line: string) => void,
): Promise<BuildMeasurement> {
  const simUrl = stack.simUrl!;
  await resetSimStats(simUrl);
  const meter = meterGroup(stack.wranglerPid, 250);
  let lastLog = 0;
  const run = await runAndWait(api, tasksSpec(tasks, parallelism), {
    timeoutMs: 60 * 60_000,
    onPoll: (view) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const k = view.counters ?? {};
        log(
          `  build ${tasks} tasks: ${(k.tasksDone ?? 0) + (k.tasksFailed ?? 0)}/${tasks} done, policy ${k.policyCalls ?? 0}, judge ${k.judgeCalls ?? 0}`,
        );
      }
    },
  });
  const proc = meter.stop();
  const sim = await simStats(simUrl);
  const c = run.manifest.counts;
  return {
    tasks,
    runId: run.runId,
    status: run.view.status,
    wallMs: run.wallMs,
    busyMs: sim.busyMs,
    utilisation: utilisation(sim.busyMs, benchSim.capacity, run.wallMs),
    policyCalls: c.policy_calls,
    judgeCalls: c.judge_calls,
    referenceJudgeCalls: c.reference_judge_calls,
    revision: c.revision,
    good: c.good,
    nodes: c.nodes,
    failedJobs: c.failed_jobs,
    cpuMs: proc.cpuMs,
    cpuMsByCommand: proc.cpuMsByCommand,
    peakRssMb: proc.peakRssMb,
    simMaxInFlight: sim.maxInFlight,
    simRequests: sim.requests,
  };
}

/** A baseline result without its trees, plus what its endpoint saw. */
export type BaselineSummary = Omit<BaselineResult, 'tasks'> & {
  tasks: Omit<BaselineTaskResult, 'tree'>[];
  endpoint: { maxQueued: number; requests: number } | null;
};

/** cli/bench/reference-baseline/main.ts in a child process with its own sim-policy (benchSim settings). */
function runBaselineInChild(
  tasks: number,
  atOnce: number,
  replay: boolean,
  log: (line: string) => void,
  timeoutMs = 60 * 60_000,
): { result: Promise<BaselineSummary>; kill(): void } {
  const root = resolve(import.meta.dirname, '../..');
  const args = [
    '--import',
    'tsx',
    'cli/bench/reference-baseline/main.ts',
    '--tasks',
    `0-${tasks - 1}`,
    '--tasks-at-once',
    String(atOnce),
    '--capacity',
    String(benchSim.capacity),
    '--latency-ms',
    String(benchSim.latencyMs),
    '--seed',
    String(benchSim.seed),
    ...(replay ? ['--replay-judge-repeats'] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = new Promise<BaselineSummary>((resolveRun, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
      for (const line of d.toString().split('\n')) if (line.startsWith('reference baseline:')) log(line);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`the reference baseline failed (${code}):\n${stderr}`));
      else resolveRun(JSON.parse(line) as BaselineSummary);
    });
  });
  return {
    result,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function scalingRow(m: BuildMeasurement) {
  return {
    tasks: m.tasks,
    wall_s: round(m.wallMs / 1000, 2),
    policy_calls: m.policyCalls,
    judge_calls: m.judgeCalls,
    endpoint_utilization: round(m.utilisation),
    revision_records: m.revision,
    status: m.status,
  };
}

/** Runs the benchmark and writes bench.json; returns its content. */
export async function runBench(options: BenchOptions): Promise<Record<string, unknown>> {
  const benchStarted = performance.now();
  const log = (line: string) =>
    options.log(
      line ? `[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(4)} s] ${line}` : line,
    );
  const workDir = await tempDir('agent-r-bench-');
  const outDir = dirname(options.outFile);
  await mkdir(outDir, { recursive: true });
  let stack: LocalStack | null = null;
  let childBaseline: ReturnType<typeof runBaselineInChild> | null = null;
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
    const main = await measureBuild(stack, api, options.tasks, options.parallelism, log);
    log(
      `  ${main.status} in ${(main.wallMs / 1000).toFixed(1)} s, utilisation ${main.utilisation.toFixed(3)}`,
    );
    const mainManifest = await api.json<RunManifest>('GET', `/v1/runs/${main.runId}/manifest`);
    result.manifest = mainManifest;

    // Quick mode: the baseline runs in a child process with its own identically configured
    // sim-policy while the scaling builds run (it is mostly waiting on its endpoint).
    const n = Math.min(options.baselineTasks, options.tasks);
    const atOnce = Math.min(options.baselineTasksAtOnce, n, benchSim.capacity);
    const baselineInChild = options.quick;
    const describeBaseline = () =>
      `reference baseline on ${n} of ${options.tasks} tasks (${atOnce === 1 ? 'one task at a time' : `${atOnce} sequential tasks measured at once`}` +
      `${options.quick ? ', repeated judge requests timed, not re-sent' : ''}${baselineInChild ? ', own sim-policy in a child process' : ''})`;
    if (!options.skipBaseline && baselineInChild) {
      log(`${describeBaseline()}: started`);
      childBaseline = runBaselineInChild(n, atOnce, options.quick, (l) => log(`  ${l}`));
      childBaseline.result.catch(() => {}); // awaited below
    }

    const scaling = [];
    for (const count of options.scaling) {
      if (count === options.tasks) {
        scaling.push(scalingRow(main));
        continue;
      }
      log(`scaling: build of ${count} tasks`);
      const m = await measureBuild(stack, api, count, options.parallelism, log);
      log(`  ${m.status} in ${(m.wallMs / 1000).toFixed(1)} s, utilisation ${m.utilisation.toFixed(3)}`);
      scaling.push(scalingRow(m));
    }

    let baselineWallMs: number | null = null;
    if (!options.skipBaseline) {
      let baseline: BaselineSummary;
      if (childBaseline) {
        log('waiting for the reference baseline');
        baseline = await childBaseline.result;
      } else {
        log(describeBaseline());
        await resetSimStats(stack.simUrl!);
        const measured = await runReferenceBaseline({
          endpoint: { name: 'reference-baseline', baseUrl: `${stack.simUrl}/v1`, model: 'sim-policy' },
          spec: tasksSpec(n, 1),
          judgeRepeats: options.quick ? 'replay-timing' : 'call',
          tasksAtOnce: atOnce,
          log: (l) => log(`  ${l}`),
        });
        const sim = await simStats(stack.simUrl!);
        baseline = { ...measured, endpoint: { maxQueued: sim.maxQueued, requests: sim.requests } };
      }
      baselineWallMs = extrapolateLinear(baseline.wallMs, n, options.tasks);
      const notes = [];
      if (n < options.tasks)
        notes.push(
          `measured on ${n} of ${options.tasks} tasks and extrapolated linearly per task (x${(options.tasks / n).toFixed(2)})`,
        );
      if (atOnce > 1)
        notes.push(
          `${atOnce} tasks measured at once, each strictly sequential; baseline wall = sum of the task walls (the endpoint never queued: max queued ${baseline.endpoint?.maxQueued ?? 'n/a'})`,
        );
      if (baseline.judgeRepeats === 'replay-timing')
        notes.push(
          `${baseline.judgeCallsReplayed} of ${baseline.judgeCalls} judge requests were repeats of an identical request and were timed from its first answer instead of re-sent`,
        );
      if (baselineInChild)
        notes.push(
          'run against its own sim-policy with the same settings (C=32, 150 ms, seed 0) during the scaling builds',
        );
      const note =
        notes.join('; ') ||
        'measured in full: every task, one at a time, every request sent, on the same endpoint';
      log(`  baseline: ${(baselineWallMs / 1000).toFixed(1)} s for ${options.tasks} tasks (${note})`);
      result.baseline = {
        tasks_measured: n,
        tasks_at_once: baseline.tasksAtOnce,
        wall_s_measured: round(baseline.wallMs / 1000, 2),
        elapsed_s: round(baseline.elapsedMs / 1000, 2),
        wall_s: round(baselineWallMs / 1000, 2),
        policy_calls: baseline.policyCalls,
        judge_calls: baseline.judgeCalls,
        judge_calls_replayed: baseline.judgeCallsReplayed,
        revision_records: baseline.revision,
        good_records: baseline.good,
        judge_calls_per_revision: round(perCall(baseline.judgeCalls, baseline.revision), 4),
        endpoint_max_queued: baseline.endpoint?.maxQueued ?? null,
        per_task: baseline.tasks.map((t) => ({
          task: t.task,
          wall_s: round(t.wallMs / 1000, 2),
          search_s: round(t.searchMs / 1000, 2),
          judge_s: round(t.judgeMs / 1000, 2),
          policy_calls: t.policyCalls,
          judge_calls: t.judgeCalls,
        })),
        note,
      };
    }

    await stack.stop();
    stack = null;

    log('export: 100k synthetic records through the export pipeline (child process)');
    const exportSmall: ExportMeasurement = await measureExport(10_000, 'openai');
    const exportLarge: ExportMeasurement = await measureExport(100_000, 'openai');

    const calls = main.policyCalls + main.judgeCalls;
    const judgePerRevision = perCall(main.judgeCalls, main.revision);
    const refJudgePerRevision = perCall(main.referenceJudgeCalls, main.revision);
    const speedup = baselineWallMs === null ? null : baselineWallMs / main.wallMs;
    Object.assign(result, {
      mode: options.quick ? 'quick' : 'full',
      tasks: options.tasks,
      parallelism: options.parallelism,
      endpoint_capacity: benchSim.capacity,
      endpoint_latency_ms: benchSim.latencyMs,
      status: main.status,
      endpoint_utilization: round(main.utilisation),
      speedup_vs_reference: speedup === null ? null : round(speedup, 2),
      judge_calls_per_revision: round(judgePerRevision, 5),
      reference_judge_calls_per_revision: round(refJudgePerRevision, 5),
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
      orchestration_cpu_ms_per_call: round(perCall(main.cpuMs, calls), 2),
      orchestration_cpu_s: round(main.cpuMs / 1000, 2),
      orchestration_cpu_s_by_process: Object.fromEntries(
        Object.entries(main.cpuMsByCommand).map(([comm, ms]) => [comm, round(ms / 1000, 2)]),
      ),
      peak_rss_mb: round(main.peakRssMb, 1),
      export_records_per_s: Math.round(exportLarge.recordsPerSecond),
      export_peak_rss_delta_mb: round(exportLarge.peakRssDeltaMb, 1),
      export_retained_heap_delta_mb:
        exportLarge.retainedHeapDeltaMb === null ? null : round(exportLarge.retainedHeapDeltaMb, 3),
      export: { records_10k: exportSmall, records_100k: exportLarge },
      scaling,
    });

    if (options.faults) result.faults = await runFaultScenarios(workDir, log);

    result.targets = targets;
    result.bench_wall_s = round((performance.now() - benchStarted) / 1000, 1);
    result.generated_at = new Date().toISOString();
    await writeFile(options.outFile, `${JSON.stringify(result, null, 2)}\n`);
    options.log(`\n${summaryTable(result)}\n\n${formatScaling(scaling)}\n\nwrote ${options.outFile}`);
    return result;
  } finally {
    childBaseline?.kill();
    await stack?.stop();
    await removeDir(workDir);
  }
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function summaryTable(r: Record<string, unknown>): string {
  const fmt = (v: unknown, digits = 3) => (num(v) === null ? 'n/a' : String(round(num(v)!, digits)));
  const atLeast = (v: unknown, t: number) => (num(v) === null ? null : num(v)! >= t);
  const atMost = (v: unknown, t: number) => (num(v) === null ? null : num(v)! <= t);
  const rows: TableRow[] = [
    {
      metric: 'endpoint_utilization',
      value: fmt(r.endpoint_utilization),
      target: '>= 0.85',
      ok: atLeast(r.endpoint_utilization, targets.endpoint_utilization),
    },
    {
      metric: 'speedup_vs_reference',
      value: fmt(r.speedup_vs_reference, 2),
      target: '>= 10',
      ok: atLeast(r.speedup_vs_reference, targets.speedup_vs_reference),
    },
    { metric: 'judge_calls_per_revision', value: fmt(r.judge_calls_per_revision, 5) },
    { metric: 'reference_judge_calls_per_revision', value: fmt(r.reference_judge_calls_per_revision, 5) },
    {
      metric: 'judge_calls_ratio_vs_reference',
      value: fmt(r.judge_calls_ratio_vs_reference, 5),
      target: '<= 0.25',
      ok: atMost(r.judge_calls_ratio_vs_reference, targets.judge_calls_ratio_vs_reference),
    },
    { metric: 'policy_calls', value: fmt(r.policy_calls, 0) },
    { metric: 'revision_records', value: fmt(r.revision_records, 0) },
    { metric: 'good_records', value: fmt(r.good_records, 0) },
    { metric: 'wall_s', value: fmt(r.wall_s, 2) },
    {
      metric: 'orchestration_cpu_ms_per_call',
      value: fmt(r.orchestration_cpu_ms_per_call, 2),
      target: '<= 5',
      ok: atMost(r.orchestration_cpu_ms_per_call, targets.orchestration_cpu_ms_per_call),
    },
    { metric: 'peak_rss_mb', value: fmt(r.peak_rss_mb, 1) },
    { metric: 'export_records_per_s', value: fmt(r.export_records_per_s, 0) },
    { metric: 'export_peak_rss_delta_mb', value: fmt(r.export_peak_rss_delta_mb, 1) },
  ];
  const baseline = r.baseline as { note?: string; wall_s?: number } | undefined;
  const lines = [
    `agent-r bench (${String(r.mode)}): ${String(r.tasks)} tasks, parallelism ${String(r.parallelism)}, endpoint C=${String(r.endpoint_capacity)} / ${String(r.endpoint_latency_ms)} ms`,
    formatTable(rows),
  ];
  if (baseline?.note) lines.push(`reference baseline: ${fmt(baseline.wall_s, 1)} s; ${baseline.note}`);
  return lines.join('\n');
}

/** The three fault scenarios, each on its own stack and state directory. */
async function runFaultScenarios(
  workDir: string,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const simOptions = { latencyMs: 20, perTokenMs: 0.5 };
  const out: Record<string, unknown> = {};

  log('faults: inference faults (10% 5xx, 5% 429, 3% hangs, 3% garbage)');
  const faultDir = join(workDir, 'faults');
  const handle = await startScenarioStack(join(faultDir, 'state'), simOptions);
  try {
    const r = await runInferenceFaults({
      handle,
      spec: {
        tasks: Array.from({ length: 8 }, (_, i) => i),
        iterations: 4,
        width: 4,
        depth: 12,
        parallelism: 1,
        jobTimeoutMs: 30_000,
      },
      simOptions,
      faults: { '5xx': 0.1, '429': 0.05, hang: 0.03, garbage: 0.03 },
      endpointTimeoutMs: 2000,
      workDir: faultDir,
      timeoutMs: 20 * 60_000,
    });
    log(`  ${inferenceFaultSummary(r)}`);
    out.inference = {
      tasks: r.tasks,
      faults_injected: r.faultsInjectedTotal,
      faults_by_kind: r.faultsInjected,
      retries: r.retries,
      status: r.statusFaulty,
      tasks_missing: r.tasksMissing,
      failed_jobs: r.failedJobs,
      trees_identical: r.treesIdentical,
      records_identical: r.recordsIdentical,
      lost: r.lost,
      duplicated: r.duplicated,
      visit_problems: r.invariantProblems.length,
      wall_s_fault_free: round(r.wallCleanS, 1),
      wall_s_faulty: round(r.wallFaultyS, 1),
    };
  } finally {
    await handle.stack.stop();
  }

  log('faults: the stack SIGKILLed mid-build and restarted');
  const resumeDir = join(workDir, 'resume');
  const spec: RunSpecInput = {
    tasks: [0, 1, 2, 3],
    iterations: 4,
    width: 3,
    depth: 10,
    parallelism: 1,
    jobTimeoutMs: 5000,
  };
  const killAt = 5 + Math.floor(Math.random() * 30);
  const resume = await runResume({
    spec,
    simOptions,
    killAfterPolicyCalls: killAt,
    workDir: resumeDir,
    timeoutMs: 10 * 60_000,
  });
  log(`  ${resumeSummary(resume)}`);
  out.resume = {
    killed_at_policy_calls: resume.killedAtPolicyCalls,
    killed_mid_run: resume.killedMidRun,
    status: resume.statusResumed,
    trees_identical: resume.treesIdentical,
    records_identical: resume.recordsIdentical,
    lost: resume.lost,
    duplicated: resume.duplicated,
    index_rows: resume.indexRows,
    records: resume.records,
    visit_problems: resume.invariantProblems.length,
    resume_wall_s: round(resume.resumeWallS, 1),
  };

  log('faults: an AgentGym environment server that dies for good');
  const { startFakeTextCraft } = await import('../../test/fakes/agentgym-textcraft');
  const envDir = join(workDir, 'dead-env');
  const envHandle = await startScenarioStack(join(envDir, 'state'), simOptions);
  try {
    const dead = await runDeadEnvServer({
      handle: envHandle,
      startEnvServer: () => startFakeTextCraft(),
      spec: { tasks: [0, 1], iterations: 3, width: 3, depth: 8, parallelism: 1, jobTimeoutMs: 10_000 },
      controlSpec: { tasks: [0, 1], iterations: 3, width: 3, depth: 8 },
      closeAfterNodes: 6,
      timeoutMs: 10 * 60_000,
    });
    log(`  ${deadEnvSummary(dead)}`);
    out.dead_env_server = {
      status: dead.status,
      failed_jobs: dead.failedJobs,
      manifest_failures: dead.failures.length,
      reasons: dead.jobFailureReasons,
      control_status: dead.controlStatus,
      control_failed_jobs: dead.controlFailedJobs,
    };
  } finally {
    await envHandle.stack.stop();
  }
  return out;
}
