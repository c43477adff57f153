import { join } from 'node:path';
import type { ApiClient } from '../../api-client';
import type { RunManifest } from '../../../shared/contracts/manifest';
import type { RunSpecInput } from '../../../shared/contracts/run-spec';
import type { SimPolicyOptionsInput } from '../../sim-policy/options';
import { downloadRun, runAndWait, type RunView, submitRun, waitForRun } from '../build-run';
import { compareRunDirs, type RunDirComparison, treeDirProblems } from '../compare';
import { type Log, type StackHandle, startScenarioStack } from './stack';

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

export async function countIndexRows(api: ApiClient, runId: string, maxPages = 1000): Promise<number> {
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
