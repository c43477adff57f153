import { join } from 'node:path';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import {
  deadEnvSummary,
  inferenceFaultSummary,
  resumeSummary,
  runDeadEnvServer,
  runInferenceFaults,
  runResume,
  startScenarioStack,
} from './fault-scenarios';
import { durabilityBenchSection } from './faults/durability';
import { round } from './metrics';

/** The three fault scenarios, each on its own stack and state directory. */
export async function runFaultScenarios(
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
  const { startFakeTextCraft } = await import('./fakes/agentgym-textcraft');
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
  Object.assign(out, await durabilityBenchSection(workDir, log));
  return out;
}
