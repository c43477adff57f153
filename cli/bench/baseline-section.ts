import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { BaselineResult, BaselineTaskResult } from './reference-baseline/baseline';
import { extrapolateLinear, perCall, round, shardRanges } from './metrics';
import { benchSim } from './options';

/** A baseline result without its trees, plus what its endpoint saw. */
export type BaselineSummary = Omit<BaselineResult, 'tasks'> & {
  tasks: Omit<BaselineTaskResult, 'tree'>[];
  endpoint: { maxQueued: number; requests: number } | null;
};

/** What shards.ts prints. */
export interface ShardedBaseline {
  /** Shards the tasks were split into (processes a user would run). */
  shardsTotal: number;
  /** The shards measured (all of them unless --only-shards). */
  shards: { index: number; tasks: number[]; wallMs: number; elapsedMs: number }[];
  /** The slowest measured shard: with every shard measured, the reference run as C processes side by side. */
  parallelWallMs: number;
  /** From the first spawn to the last exit, start-up included. */
  elapsedMs: number;
  /** All task results, sorted by task (the one-process figures are sums of these). */
  merged: Omit<BaselineSummary, 'endpoint'>;
  endpoint: { maxQueued: number; maxInFlight: number; requests: number };
}

export interface BaselineChild {
  result: Promise<BaselineSummary>;
  kill(): void;
}

/**
 * A script of cli/bench/reference-baseline in a child process; resolves with the JSON object it
 * prints last. Its `reference baseline:` progress lines go to `log`.
 */
function runJsonChild<T>(
  script: string,
  args: readonly string[],
  log: (line: string) => void,
  timeoutMs: number,
  ownGroup: boolean,
): { result: Promise<T>; kill(): void } {
  const root = resolve(import.meta.dirname, '../..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', `cli/bench/reference-baseline/${script}`, ...args],
    // ownGroup: a process group of its own, so stopping it stops the processes it started too.
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup },
  );
  const killGroup = () => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(ownGroup ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const result = new Promise<T>((resolveRun, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
      for (const line of d.toString().split('\n')) if (line.startsWith('reference baseline:')) log(line);
    });
    const timer = setTimeout(killGroup, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`the reference baseline (${script}) failed (${code}):\n${stderr}`));
      else resolveRun(JSON.parse(line) as T);
    });
  });
  return {
    result,
    kill: killGroup,
  };
}

/**
 * main.ts (one process) with its own sim-policy (benchSim settings), or against the endpoint named
 * in `extraArgs`. `tasks` is a task list such as `0-39`.
 */
export function runBaselineInChild(
  tasks: string,
  extraArgs: readonly string[],
  log: (line: string) => void,
  timeoutMs = 3 * 60 * 60_000,
): BaselineChild {
  const sim = ['--capacity', String(benchSim.capacity), '--latency-ms', String(benchSim.latencyMs)];
  const args = ['--tasks', tasks, ...sim, '--seed', String(benchSim.seed), ...extraArgs];
  return runJsonChild<BaselineSummary>('main.ts', args, log, timeoutMs, false);
}

/** shards.ts: the tasks split into `shards` ranges, one main.ts process each, one shared sim-policy. */
export function runShardedBaseline(
  tasks: number,
  shards: number,
  onlyShards: readonly number[] | null,
  replayJudgeRepeats: boolean,
  log: (line: string) => void,
  timeoutMs = 3 * 60 * 60_000,
): { result: Promise<ShardedBaseline>; kill(): void } {
  const args = ['--tasks', `0-${tasks - 1}`, '--shards', String(shards)];
  args.push('--capacity', String(benchSim.capacity), '--latency-ms', String(benchSim.latencyMs));
  args.push('--seed', String(benchSim.seed));
  if (onlyShards) args.push('--only-shards', onlyShards.join(','));
  if (replayJudgeRepeats) args.push('--replay-judge-repeats');
  return runJsonChild<ShardedBaseline>('shards.ts', args, log, timeoutMs, true);
}

/**
 * The shards a quick bench measures: `count` of the shards holding the fewest tasks (one each when
 * there are more tasks than shards), so that its elapsed time is one task's. Null = all of them.
 */
export function quickShards(tasks: number, shards: number, count: number | null): number[] | null {
  const ranges = shardRanges(
    Array.from({ length: tasks }, (_, i) => i),
    shards,
  );
  if (count === null || count >= ranges.length) return null;
  const smallest = Math.min(...ranges.map((r) => r.length));
  return ranges
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.length === smallest)
    .slice(0, count)
    .map(({ i }) => i);
}

/** The one-process summary of a sharded run: every measured task, and what the endpoint saw. */
export function oneProcessSummary(sharded: ShardedBaseline): BaselineSummary {
  return {
    ...sharded.merged,
    endpoint: { maxQueued: sharded.endpoint.maxQueued, requests: sharded.endpoint.requests },
  };
}

/** bench.json `baseline_parallel`: the reference as one process per shard, side by side. */
export function parallelSection(sharded: ShardedBaseline, totalTasks: number): Record<string, unknown> {
  const exact = sharded.shards.length === sharded.shardsTotal;
  const tasksMeasured = sharded.shards.reduce((n, s) => n + s.tasks.length, 0);
  const note = exact
    ? `${totalTasks} tasks split into ${sharded.shardsTotal} contiguous ranges (like --min/--max), one process per range, all side by side on one sim-policy (C=${benchSim.capacity}, ${benchSim.latencyMs} ms; max queued ${sharded.endpoint.maxQueued}); wall = the slowest process (sum of its task walls, start-up not counted)`
    : `LOWER BOUND: ${sharded.shards.length} of the ${sharded.shardsTotal} processes measured (${tasksMeasured} tasks, each its own process, side by side on one sim-policy, max queued ${sharded.endpoint.maxQueued}); the ${sharded.shardsTotal}-process wall is the slowest process, at least the slowest one measured, so the speedup is at least the one shown; the full bench measures every process`;
  return {
    processes: sharded.shardsTotal,
    processes_measured: sharded.shards.length,
    exact,
    wall_s: round(sharded.parallelWallMs / 1000, 2),
    elapsed_s: round(sharded.elapsedMs / 1000, 2),
    judge_repeats: sharded.merged.judgeRepeats,
    endpoint_max_queued: sharded.endpoint.maxQueued,
    endpoint_max_in_flight: sharded.endpoint.maxInFlight,
    shards: sharded.shards.map((s) => ({
      index: s.index,
      tasks: `${s.tasks[0]}-${s.tasks.at(-1)}`,
      wall_s: round(s.wallMs / 1000, 2),
    })),
    note,
  };
}

export interface BaselineContext {
  /** Tasks measured, of `totalTasks`. */
  measured: number;
  totalTasks: number;
  atOnce: number;
  inChild: boolean;
}

/** bench.json's `baseline` section (ONE process, tasks one after another) and its wall for all tasks. */
export function baselineSection(
  baseline: BaselineSummary,
  ctx: BaselineContext,
): { wallMs: number; section: Record<string, unknown> } {
  const { measured: n, totalTasks, atOnce } = ctx;
  const wallMs = extrapolateLinear(baseline.wallMs, n, totalTasks);
  const notes = [];
  if (n < totalTasks)
    notes.push(
      `measured on ${n} of ${totalTasks} tasks and extrapolated linearly per task (x${(totalTasks / n).toFixed(2)})`,
    );
  if (atOnce > 1)
    notes.push(
      `${atOnce} processes measured side by side (those of baseline_parallel), each strictly sequential; one-process wall = sum of the task walls (the endpoint never queued: max queued ${baseline.endpoint?.maxQueued ?? 'n/a'})`,
    );
  if (baseline.judgeRepeats === 'replay-timing')
    notes.push(
      `${baseline.judgeCallsReplayed} of ${baseline.judgeCalls} judge requests were repeats of an identical request and were timed from its first answer instead of re-sent`,
    );
  if (ctx.inChild)
    notes.push(
      `run against its own sim-policy with the same settings (C=${benchSim.capacity}, ${benchSim.latencyMs} ms, seed ${benchSim.seed}) during the scaling builds`,
    );
  const note =
    notes.join('; ') ||
    'measured in full: every task, one at a time, every request sent, on the same endpoint';
  return {
    wallMs,
    section: {
      processes: 1,
      tasks_measured: n,
      tasks_at_once: baseline.tasksAtOnce,
      wall_s_measured: round(baseline.wallMs / 1000, 2),
      elapsed_s: round(baseline.elapsedMs / 1000, 2),
      wall_s: round(wallMs / 1000, 2),
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
    },
  };
}
