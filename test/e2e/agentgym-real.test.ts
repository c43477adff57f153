import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import { createAgentGymSession } from '../../shared/env/agentgym/session';
import { SCIWORLD_GAME_COUNT, sciWorldIndex } from '../../shared/env/sciworld-tasks';
import { runCli } from '../helpers/cli-process';
import { submitRun, waitForRun } from '../../cli/bench/build-run';
import { removeDir, type StackHandle, startScenarioStack, tempDir } from '../../cli/bench/fault-scenarios';
import {
  type CountingProxy,
  countingProxy,
  type RealServer,
  realServersMissing,
  startRealServer,
} from '../helpers/agentgym-servers';
import type { EvalView } from '../../shared/contracts/eval';

// Builds and evals against the REAL AgentGym TextCraft and SciWorld servers (AgentGym 3ef9235,
// started from ../shared/vendor on free loopback ports), through the whole local stack (wrangler
// dev with every worker + sim-policy). Kept small: every SciWorld env is a JVM (~200 MB, ~1 s).
//
// Faults a real server cannot be made to produce stay on the fakes (test/fakes/agentgym-*.ts):
// hangs and slow answers, HTTP 5xx/429 and garbage bodies, a /step that fails after the server
// applied it, WebShop's duplicate ids past 8000 envs, and WebShop as a whole (its real server needs
// product data this machine cannot fetch).

const missing = realServersMissing();
const splitsDir = join(process.cwd(), '../shared/data/splits');
const haveSplits = existsSync(splitsDir);
if (!missing && !haveSplits) console.warn(`SKIPPED: the split-file build needs ${splitsDir}`);
if (missing) console.warn(`SKIPPED: the real AgentGym e2e tests need ../shared/vendor: ${missing}`);

const simOptions = { latencyMs: 5, perTokenMs: 0.2, seed: 0 };
const runTimeoutMs = 4 * 60_000;

describe.skipIf(missing !== null)('the real AgentGym servers', () => {
  let workDir = '';
  let handle: StackHandle | null = null;
  let textcraft: RealServer | null = null;
  let sciworld: RealServer | null = null;
  let textcraftProxy: CountingProxy | null = null;
  let sciworldProxy: CountingProxy | null = null;

  beforeAll(async () => {
    workDir = await tempDir('agent-r-real-envs-');
    [handle, textcraft, sciworld] = await Promise.all([
      startScenarioStack(join(workDir, 'state'), simOptions),
      startRealServer('textcraft'),
      startRealServer('sciworld'),
    ]);
    textcraftProxy = await countingProxy(textcraft.url);
    sciworldProxy = await countingProxy(sciworld.url);
  }, 240_000);

  afterAll(async () => {
    await handle?.stack.stop();
    await textcraftProxy?.close();
    await sciworldProxy?.close();
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

  /** What a run cost the server, counted by the proxy in front of it, per expansion (= policy call). */
  function serverCost(proxy: CountingProxy, manifest: RunManifest, label: string) {
    const resets = proxy.counts['POST /reset'] ?? 0;
    const steps = proxy.counts['POST /step'] ?? 0;
    const expansions = manifest.counts.policy_calls;
    const tasks = manifest.counts.tasks;
    console.log(
      `ENV COST ${label}: ${tasks} tasks, ${expansions} expansions, ${resets} resets, ${steps} steps ` +
        `(${(resets / expansions).toFixed(2)} resets and ${(steps / expansions).toFixed(2)} steps per expansion)`,
    );
    return { resets, steps, expansions, tasks };
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
      textcraftProxy!.reset();
      const { runId, view, manifest } = await build({
        env: 'agentgym',
        flavor: 'textcraft',
        envServer: textcraftProxy!.url,
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
      const cost = serverCost(
        textcraftProxy!,
        manifest,
        'TextCraft build (2 tasks, 2 iterations, width 3, depth 6)',
      );
      // The manifest reports what the server saw.
      expect(manifest.counts).toMatchObject({ env_resets: cost.resets, env_steps: cost.steps });
      expect(manifest.counts.expansions).toBe(cost.expansions);
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
          // Big enough to outlast a few polls on a quiet machine (3 iterations could finish
          // between two polls, before the restart).
          iterations: 10,
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
      sciworldProxy!.reset();
      const { runId, view, manifest } = await build({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworldProxy!.url,
        tasks: [0],
        iterations: 1,
        width: 2,
        depth: 3,
        seed: 1,
      });
      expect(view.status, sciworld!.output()).toBe('completed');
      expect(manifest.counts.failed_jobs).toBe(0);
      const cost = serverCost(
        sciworldProxy!,
        manifest,
        'SciWorld build (1 task, 1 iteration, width 2, depth 3)',
      );
      expect(manifest.counts).toMatchObject({ env_resets: cost.resets, env_steps: cost.steps });
      // data_idx 0 of the real server is task "boil", variation 0.
      expect((await tree(runId, 0)).root.observation).toMatch(/^Your task is to boil water\./);
    },
    runTimeoutMs + 30_000,
  );

  it(
    'SciWorld: an eval of 3 tasks x 20 rounds costs one reset per task and one step per round',
    async () => {
      sciworldProxy!.reset();
      const view = await evaluate({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworldProxy!.url,
        tasks: [0, 1, 2],
        rounds: 20,
      });
      expect(view.error).toBeNull();
      expect(view.status).toBe('completed');
      expect(view.metrics).toMatchObject({ tasks: 3 });
      // The paper's scale: SciWorld's own 0-100 score (our rewards are score / 100).
      const { averageReward, averageScore } = view.metrics as { averageReward: number; averageScore: number };
      expect(averageScore).toBeCloseTo(averageReward * 100, 2);
      const manifest = await handle!.api.json<RunManifest>('GET', `/v1/runs/${view.runId}/manifest`);
      const cost = serverCost(sciworldProxy!, manifest, 'SciWorld eval (3 tasks, 20 rounds)');
      expect(manifest.counts).toMatchObject({ env_resets: cost.resets, env_steps: cost.steps });
      // The env stays where the last round left it: no replay at all.
      expect(cost.resets).toBe(cost.tasks);
      expect(cost.steps).toBe(cost.expansions);
      expect(manifest.env_per_expansion?.steps).toBe(1);
    },
    runTimeoutMs + 30_000,
  );

  it('SciWorld: near misses the server refuses are accepted once mapped to a valid action', async () => {
    const open = (mapActions: boolean) =>
      createAgentGymSession({ baseUrl: sciworld!.url, flavor: 'sciworld', mapActions });
    const raw = open(false);
    const mapped = open(true);
    try {
      await Promise.all([raw.reset(0), mapped.reset(0)]); // task "boil": the agent in the hallway
      const play = async (action: string) => {
        const [r, m] = await Promise.all([raw.step(action), mapped.step(action)]);
        return { raw: r.observation, mapped: m.observation, sent: m.sentAction };
      };
      // Exact valid actions go through unchanged (no sentAction).
      const refused = 'No known action matches that input.'; // the server's words for both misses
      const picture = await play('look at the picture closely');
      expect(picture.raw).toBe(refused);
      expect(picture.sent).toBe('look at picture');
      expect(picture.mapped).toMatch(/^a picture of /);
      expect(await play('open door to kitchen')).toMatchObject({
        sent: undefined,
        mapped: 'The door is now open.',
      });
      expect(await play('go to kitchen')).toMatchObject({
        sent: undefined,
        mapped: 'You move to the kitchen.',
      });
      const thermometer = await play('pick the thermometer up');
      expect(thermometer.raw).toBe(refused);
      expect(thermometer.sent).toBe('pick up thermometer');
      expect(thermometer.mapped).toBe('You move the thermometer to the inventory.');
    } finally {
      await Promise.allSettled([raw.close(), mapped.close()]);
    }
  }, 120_000);

  it('SciWorld: a focus near miss is mapped to the object in sight; scores are 0-100 on the wire', async () => {
    sciworldProxy!.reset();
    const open = (mapActions: boolean) =>
      createAgentGymSession({ baseUrl: sciworldProxy!.url, flavor: 'sciworld', mapActions });
    const raw = open(false);
    const mapped = open(true);
    try {
      const task = sciWorldIndex('find-living-thing', 0); // the agent in the hallway; a greenhouse next door
      await Promise.all([raw.reset(task), mapped.reset(task)]);
      const play = async (action: string) => {
        const [r, m] = await Promise.all([raw.step(action), mapped.step(action)]);
        return { raw: r, mapped: m };
      };
      // The server's score is 0..100 (8 for opening the right door: see the next test); reward = score / 100.
      expect((await play('open door to greenhouse')).mapped.reward).toBeCloseTo(0.08);
      expect((await play('go to greenhouse')).mapped.reward).toBeCloseTo(0.17);
      const focus = await play('focus on the tall pea plant');
      expect(focus.raw.observation).toBe('No known action matches that input.');
      expect(focus.raw.reward).toBeCloseTo(0.17);
      expect(focus.mapped.sentAction).toBe('focus on adult pea plant');
      expect(focus.mapped.observation).toBe('You focus on the pea plant.');
      expect(focus.mapped.reward).toBeCloseTo(0.67); // the focus sub-goal's 50 points
      // A focus pick is checked against a free look-around (GET /state) before it is sent.
      expect(sciworldProxy!.counts['GET /state']).toBe(1);
    } finally {
      await Promise.allSettled([raw.close(), mapped.close()]);
    }
  }, 120_000);

  it("SciWorld: task types x variations name the server's own games (AgentGym's list, 7 tasks left out)", async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${sciworld!.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const { id } = (await post('/create')) as { id: number };
    try {
      // Each load is slow on a busy machine: the edges of the list and of both gaps AgentGym leaves.
      const probes: [string, number][] = [
        ['boil', 29],
        ['use-thermometer', 539],
        ['find-animal', 299], // then 5-1 and 5-2 are left out
        ['chemistry-mix', 0],
        ['identify-life-stages-2', 9], // the last game: 9-x and 10-x are left out
      ];
      for (const [name, variation] of probes) {
        const answer = await post('/reset', { id, data_idx: sciWorldIndex(name, variation) });
        expect(answer, name).toMatchObject({ task_name: name, var_num: variation });
      }
      expect(sciWorldIndex('identify-life-stages-2', 9)).toBe(SCIWORLD_GAME_COUNT - 1);
      // The wire's score is on ScienceWorld's 0..100 scale.
      await post('/reset', { id, data_idx: sciWorldIndex('find-living-thing', 0) });
      expect(await post('/step', { id, action: 'open door to greenhouse' })).toMatchObject({
        score: 8,
        reward: 8,
      });
      // One past the last game: the server has no such task.
      expect(await post('/reset', { id, data_idx: SCIWORLD_GAME_COUNT })).toMatchObject({
        error: 'list index out of range',
      });
    } finally {
      await post('/close', { id });
    }
  }, 120_000);

  it.skipIf(!haveSplits)(
    "builds from split ids: TextCraft's training split file via the CLI, a SciWorld task type x variation via the API",
    async () => {
      const trainSplit = join(splitsDir, 'textcraft_train_clean.json');
      const env = { AGENT_R_TOKEN: handle!.stack.token };
      const common = ['build', '--api', handle!.stack.apiUrl, '--env', 'agentgym', '--flavor', 'textcraft'];
      // A test id is not a training id: refused before anything starts.
      const refused = await runCli(
        [...common, '--env-url', textcraft!.url, '--split', trainSplit, '--tasks', '0'],
        {
          env,
        },
      );
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(/--split .*: 1 task\(s\) are not in the split: 0/);
      const out = join(workDir, 'split-build');
      const built = await runCli(
        [
          ...common,
          ...['--env-url', textcraft!.url, '--split', trainSplit, '--tasks', 'textcraft_31,textcraft_32'],
          ...['--iterations', '1', '--width', '2', '--depth', '3', '--out', out, '--json'],
        ],
        { env, timeoutMs: runTimeoutMs },
      );
      expect(built.code, built.stderr).toBe(0);
      const manifest = JSON.parse(built.stdout.trim().split('\n').at(-1) as string) as RunManifest;
      expect(manifest.config.tasks).toEqual([31, 32]);
      expect(manifest.counts.failed_jobs).toBe(0);
      expect((await tree(manifest.run_id, 31)).root.observation).toMatch(/^Crafting commands:/);

      const { runId, view } = await build({
        env: 'agentgym',
        flavor: 'sciworld',
        envServer: sciworld!.url,
        tasks: 'find-living-thing:0' as unknown as number[], // the API resolves the text
        iterations: 1,
        width: 1,
        depth: 2,
      });
      expect(view.status, sciworld!.output()).toBe('completed');
      const task = sciWorldIndex('find-living-thing', 0);
      expect((await tree(runId, task)).root.observation).toMatch(
        /^Your task is to find a\(n\) living thing\./,
      );
    },
    2 * runTimeoutMs,
  );

  it(
    "SciWorld: a task index past the server's variations fails the task with a clear reason",
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
      // The server answers {"error": "list index out of range"} (HTTP 200); API users see which call
      // failed and why in our words, never the server's text (shared/outbound/reasons.ts).
      expect(manifest.failures[0]!.reason).toMatch(
        /could not start the task: POST \/reset on http:\/\/127\.0\.0\.1:\d+: the server reported an error/,
      );
    },
    runTimeoutMs + 30_000,
  );
});
