import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { api, eventually } from './helpers';

const env = workerEnv as unknown as CoordinatorBindings;

describe('a build against an AgentGym TextCraft server (HTTP env, pooled sessions, reset + replay)', () => {
  it('searches with leased env ids and produces records', async () => {
    const put = await api('/v1/endpoints/sim', {
      method: 'PUT',
      json: { baseUrl: `${inject('simPolicyUrl')}/v1`, model: 'sim-policy' },
    });
    expect(put.status).toBe(200);
    const server = inject('textcraftServerUrl');
    const created = await api('/v1/runs', {
      method: 'POST',
      json: {
        env: 'agentgym',
        flavor: 'textcraft',
        envServer: server,
        tasks: [3, 4],
        iterations: 2,
        width: 3,
        depth: 6,
        seed: 2,
      },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const run = await eventually(
      async () => {
        const view = (await (await api(`/v1/runs/${id}`)).json()) as {
          status: string;
          counters: Record<string, number>;
        };
        return ['completed', 'partial', 'failed'].includes(view.status) ? view : null;
      },
      1200,
      50,
    );
    expect(run.status).toBe('completed');
    expect(run.counters.nodes).toBeGreaterThan(2);
    expect(run.counters.failedJobs).toBe(0);
    const tree = (await (await api(`/v1/runs/${id}/tasks/3/tree`)).json()) as {
      root: { observation: string };
    };
    expect(tree.root.observation).toMatch(/^Crafting commands:/);
    const manifest = (await (await api(`/v1/runs/${id}/manifest`)).json()) as {
      counts: { good: number; revision: number };
    };
    const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM trajectories WHERE run_id = ?')
      .bind(id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(manifest.counts.good + manifest.counts.revision);
  });
});
