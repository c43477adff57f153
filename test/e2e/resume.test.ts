import { afterAll, describe, expect, it } from 'vitest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import { removeDir, resumeSummary, runResume, tempDir } from '../../cli/bench/fault-scenarios';

// The whole local stack (wrangler and every workerd: one process group) SIGKILLed at a random
// point of a build and started again on the same state directory: the run completes, identical
// to an uninterrupted run, with no record lost or duplicated. AGENT_R_FAULTS_FULL=1: larger
// builds and several kill points.
const full = process.env.AGENT_R_FAULTS_FULL === '1';
const simOptions = { latencyMs: 20, perTokenMs: 0.5, seed: 0 };
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
}, 60_000);

/** A kill point in [low, high], random unless AGENT_R_RESUME_KILL_AT pins it (to reproduce a failure). */
function killPoint(low: number, high: number): number {
  const pinned = Number(process.env.AGENT_R_RESUME_KILL_AT);
  return Number.isInteger(pinned) && pinned > 0 ? pinned : low + Math.floor(Math.random() * (high - low + 1));
}

/** The long form kills the same build early and late. */
const longSpec: RunSpecInput = {
  tasks: [0, 1, 2, 3, 4, 5],
  iterations: 5,
  width: 4,
  depth: 12,
  parallelism: 1,
  jobTimeoutMs: 5000,
};

const cases: { name: string; spec: RunSpecInput; kill: [number, number] }[] = full
  ? [
      { name: 'early', spec: longSpec, kill: [2, 10] },
      { name: 'late', spec: longSpec, kill: [40, 90] },
    ]
  : [
      {
        name: 'random point',
        spec: { tasks: [0, 1, 2], iterations: 3, width: 3, depth: 8, parallelism: 1, jobTimeoutMs: 5000 },
        kill: [3, 20],
      },
    ];

describe(`resume after SIGKILL of the local stack (${full ? 'long' : 'short'} form)`, () => {
  for (const c of cases) {
    it(
      `completes identical to an uninterrupted run (${c.name})`,
      async () => {
        const workDir = await tempDir('agent-r-resume-');
        dirs.push(workDir);
        const killAt = killPoint(c.kill[0], c.kill[1]);
        const result = await runResume({
          spec: c.spec,
          simOptions,
          killAfterPolicyCalls: killAt,
          workDir,
          timeoutMs: (full ? 15 : 4) * 60_000,
        });
        console.log(
          `${resumeSummary(result)} (kill point ${killAt}; AGENT_R_RESUME_KILL_AT=${killAt} repeats it)`,
        );
        expect(result.killedMidRun).toBe(true);
        expect(result.statusResumed).toBe('completed');
        expect(result.statusUninterrupted).toBe('completed');
        expect(result.invariantProblems).toEqual([]);
        // Parallelism 1 per tree: the trees do not depend on timing, so they must match byte for byte.
        expect(result.comparison.treesDiffering).toEqual([]);
        expect(result.treesIdentical).toBe(true);
        expect(result.recordsIdentical).toBe(true);
        expect(result.lost).toBe(0);
        expect(result.duplicated).toBe(0);
        expect(result.indexRows).toBe(result.records);
      },
      (full ? 35 : 8) * 60_000,
    );
  }
});
