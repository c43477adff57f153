import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import { submitRun, waitForRun } from '../../cli/bench/build-run';
import { removeDir, type StackHandle, startScenarioStack, tempDir } from '../../cli/bench/fault-scenarios';
import { type RealServer, realServersMissing, startRealServer } from '../helpers/agentgym-servers';

// Builds and evals against the REAL AgentGym TextCraft and SciWorld servers (AgentGym 3ef9235,
// started from ../shared/vendor on free loopback ports), through the whole local stack (wrangler
// dev with every worker + sim-policy). Kept small: every SciWorld env is a JVM (~200 MB, ~1 s).
//
// Faults a real server cannot be made to produce stay on the fakes (test/fakes/agentgym-*.ts):
// hangs and slow answers, HTTP 5xx/429 and garbage bodies, a /step that fails after the server
// applied it, WebShop's duplicate ids past 8000 envs, and WebShop as a whole (its real server needs
// product data this machine cannot fetch).

const missing = realServersMissing();
if (missing) console.warn(`SKIPPED: the real AgentGym e2e tests need ../shared/vendor: ${missing}`);

const simOptions = { latencyMs: 5, perTokenMs: 0.2, seed: 0 };
const runTimeoutMs = 4 * 60_000;

interface EvalView {
  status: string;
  runId: string | null;
  error: string | null;
  metrics: Record<string, unknown> | null;
}

describe.skipIf(missing !== null)('the real AgentGym servers', () => {
  let workDir = '';
  let handle: StackHandle | null = null;
  let textcraft: RealServer | null = null;
  let sciworld: RealServer | null = null;

  beforeAll(async () => {
    workDir = await tempDir('agent-r-real-envs-');
    [handle, textcraft, sciworld] = await Promise.all([
      startScenarioStack(join(workDir, 'state'), simOptions),
      startRealServer('textcraft'),
      startRealServer('sciworld'),
    ]);
  }, 240_000);

  afterAll(async () => {
    await handle?.stack.stop();
    await textcraft?.kill();
    await sciworld?.kill();
    await removeDir(workDir);
  }, 60_000);

  async function build(spec: RunSpecInput, onNodes?: (nodes: number) => Promise<void>) {
    const api = handle!.api;
    const runId = await submitRun(api, spec);
    const view = await waitForRun(api, runId, {
      timeoutMs: runTimeoutMs,
      ...(onNodes ? { onPoll: (v) => onNodes(v.counters?.nodes ?? 0) } : {}),
    });
    const manifest = await api.json<RunManifest>('GET', `/v1/runs/${runId}/manifest`);
    return { runId, view, manifest };
  }

  async function tree(runId: string, task: number) {
    return handle!.api.json<{ root: { observation: string; children: unknown[] } }>(
      'GET',
      `/v1/runs/${runId}/tasks/${task}/tree`,
    );
  }

  async function evaluate(body: Record<string, unknown>): Promise<EvalView> {
    const api = handle!.api;
    const { id } = await api.json<{ id: string }>('POST', '/v1/evals', { policy: 'sim', ...body });
    const deadline = Date.now() + runTimeoutMs;
    for (;;) {
      const view = await api.json<EvalView>('GET', `/v1/evals/${id}`);
      if (view.status !== 'running') return view;
      if (Date.now() > deadline) throw new Error(`eval ${id} still running after ${runTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it(
    'TextCraft: a build completes with records and the real first observation',
    async () => {
      const { runId, view, manifest } = await build({
        env: 'agentgym',
        flavor: 'textcraft',
        envServer: textcraft!.url,
        tasks: [3, 4],
        iterations: 2,
        width: 3,
        depth: 6,
        seed: 2,
      });
      expect(view.status, textcraft!.output()).toBe('completed');
      expect(manifest.counts.failed_jobs).toBe(0);
      expect(manifest.counts.nodes).toBeGreaterThan(4);
      const root = (await tree(runId, 3)).root;
      expect(root.observation).toMatch(/^Crafting commands:\n[\s\S]*\n\nGoal: craft /);
      expect(root.children.length).toBeGreaterThan(0);
    },
    runTimeoutMs + 30_000,
  );

  it(
    'TextCraft: an eval scores every task',
    async () => {
      const view = await evaluate({
        env: 'agentgym',
        flavor: 'textcraft',
        envServer: textcraft!.url,
        tasks: [0, 1],
        rounds: 10,
      });
      expect(view.error).toBeNull();
      expect(view.status).toBe('completed');
      expect(view.metrics).toMatchObject({ tasks: 2 });
    },
    runTimeoutMs + 30_000,
  );

  it(
    'TextCraft: a server killed and restarted mid-build (every env id lost) still completes the build',
    async () => {
      let restarted = -1;
      const { view, manifest } = await build(
        {
          env: 'agentgym',
          flavor: 'textcraft',
          envServer: textcraft!.url,
          tasks: [5, 6],
          iterations: 3,
          width: 3,
          depth: 8,
          seed: 4,
        },
        async (nodes) => {
          if (restarted < 0 && nodes >= 4) {
            restarted = nodes;
            await textcraft!.restart();
          }
        },
      );
      expect(restarted).toBeGreaterThan(0);
      expect(view.status, JSON.stringify(manifest.failures)).toBe('completed');
      expect(manifest.counts.failed_jobs).toBe(0);
      expect(manifest.counts.nodes).toBeGreaterThan(restarted);
    },
    runTimeoutMs + 60_000,
  );

  it(
    'SciWorld: a small build completes from the real task description',
    async () => {
      const { runId, view, manifest } = await build({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworld!.url,
        tasks: [0],
        iterations: 1,
        width: 2,
        depth: 3,
        seed: 1,
      });
      expect(view.status, sciworld!.output()).toBe('completed');
      expect(manifest.counts.failed_jobs).toBe(0);
      // data_idx 0 of the real server is task "boil", variation 0.
      expect((await tree(runId, 0)).root.observation).toMatch(/^Your task is to boil water\./);
    },
    runTimeoutMs + 30_000,
  );

  it(
    'SciWorld: an eval scores every task',
    async () => {
      const view = await evaluate({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworld!.url,
        tasks: [0, 1, 2],
        rounds: 5,
      });
      expect(view.error).toBeNull();
      expect(view.status).toBe('completed');
      expect(view.metrics).toMatchObject({ tasks: 3 });
    },
    runTimeoutMs + 30_000,
  );

  it(
    "SciWorld: a task index past the server's variations fails the task with the server's reason",
    async () => {
      const { view, manifest } = await build({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworld!.url,
        tasks: [999_999],
        iterations: 1,
        width: 1,
        depth: 2,
      });
      expect(view.status).toBe('failed');
      expect(manifest.failures).toHaveLength(1);
      // The server's own words (agentenv-sciworld environment.py indexes its games list).
      expect(manifest.failures[0]!.reason).toMatch(/list index out of range/);
    },
    runTimeoutMs + 30_000,
  );
});
