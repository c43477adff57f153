import { runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SlotGate } from '../../shared/inference/slot-gate';
import { endpointGateStub } from '../../workers/common/durable-objects';
import type { CoordinatorBindings } from '../../workers/common/env';
import { sampleThroughGate } from '../../workers/common/policy';
import { proxySpace } from './fault-hooks';
import { api } from './helpers';

const env = workerEnv as unknown as CoordinatorBindings;

describe('EndpointGate leases end to end', () => {
  it('a request that outlives its slot lease keeps the slot (renewed): never more in flight than the capacity', async () => {
    // Every completion takes 4 s at the proxy; the gate's leases live 1.2 s unless renewed.
    const proxy = await proxySpace({ completionDelayMs: 4000 });
    const name = `lease-${crypto.randomUUID().slice(0, 6)}`;
    const put = await api(`/v1/endpoints/${name}`, {
      method: 'PUT',
      json: { baseUrl: proxy.llm, model: 'sim-policy', maxConcurrency: 1 },
    });
    expect(put.status).toBe(200);
    const gate = endpointGateStub(env, name);
    // This gate's leases are short (production: 5 minutes); the holders renew every third of it.
    await runInDurableObject(gate as unknown as DurableObjectStub, (instance) => {
      (instance as unknown as { gate: SlotGate }).gate = SlotGate.create({ capacity: 1, leaseTtlMs: 1200 });
    });
    const start = Date.now();
    let peak = 0;
    const watcher = (async () => {
      while (Date.now() - start < 11_000) {
        peak = Math.max(peak, (await gate.stats()).inUse);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const calls = await Promise.all(
      [1, 2, 3].map((i) =>
        sampleThroughGate(env, name, `holder-${i}`, {
          messages: [{ role: 'user', content: `Goal: craft item ${i}.` }],
          n: 1,
          temperature: 1,
          maxTokens: 50,
          seed: i,
        }),
      ),
    );
    const wall = Date.now() - start;
    await watcher;
    const stats = await proxy.stats();
    console.log(
      `lease 1.2 s, requests 4 s each: ${calls.length} calls in ${wall} ms, max in flight ${stats.maxInFlightCompletions}, gate peak inUse ${peak}`,
    );
    expect(calls.every((c) => c.texts.length === 1)).toBe(true);
    // One at a time: without renewal the lease would lapse after 1.2 s and let the next one in.
    expect(stats.maxInFlightCompletions).toBe(1);
    expect(peak).toBe(1);
    expect(wall).toBeGreaterThanOrEqual(3 * 4000);
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  }, 60_000);
});
