import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { ExpandJob } from '../../shared/contracts/jobs';
import type { CoordinatorBindings } from '../../workers/common/env';
import { taskTreeStub } from '../../workers/common/env';
import { JobSuperseded } from '../../workers/common/job-context';
import { expandNode } from '../../workers/expander/src/expand-node';
import { proxySpace, simEndpoint } from './fault-hooks';
import { api, eventually } from './helpers';
import { expectSettled, runCompletedHook } from './settled';

// Durability scenarios against the real AgentGym TextCraft server (../shared/vendor, started by
// global-setup.ts), with the fault proxy in front of it for what the server cannot be made to do
// itself: answer one step with 3 MB more, or count the requests it is sent per namespace.

const env = workerEnv as unknown as CoordinatorBindings;
const missing = inject('realTextcraftMissing');
const realProxy = inject('realFaultProxyUrl');

const putEndpoint = (baseUrl: string) => simEndpoint(baseUrl, { maxConcurrency: 4 });

interface Node {
  observation: string;
  children: Node[];
}

const nodesOf = (node: Node): Node[] => [node, ...node.children.flatMap(nodesOf)];

describe.skipIf(missing !== '')(
  `durability against the real TextCraft server${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('an observation of 3 MB from the real server is cut with a marker; the build completes, D1 agrees, one webhook', async () => {
      const space = await proxySpace({ bigObservations: 1, chars: 3_000_000 }, realProxy);
      const policy = await putEndpoint(`${inject('simPolicyUrl')}/v1`);
      const bucket = await runCompletedHook();
      const tasks = [3, 4];
      const start = Date.now();
      const created = await api('/v1/runs', {
        method: 'POST',
        json: {
          tasks,
          iterations: 2,
          width: 2,
          depth: 5,
          seed: 11,
          policy,
          env: 'agentgym',
          flavor: 'textcraft',
          envServer: space.env,
        },
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const settled = await expectSettled(id, bucket);
      const stats = await space.stats();
      const view = (await (await api(`/v1/runs/${id}`)).json()) as { counters: Record<string, number> };
      console.log(
        `real server, 3 MB observation: run ${settled.status} in ${Date.now() - start} ms; env requests ` +
          `${stats.envRequests}, big served ${stats.bigServed}, again ${stats.bigRepeated} (replays)`,
      );
      expect(stats.bigServed).toBe(1);
      expect(settled.status).toBe('completed');
      expect(view.counters.failedJobs).toBe(0);
      expect(view.counters.tasksDone).toBe(tasks.length);
      const nodes: Node[] = [];
      for (const task of tasks) {
        const tree = (await (await api(`/v1/runs/${id}/tasks/${task}/tree`)).json()) as { root: Node };
        nodes.push(...nodesOf(tree.root));
      }
      const cut = nodes.filter((n) => n.observation.includes('[agent-r: observation truncated'));
      expect(cut.length).toBeGreaterThanOrEqual(1);
      expect(new Set(cut.map((n) => n.observation)).size).toBe(1);
      expect(cut[0]!.observation).toMatch(/observation truncated: \d+ characters, the cap is \d+\]$/);
      expect(cut[0]!.observation.length).toBeLessThan(10_000);
    }, 120_000);

    it('an attempt superseded while it samples stops before touching the environment; the current one steps it', async () => {
      const envSpace = await proxySpace({}, realProxy);
      // The run's own consumers wait 15 s on this endpoint: the job stays open while the test
      // drives one attempt of it by hand through a 1.5 s endpoint.
      const hanging = await proxySpace({ completionDelayMs: 15_000 }, realProxy);
      const slow = await proxySpace({ completionDelayMs: 1500 }, realProxy);
      const created = await api('/v1/runs', {
        method: 'POST',
        json: {
          tasks: [3],
          iterations: 2,
          width: 2,
          depth: 3,
          seed: 5,
          policy: await putEndpoint(hanging.llm),
          env: 'agentgym',
          flavor: 'textcraft',
          envServer: envSpace.env,
        },
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const tree = taskTreeStub(env, id, 3);
      try {
        // The root is done (a reset on the real server); the first expansion is out.
        const first = await eventually(async () => (await tree.getJob('0:0')) as ExpandJob | null, 400);
        const slowPolicy = await putEndpoint(slow.llm);
        const before = (await envSpace.stats()).envRequests ?? 0;
        expect(before).toBeGreaterThan(0);
        const job: ExpandJob = { ...first, spec: { ...first.spec, policy: slowPolicy } };
        const superseded = expandNode(env, job, {
          stillCurrent: () => tree.keepAlive(job.jobId, job.attempt),
        }).then(
          () => 'finished',
          (error: unknown) => error,
        );
        // While its request is at the endpoint, the job is given up and re-sent (as the alarm
        // does when a deadline passes): attempt 2 is now the current one.
        await eventually(async () => ((await slow.stats()).completions ?? 0) >= 1, 200);
        await tree.failJob(job.jobId, 'no result within the deadline (test)', true, job.attempt);
        const outcome = await superseded;
        expect(outcome).toBeInstanceOf(JobSuperseded);
        expect((outcome as Error).message).toMatch(/environment steps: attempt superseded/);
        // It made its one inference call and not a single request to the environment.
        expect((await slow.stats()).completions).toBe(1);
        expect((await envSpace.stats()).envRequests ?? 0).toBe(before);

        // The same work for the current attempt does step the real environment.
        const current = (await tree.getJob('0:0')) as ExpandJob;
        expect(current.attempt).toBe(job.attempt + 1);
        const result = await expandNode(
          env,
          { ...current, spec: { ...current.spec, policy: slowPolicy } },
          { stillCurrent: () => tree.keepAlive(current.jobId, current.attempt) },
        );
        expect(result.kind).toBe('expand');
        const after = (await envSpace.stats()).envRequests ?? 0;
        console.log(`superseded attempt: env requests ${before} -> ${before}; current attempt: -> ${after}`);
        expect(after).toBeGreaterThan(before);
      } finally {
        await api(`/v1/runs/${id}/cancel`, { method: 'POST' });
      }
    }, 120_000);
  },
);
