import { loadavg } from 'node:os';
import type { ApiClient } from '../api-client';
import type { LocalStack } from '../stack';
import type { RunCounters } from '../../shared/contracts/run-view';
import { resetSimStats, runAndWait, simSpans, simStats } from './build-run';
import { type SlotIdle, slotIdle } from './idle-slots';
import { round, utilisation } from './metrics';
import { tasksSpec } from './options';
import { meterGroup } from './proc';

/** One build through the API on a running stack: wall, endpoint busy time, counts, CPU, memory. */
export interface BuildMeasurement {
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
  /** Where the endpoint's slots sat idle (ramp, middle, tail), from the sim's served requests. */
  idle: SlotIdle | null;
  /** 1-minute load average of the machine when the build ended (others' load skews timings). */
  loadAvg1: number;
}

export async function measureBuild(
  stack: LocalStack,
  api: ApiClient,
  tasks: number,
  parallelism: number,
  capacity: number,
  log: (line: string) => void,
  /** Status poll interval (default 250 ms); every poll asks each unfinished task's tree what it waits for. */
  pollMs?: number,
): Promise<BuildMeasurement> {
  const simUrl = stack.simUrl!;
  await resetSimStats(simUrl);
  const meter = meterGroup(stack.wranglerPid, 250);
  let lastLog = 0;
  const run = await runAndWait(api, tasksSpec(tasks, parallelism), {
    timeoutMs: 60 * 60_000,
    ...(pollMs === undefined ? {} : { pollMs }),
    onPoll: (view) => {
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const k: Partial<RunCounters> = view.counters ?? {};
        log(
          `  build ${tasks} tasks: ${(k.tasksDone ?? 0) + (k.tasksFailed ?? 0)}/${tasks} done, policy ${k.policyCalls ?? 0}, judge ${k.judgeCalls ?? 0}`,
        );
      }
    },
  });
  const proc = meter.stop();
  const sim = await simStats(simUrl);
  const spans = await simSpans(simUrl);
  const c = run.manifest.counts;
  return {
    tasks,
    runId: run.runId,
    status: run.view.status,
    wallMs: run.wallMs,
    busyMs: sim.busyMs,
    utilisation: utilisation(sim.busyMs, capacity, run.wallMs),
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
    idle: slotIdle(spans, run.postedAt, run.wallMs, capacity),
    loadAvg1: loadAverage(),
  };
}

/** The machine's 1-minute load average (0 on Windows, which has none). */
export function loadAverage(): number {
  return round(loadavg()[0] ?? 0, 2);
}

export function scalingRow(m: BuildMeasurement) {
  return {
    tasks: m.tasks,
    wall_s: round(m.wallMs / 1000, 2),
    policy_calls: m.policyCalls,
    judge_calls: m.judgeCalls,
    endpoint_utilization: round(m.utilisation),
    revision_records: m.revision,
    status: m.status,
    load_avg_1m: m.loadAvg1,
  };
}
