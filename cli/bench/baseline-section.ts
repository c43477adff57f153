import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { BaselineResult, BaselineTaskResult } from './reference-baseline/baseline';
import { extrapolateLinear, perCall, round } from './metrics';
import { benchSim } from './options';

/** A baseline result without its trees, plus what its endpoint saw. */
export type BaselineSummary = Omit<BaselineResult, 'tasks'> & {
  tasks: Omit<BaselineTaskResult, 'tree'>[];
  endpoint: { maxQueued: number; requests: number } | null;
};

export interface BaselineChild {
  result: Promise<BaselineSummary>;
  kill(): void;
}

/**
 * cli/bench/reference-baseline/main.ts in a child process with its own sim-policy (benchSim
 * settings), or against `endpoint` when given. `tasks` is a task list such as `0-39`.
 */
export function runBaselineInChild(
  tasks: string,
  extraArgs: readonly string[],
  log: (line: string) => void,
  timeoutMs = 60 * 60_000,
): BaselineChild {
  const root = resolve(import.meta.dirname, '../..');
  const args = [
    '--import',
    'tsx',
    'cli/bench/reference-baseline/main.ts',
    '--tasks',
    tasks,
    '--capacity',
    String(benchSim.capacity),
    '--latency-ms',
    String(benchSim.latencyMs),
    '--seed',
    String(benchSim.seed),
    ...extraArgs,
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

export interface BaselineContext {
  /** Tasks measured, of `totalTasks`. */
  measured: number;
  totalTasks: number;
  atOnce: number;
  inChild: boolean;
}

/** bench.json's `baseline` section (one process, tasks one after another) and its wall for all tasks. */
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
      `${atOnce} tasks measured at once, each strictly sequential; baseline wall = sum of the task walls (the endpoint never queued: max queued ${baseline.endpoint?.maxQueued ?? 'n/a'})`,
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
