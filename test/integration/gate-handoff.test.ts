import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { endpointGateStub } from '../../workers/common/durable-objects';
import type { CoordinatorBindings } from '../../workers/common/env';
import { sampleThroughGate } from '../../workers/common/policy';
import { proxySpace } from './fault-hooks';
import { api } from './helpers';

const env = workerEnv as unknown as CoordinatorBindings;

/** The bindings with the gate's RPCs counted by method (the calls this isolate makes). */
function countingGateCalls(counts: Record<string, number>): CoordinatorBindings {
  const namespace = env.ENDPOINT_GATE;
  const ENDPOINT_GATE = {
    getByName(name: string) {
      const stub = namespace.getByName(name);
      return new Proxy(stub, {
        get(target, prop) {
          // An RPC stub answers every name: one that looked thenable would be awaited.
          if (prop === 'then') return undefined;
          const value = Reflect.get(target, prop) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            counts[String(prop)] = (counts[String(prop)] ?? 0) + 1;
            // Reflect.apply: an RPC method is a stub too, and its own `.apply` would be a remote call.
            return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
          };
        },
      });
    },
  };
  return { ...env, ENDPOINT_GATE } as unknown as CoordinatorBindings;
}

describe('EndpointGate hand-off', () => {
  it('callers of one isolate hand released slots on with their own ask: fewer than 2 gate calls per request, never above the capacity, inUse back to 0', async () => {
    const proxy = await proxySpace({ completionDelayMs: 150 });
    const name = `handoff-${crypto.randomUUID().slice(0, 6)}`;
    const capacity = 2;
    const put = await api(`/v1/endpoints/${name}`, {
      method: 'PUT',
      json: { baseUrl: proxy.llm, model: 'sim-policy', maxConcurrency: capacity },
    });
    expect(put.status).toBe(200);
    const counts: Record<string, number> = {};
    const counted = countingGateCalls(counts);
    const gate = endpointGateStub(env, name);
    let peak = 0;
    let done = false;
    const watcher = (async () => {
      for (let i = 0; i < 600 && !done; i++) {
        peak = Math.max(peak, (await gate.stats()).inUse);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Six consumers of one isolate, five requests each, one after the other (as queue messages
    // keep coming): more asks than slots the whole time.
    const loops = 6;
    const perLoop = 5;
    const start = Date.now();
    const texts = await Promise.all(
      Array.from({ length: loops }, async (_, loop) => {
        const out: string[] = [];
        for (let i = 0; i < perLoop; i++) {
          const sampled = await sampleThroughGate(counted, name, `run_h:${loop}:j${i}#1`, {
            messages: [{ role: 'user', content: `Goal: craft item ${loop}-${i}.` }],
            n: 1,
            temperature: 1,
            maxTokens: 20,
            seed: loop * 100 + i,
          });
          out.push(...sampled.texts);
        }
        return out;
      }),
    );
    const wall = Date.now() - start;
    done = true;
    await watcher;
    const calls = loops * perLoop;
    const gateCalls = (counts.acquire ?? 0) + (counts.exchange ?? 0) + (counts.release ?? 0);
    const stats = await proxy.stats();
    console.log(
      `${calls} requests on ${capacity} slots in ${wall} ms: gate calls ${JSON.stringify(counts)} ` +
        `(${(gateCalls / calls).toFixed(2)} per request), max in flight ${stats.maxInFlightCompletions}, peak inUse ${peak}`,
    );
    expect(texts.flat()).toHaveLength(calls);
    expect(stats.completions).toBe(calls);
    expect(stats.maxInFlightCompletions).toBeLessThanOrEqual(capacity);
    expect(peak).toBeLessThanOrEqual(capacity);
    // Without the hand-off every request costs an acquire and a release (2 per request).
    expect(counts.exchange ?? 0).toBeGreaterThan(calls / 3);
    expect(gateCalls / calls).toBeLessThan(1.7);
    expect(await gate.stats()).toMatchObject({ inUse: 0, queued: 0 });
  }, 60_000);
});
