import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../api-client';
import { type LocalStack, startLocalStack } from '../stack';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import type { FaultRates } from '../sim-policy/faults';
import type { SimPolicyOptionsInput } from '../sim-policy/options';
import { type SimPolicyServer, startSimPolicy } from '../sim-policy/server';
import { downloadRun, runAndWait, type RunView, submitRun, waitForRun } from './build-run';
import { compareRunDirs, type RunDirComparison, treeDirProblems } from './compare';

/**
 * The three fault-tolerance scenarios, shared by test/e2e (faults.test.ts, resume.test.ts) and
 * the benchmark (its `faults` section):
 *  1. an inference endpoint that fails (5xx, 429 + retry-after, hangs, garbage): the build must
 *     produce exactly what the fault-free build does;
 *  2. the whole local stack SIGKILLed mid-build and restarted on the same state: the run must
 *     complete identical to an uninterrupted one, no record lost or duplicated;
 *  3. an AgentGym environment server that dies for good: its run fails with the reason in the
 *     manifest, and a run beside it is not affected.
 */

export type Log = (line: string) => void;

export interface StackHandle {
  stack: LocalStack;
  api: ApiClient;
  stateDir: string;
}

/** A stack on its own state directory (never the developer's .agent-r/state). */
export async function startScenarioStack(
  stateDir: string,
  simOptions: SimPolicyOptionsInput,
  log?: Log,
): Promise<StackHandle> {
  const stack = await startLocalStack({
    stateDir,
    simOptions: simOptions as Record<string, unknown>,
    ...(log ? { log } : {}),
  });
  return { stack, api: new ApiClient(stack.apiUrl, stack.token), stateDir };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Registers an extra OpenAI-compatible endpoint (e.g. a second sim-policy) under `name`. */
export async function registerEndpoint(
  api: ApiClient,
  name: string,
  baseUrl: string,
  settings: { timeoutMs?: number; maxConcurrency?: number; retry?: Record<string, number> } = {},
): Promise<void> {
  await api.json('PUT', `/v1/endpoints/${name}`, {
    baseUrl,
    model: 'sim-policy',
    maxConcurrency: settings.maxConcurrency ?? 32,
    supportsN: true,
    ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.retry ? { retry: settings.retry } : {}),
  });
}

function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0);
}

// ---------------------------------------------------------------------------------------------
// 1. Inference faults

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

// ---------------------------------------------------------------------------------------------
// 2. The stack killed mid-build

export interface ResumeOptions {
  spec: RunSpecInput;
  simOptions: SimPolicyOptionsInput;
  /** Kill once this many policy calls are counted (a random point of the build). */
  killAfterPolicyCalls: number;
  workDir: string;
  timeoutMs: number;
  log?: Log;
}

export interface ResumeResult {
  scenario: 'resume';
  tasks: number;
  killedAtPolicyCalls: number;
  killedAtNodes: number;
  killedAtStatus: string;
  /** False when the run finished before the kill point was reached (nothing was tested). */
  killedMidRun: boolean;
  statusResumed: string;
  statusUninterrupted: string;
  treesIdentical: boolean;
  recordsIdentical: boolean;
  lost: number;
  duplicated: number;
  /** Index rows (D1) of the resumed run vs records (R2): a duplicated row would show here. */
  indexRows: number;
  records: number;
  invariantProblems: string[];
  comparison: RunDirComparison;
  resumeWallS: number;
  manifestResumed: RunManifest;
}

async function countIndexRows(api: ApiClient, runId: string, maxPages = 1000): Promise<number> {
  let after: string | null = null;
  let rows = 0;
  for (let page = 0; page < maxPages; page++) {
    const query: string = after ? `&after=${encodeURIComponent(after)}` : '';
    const body: { trajectories: unknown[]; next: string | null } = await api.json(
      'GET',
      `/v1/runs/${runId}/trajectories?limit=500${query}`,
    );
    rows += body.trajectories.length;
    if (!body.next) return rows;
    after = body.next;
  }
  throw new Error(`more than ${maxPages} pages of trajectories`);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Starts a stack, submits the build, SIGKILLs the stack's whole process group (wrangler and every
 * workerd) once `killAfterPolicyCalls` policy calls are counted, restarts it on the same state
 * directory, waits for the run to finish there, then runs the same build uninterrupted and compares.
 */
export async function runResume(options: ResumeOptions): Promise<ResumeResult> {
  const { log } = options;
  const stateDir = join(options.workDir, 'state');
  let handle: StackHandle | null = await startScenarioStack(stateDir, options.simOptions, log);
  let killedAt: RunView | null = null;
  let runId: string;
  try {
    runId = await submitRun(handle.api, options.spec);
    const pid = handle.stack.wranglerPid;
    const final = await waitForRun(handle.api, runId, {
      pollMs: 100,
      timeoutMs: options.timeoutMs,
      onPoll: (view) => {
        if ((view.counters?.policyCalls ?? 0) >= options.killAfterPolicyCalls && killedAt === null) {
          killedAt = view;
          log?.(`resume: SIGKILL of the stack's process group at ${view.counters?.policyCalls} policy calls`);
          killGroup(pid);
          throw new StackKilled();
        }
      },
    }).catch((error: unknown) => {
      if (error instanceof StackKilled) return null;
      throw error;
    });
    if (final) log?.(`resume: the run finished (${final.status}) before the kill point`);
  } finally {
    await handle.stack.stop();
    handle = null;
  }
  const killed = killedAt as RunView | null;
  const started = performance.now();
  handle = await startScenarioStack(stateDir, options.simOptions, log);
  try {
    log?.('resume: stack restarted on the same state directory');
    const resumed = await waitForRun(handle.api, runId, { timeoutMs: options.timeoutMs });
    const resumeWallS = (performance.now() - started) / 1000;
    const uninterrupted = await runAndWait(handle.api, options.spec, { timeoutMs: options.timeoutMs });
    const resumedDir = join(options.workDir, 'resumed');
    const referenceDir = join(options.workDir, 'uninterrupted');
    const manifestResumed = await downloadRun(handle.api, runId, options.spec.tasks, resumedDir);
    await downloadRun(handle.api, uninterrupted.runId, options.spec.tasks, referenceDir);
    const comparison = await compareRunDirs(referenceDir, resumedDir);
    const invariants = await treeDirProblems(resumedDir);
    return {
      scenario: 'resume',
      tasks: options.spec.tasks.length,
      killedAtPolicyCalls: killed?.counters?.policyCalls ?? 0,
      killedAtNodes: killed?.counters?.nodes ?? 0,
      killedAtStatus: killed?.status ?? 'not killed',
      killedMidRun: killed !== null,
      statusResumed: resumed.status,
      statusUninterrupted: uninterrupted.view.status,
      treesIdentical:
        comparison.treesDiffering.length === 0 && comparison.treesCompared === options.spec.tasks.length,
      recordsIdentical: comparison.records.every((r) => r.identical),
      lost: comparison.lost,
      duplicated: comparison.duplicated,
      indexRows: await countIndexRows(handle.api, runId),
      records: manifestResumed.counts.revision + manifestResumed.counts.good,
      invariantProblems: invariants.problems,
      comparison,
      resumeWallS,
      manifestResumed,
    };
  } finally {
    await handle.stack.stop();
  }
}

class StackKilled extends Error {}

export function resumeSummary(r: ResumeResult): string {
  return (
    `FAULTS resume: ${r.tasks} tasks, SIGKILL at ${r.killedAtPolicyCalls} policy calls (${r.killedAtNodes} nodes, ` +
    `${r.killedAtStatus}), resumed status ${r.statusResumed} in ${r.resumeWallS.toFixed(1)} s, ` +
    `trees identical ${r.treesIdentical}, records identical ${r.recordsIdentical}, lost ${r.lost}, ` +
    `duplicated ${r.duplicated}, index rows ${r.indexRows} for ${r.records} records, ` +
    `visit problems ${r.invariantProblems.length}`
  );
}

// ---------------------------------------------------------------------------------------------
// 3. An environment server that dies

export interface EnvServer {
  url: string;
  close(): Promise<void>;
}

export interface DeadEnvOptions {
  handle: StackHandle;
  startEnvServer: () => Promise<EnvServer>;
  /** The AgentGym run (env, flavor and envServer are filled in). */
  spec: RunSpecInput;
  /** A crafting run beside it, which must not be affected. */
  controlSpec: RunSpecInput;
  /** Close the env server once the AgentGym run has this many nodes. */
  closeAfterNodes: number;
  timeoutMs: number;
  log?: Log;
}

export interface DeadEnvResult {
  scenario: 'dead-env-server';
  closedAtNodes: number;
  status: string;
  failedJobs: number;
  failures: { task: number; reason: string }[];
  /** Why each failed job failed (from the tasks' progress), de-duplicated. */
  jobFailureReasons: string[];
  controlStatus: string;
  controlFailedJobs: number;
  controlFailures: number;
  wallS: number;
}

export async function runDeadEnvServer(options: DeadEnvOptions): Promise<DeadEnvResult> {
  const { handle, log } = options;
  const server = await options.startEnvServer();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  try {
    const started = performance.now();
    const runId = await submitRun(handle.api, {
      ...options.spec,
      env: 'agentgym',
      flavor: 'textcraft',
      envServer: server.url,
    });
    const controlId = await submitRun(handle.api, options.controlSpec);
    let closedAtNodes = -1;
    const view = await waitForRun(handle.api, runId, {
      timeoutMs: options.timeoutMs,
      onPoll: async (v) => {
        const nodes = v.counters?.nodes ?? 0;
        if (!closed && nodes >= options.closeAfterNodes) {
          closedAtNodes = nodes;
          log?.(`dead env server: closing the AgentGym server at ${nodes} nodes`);
          await close();
        }
      },
    });
    const wallS = (performance.now() - started) / 1000;
    const control = await waitForRun(handle.api, controlId, { timeoutMs: options.timeoutMs });
    const manifest = await handle.api.json<RunManifest>('GET', `/v1/runs/${runId}/manifest`);
    const controlManifest = await handle.api.json<RunManifest>('GET', `/v1/runs/${controlId}/manifest`);
    const reasons = new Set<string>();
    for (const task of options.spec.tasks) {
      const progress = await handle.api
        .json<{ failures?: { reason: string | null }[] }>('GET', `/v1/runs/${runId}/tasks/${task}`)
        .catch(() => ({ failures: [] }));
      for (const failure of progress.failures ?? []) if (failure.reason) reasons.add(failure.reason);
    }
    return {
      scenario: 'dead-env-server',
      closedAtNodes,
      status: view.status,
      failedJobs: manifest.counts.failed_jobs,
      failures: manifest.failures,
      jobFailureReasons: [...reasons],
      controlStatus: control.status,
      controlFailedJobs: controlManifest.counts.failed_jobs,
      controlFailures: controlManifest.failures.length,
      wallS,
    };
  } finally {
    await close();
  }
}

export function deadEnvSummary(r: DeadEnvResult): string {
  const reason = r.failures[0]?.reason ?? '(none)';
  return (
    `FAULTS dead env server: closed at ${r.closedAtNodes} nodes, run ${r.status}, failed jobs ${r.failedJobs}, ` +
    `manifest failures ${r.failures.length} (first: ${reason.slice(0, 160)}), ` +
    `job failure reasons: ${r.jobFailureReasons.map((x) => x.slice(0, 120)).join(' | ') || '(none)'}, control run ${r.controlStatus} ` +
    `with ${r.controlFailedJobs} failed jobs`
  );
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
