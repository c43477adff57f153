import { join } from 'node:path';
import type { RunManifest } from '../../../shared/contracts/manifest';
import type { RunSpecInput } from '../../../shared/contracts/run-spec';
import type { FaultRates } from '../../sim-policy/faults';
import type { SimPolicyOptionsInput } from '../../sim-policy/options';
import { type SimPolicyServer, startSimPolicy } from '../../sim-policy/server';
import { downloadRun, runAndWait } from '../build-run';
import { compareRunDirs, type RunDirComparison, treeDirProblems } from '../compare';
import { type Log, registerEndpoint, type StackHandle } from './stack';

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

export interface InferenceFaultOptions {
  handle: StackHandle;
  /** The build (tasks, small search); parallelism 1 per tree keeps trees deterministic. */
  spec: RunSpecInput;
  /** Options of the stack's own sim (the fault-free endpoint "sim"); the faulty one copies them. */
  simOptions: SimPolicyOptionsInput;
  faults: Partial<FaultRates>;
  /** The faulty endpoint's per-attempt timeout: what ends a hang (short, e.g. 2000 ms). */
  endpointTimeoutMs: number;
  workDir: string;
  timeoutMs: number;
  log?: Log;
}

export interface InferenceFaultResult {
  scenario: 'inference-faults';
  tasks: number;
  faultsInjected: Record<string, number>;
  faultsInjectedTotal: number;
  /** Requests beyond the fault-free build's: every retry (client-level and job-level). */
  retries: number;
  requestsClean: number;
  requestsFaulty: number;
  statusClean: string;
  statusFaulty: string;
  tasksMissing: number;
  failedJobs: number;
  treesIdentical: boolean;
  recordsIdentical: boolean;
  lost: number;
  duplicated: number;
  invariantProblems: string[];
  comparison: RunDirComparison;
  manifestClean: RunManifest;
  manifestFaulty: RunManifest;
  wallCleanS: number;
  wallFaultyS: number;
}

/**
 * The same build twice at once, on two identically seeded sim-policies: "sim" (no faults) and
 * "sim-faulty" (injected faults, short client timeout). Same seed and prompts give the same
 * answers, so the two builds must match exactly.
 */
export async function runInferenceFaults(options: InferenceFaultOptions): Promise<InferenceFaultResult> {
  const { handle, log } = options;
  const faulty: SimPolicyServer = await startSimPolicy({ ...options.simOptions, faults: options.faults });
  try {
    await registerEndpoint(handle.api, 'sim-faulty', `${faulty.url}/v1`, {
      timeoutMs: options.endpointTimeoutMs,
    });
    const cleanSim = handle.stack.simUrl!;
    await fetch(`${cleanSim}/stats/reset`, { method: 'POST' });
    faulty.resetStats();
    log?.('faults: building the same tasks with and without injected faults');
    const [clean, bad] = await Promise.all([
      runAndWait(handle.api, { ...options.spec, policy: 'sim' }, { timeoutMs: options.timeoutMs }),
      runAndWait(handle.api, { ...options.spec, policy: 'sim-faulty' }, { timeoutMs: options.timeoutMs }),
    ]);
    const cleanStats = (await (await fetch(`${cleanSim}/stats`)).json()) as { requests: number };
    const faultyStats = faulty.stats();
    const tasks = options.spec.tasks;
    const cleanDir = join(options.workDir, 'clean');
    const faultyDir = join(options.workDir, 'faulty');
    const manifestClean = await downloadRun(handle.api, clean.runId, tasks, cleanDir);
    const manifestFaulty = await downloadRun(handle.api, bad.runId, tasks, faultyDir);
    const comparison = await compareRunDirs(cleanDir, faultyDir);
    const invariants = await treeDirProblems(faultyDir);
    return {
      scenario: 'inference-faults',
      tasks: tasks.length,
      faultsInjected: faultyStats.faults,
      faultsInjectedTotal: sum(faultyStats.faults),
      retries: faultyStats.requests - cleanStats.requests,
      requestsClean: cleanStats.requests,
      requestsFaulty: faultyStats.requests,
      statusClean: manifestClean.status,
      statusFaulty: manifestFaulty.status,
      tasksMissing: tasks.length - (invariants.trees - manifestFaulty.counts.tasks_failed),
      failedJobs: manifestFaulty.counts.failed_jobs,
      treesIdentical: comparison.treesDiffering.length === 0 && comparison.treesCompared === tasks.length,
      recordsIdentical: comparison.records.every((r) => r.identical),
      lost: comparison.lost,
      duplicated: comparison.duplicated,
      invariantProblems: invariants.problems,
      comparison,
      manifestClean,
      manifestFaulty,
      wallCleanS: clean.wallMs / 1000,
      wallFaultyS: bad.wallMs / 1000,
    };
  } finally {
    await faulty.close();
  }
}

export function inferenceFaultSummary(r: InferenceFaultResult): string {
  const kinds = Object.entries(r.faultsInjected)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `FAULTS inference: ${r.tasks} tasks, faults injected ${r.faultsInjectedTotal} (${kinds || 'none'}), ` +
    `retries ${r.retries} (requests ${r.requestsFaulty} vs ${r.requestsClean} fault-free), ` +
    `status ${r.statusFaulty}, tasks missing ${r.tasksMissing}, failed jobs ${r.failedJobs}, ` +
    `trees identical ${r.treesIdentical}, records identical ${r.recordsIdentical}, ` +
    `lost ${r.lost}, duplicated ${r.duplicated}, visit problems ${r.invariantProblems.length}`
  );
}
