import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import type { CoordinatorBindings } from '../../workers/common/env';
import { api } from './helpers';

const env = workerEnv as unknown as CoordinatorBindings;

describe('EndpointGate: n slots at once', () => {
  it('interleaved acquires of 4 slots on a gate of capacity 4: one job gets all 4 within a second, inUse returns to 0', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-n-${crypto.randomUUID()}`));
    const capacity = 4;
    const start = Date.now();
    const order: string[] = [];
    let holding = 0;
    let peak = 0;
    // Two jobs of width 4 on an endpoint without `n` support, asking at the same moment (the old
    // one-slot-at-a-time acquire could give each two slots and leave both waiting 10 minutes).
    await Promise.all(
      ['a', 'b', 'c'].map(async (job) => {
        const lease = await gate.acquire(`job-${job}`, capacity, 0, 4);
        if ('refused' in lease) throw new Error(lease.refused);
        order.push(`${job}@${Date.now() - start}`);
        holding += lease.slots ?? 1;
        peak = Math.max(peak, holding);
        await new Promise((r) => setTimeout(r, 200));
        holding -= lease.slots ?? 1;
        await gate.release(lease.leaseId);
      }),
    );
    console.log(`grants: ${order.join(', ')}`);
    expect(Number(order[0]!.split('@')[1])).toBeLessThan(1000);
    expect(order).toHaveLength(3);
    expect(peak).toBe(capacity);
    expect(await gate.stats()).toMatchObject({ capacity, inUse: 0, queued: 0 });
  });

  it('refuses more slots than the capacity at once, holding nothing', async () => {
    const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(`gate-over-${crypto.randomUUID()}`));
    expect(await gate.acquire('wide', 2, 0, 3)).toEqual({
      refused: 'cannot hold 3 slots at once: the capacity is 2',
    });
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  });

  it('a run whose width exceeds maxConcurrency without supportsN is refused at creation with a 400 that says why', async () => {
    const name = `narrow-${crypto.randomUUID().slice(0, 6)}`;
    const put = await api(`/v1/endpoints/${name}`, {
      method: 'PUT',
      json: {
        baseUrl: `${inject('simPolicyUrl')}/v1`,
        model: 'sim-policy',
        maxConcurrency: 2,
        supportsN: false,
      },
    });
    expect(put.status).toBe(200);
    const refused = await api('/v1/runs', { method: 'POST', json: { tasks: [0], width: 3, policy: name } });
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('width_exceeds_concurrency');
    expect(body.error.message).toMatch(/width 3 .* maxConcurrency is 2/);
    const fits = await api('/v1/runs', {
      method: 'POST',
      json: { tasks: [0], width: 2, iterations: 1, depth: 2, policy: name },
    });
    expect(fits.status).toBe(201);
  });
});
