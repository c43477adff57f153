import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import {
  deadEnvSummary,
  inferenceFaultSummary,
  removeDir,
  runDeadEnvServer,
  runInferenceFaults,
  type StackHandle,
  startScenarioStack,
  tempDir,
} from '../../cli/bench/fault-scenarios';
import { startFakeTextCraft } from '../../cli/bench/fakes/agentgym-textcraft';
import { runDurabilityScenarios } from '../../cli/bench/faults/durability';

// Fault tolerance of a build against real processes (wrangler dev with every worker, sim-policy).
// `npm test` runs the short form; AGENT_R_FAULTS_FULL=1 (npm run test:faults) the long one.
const full = process.env.AGENT_R_FAULTS_FULL === '1';
const simOptions = { latencyMs: 20, perTokenMs: 0.5, seed: 0 };
const timeoutMs = (full ? 25 : 4) * 60_000;

describe(`fault tolerance (${full ? 'long' : 'short'} form)`, () => {
  let workDir = '';
  let handle: StackHandle | null = null;

  beforeAll(async () => {
    workDir = await tempDir('agent-r-faults-');
    handle = await startScenarioStack(join(workDir, 'state'), simOptions);
  }, 240_000);

  afterAll(async () => {
    await handle?.stack.stop();
    await removeDir(workDir);
  }, 60_000);

  it(
    'a build through 10% 5xx, 5% 429, 3% hangs and 3% garbage gives the trees and records of the fault-free build',
    async () => {
      const spec: RunSpecInput = full
        ? {
            tasks: Array.from({ length: 10 }, (_, i) => i),
            iterations: 6,
            width: 4,
            depth: 14,
            parallelism: 1,
            jobTimeoutMs: 30_000,
          }
        : { tasks: [0, 1, 2], iterations: 3, width: 3, depth: 8, parallelism: 1, jobTimeoutMs: 30_000 };
      const result = await runInferenceFaults({
        handle: handle!,
        spec,
        simOptions,
        faults: { '5xx': 0.1, '429': 0.05, hang: 0.03, garbage: 0.03 },
        endpointTimeoutMs: 2000,
        workDir: join(workDir, 'inference'),
        timeoutMs,
      });
      console.log(inferenceFaultSummary(result));
      expect(result.statusClean).toBe('completed');
      expect(result.faultsInjectedTotal).toBeGreaterThan(0);
      expect(result.retries).toBeGreaterThanOrEqual(result.faultsInjectedTotal);
      expect(result.statusFaulty).toBe('completed');
      expect(result.tasksMissing).toBe(0);
      expect(result.failedJobs).toBe(0);
      expect(result.invariantProblems).toEqual([]);
      expect(result.comparison.treesDiffering).toEqual([]);
      expect(result.treesIdentical).toBe(true);
      expect(result.recordsIdentical).toBe(true);
      expect(result.lost).toBe(0);
      expect(result.duplicated).toBe(0);
      expect(result.manifestFaulty.counts.policy_calls).toBe(result.manifestClean.counts.policy_calls);
      expect(result.manifestFaulty.counts.judge_calls).toBe(result.manifestClean.counts.judge_calls);
    },
    timeoutMs + 60_000,
  );

  it(
    'an AgentGym server that dies for good fails its run with the reason in the manifest; a run beside it is unaffected',
    async () => {
      const result = await runDeadEnvServer({
        handle: handle!,
        startEnvServer: () => startFakeTextCraft(),
        spec: {
          tasks: full ? [0, 1, 2, 3] : [0, 1],
          iterations: 3,
          width: 3,
          depth: 8,
          parallelism: 1,
          jobTimeoutMs: 5000,
        },
        controlSpec: { tasks: [0, 1], iterations: 3, width: 3, depth: 8, parallelism: 1, jobTimeoutMs: 5000 },
        closeAfterNodes: 6,
        timeoutMs,
      });
      console.log(deadEnvSummary(result));
      expect(result.closedAtNodes).toBeGreaterThanOrEqual(6);
      // Its jobs fail, each with a reason that says what happened.
      expect(result.failedJobs).toBeGreaterThan(0);
      expect(result.jobFailureReasons.length).toBeGreaterThan(0);
      // Nothing else is affected.
      expect(result.controlStatus).toBe('completed');
      expect(result.controlFailedJobs).toBe(0);
      expect(result.controlFailures).toBe(0);
      // The run does not pass for complete: it ends partial or failed, the reason in the manifest.
      expect(['partial', 'failed']).toContain(result.status);
      expect(result.failures.length).toBeGreaterThan(0);
      expect(result.failures.map((f) => f.reason).join('\n')).toMatch(/server|connect|reach|network|down/i);
    },
    timeoutMs + 60_000,
  );

  it(
    'durability scenarios: 3 MB completion and observation, a slow endpoint, a gate without n, cancel while trees start',
    async () => {
      const results = await runDurabilityScenarios(handle!, {
        workDir: join(workDir, 'durability'),
        timeoutMs,
        // The short form keeps the two cheapest; AGENT_R_FAULTS_FULL=1 runs them all.
        ...(full ? {} : { only: ['big_completion_3mb', 'cancel_while_trees_start'] }),
        log: (line) => console.log(line),
      });
      const by = Object.fromEntries(results.map((r) => [r.scenario, r]));
      for (const r of results) {
        expect(r.lost, r.scenario).toBe(0);
        expect(r.duplicated, r.scenario).toBe(0);
        // D1 holds the end the ledger decided (the API's status is the ledger's, completedAt D1's).
        expect(r.facts.d1_final, r.scenario).toBe(true);
        expect(r.webhooks, r.scenario).toBe(r.scenario.startsWith('gate') ? 2 : 1);
      }
      expect(by.big_completion_3mb?.status).toBe('completed');
      expect(by.big_completion_3mb?.facts.big_served).toBe(1);
      expect(by.big_completion_3mb?.facts.failed_jobs).toBe(0);
      expect(by.cancel_while_trees_start?.status).toBe('cancelled');
      expect(by.cancel_while_trees_start?.facts.records).toBe(0);
      // Calls already on their way may land; none starts later than a moment after the answer.
      expect(Number(by.cancel_while_trees_start?.facts.calls_after_cancel)).toBeLessThanOrEqual(8);
      if (full) {
        expect(by.big_observation_3mb?.status).toBe('completed');
        expect(by.big_observation_3mb?.facts.big_served).toBe(1);
        expect(by.slow_endpoint_capacity_1?.status).toBe('completed');
        expect(by.slow_endpoint_capacity_1?.facts.max_in_flight_per_env_id).toBe(1);
        expect(by.slow_endpoint_capacity_1?.facts.max_completions_in_flight).toBe(1);
        expect(by.slow_endpoint_capacity_1?.facts.records_identical).toBe(true);
        expect(by.gate_capacity_4_supports_n_false?.status).toBe('completed');
        expect(
          Number(by.gate_capacity_4_supports_n_false?.facts.max_completions_in_flight),
        ).toBeLessThanOrEqual(4);
        expect(by.gate_capacity_4_supports_n_false?.facts.alone_status).toBe('completed');
        expect(by.gate_capacity_4_supports_n_false?.facts.alone_webhooks).toBe(1);
        expect(by.gate_capacity_4_supports_n_false?.facts.records_identical).toBe(true);
      }
    },
    timeoutMs + 60_000,
  );
});
