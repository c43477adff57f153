import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../shared/chat';
import { type ChatClientOptions, createChatClient } from '../../../shared/inference/chat-client';
import type { EndpointInput } from '../../../shared/inference/endpoint';
import { InferenceError } from '../../../shared/inference/inference-error';
import { createLocalGate } from '../../../shared/inference/local-gate';
import { parseAction } from '../../../shared/inference/parse-action';
import { instructionFor } from '../../../shared/prompts/instructions';
import { buildPolicyMessages } from '../../../shared/prompts/policy-messages';
import { type SimPolicyServer, startSimPolicy } from '../../../cli/sim-policy/server';

const firstObservation =
  'Crafting commands:\ncraft 4 oak planks using 1 oak logs\ncraft 4 stick using 2 planks\ncraft 1 ladder using 7 stick\n\nGoal: craft stick.';
const messages: ChatMessage[] = buildPolicyMessages({
  preset: 'agent-r',
  instruction: instructionFor('crafting'),
  firstObservation,
  steps: [],
});

let sim: SimPolicyServer;

beforeAll(async () => {
  sim = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, retryAfterSeconds: 2 });
});
afterAll(async () => {
  await sim.close();
});

interface Recorded {
  bodies: Record<string, unknown>[];
  headers: Headers[];
  sleeps: number[];
}

/** A client whose fetch records requests and injects `x-sim-fault` on the first `faults` calls. */
function client(endpoint: Partial<EndpointInput> = {}, faults: string[] = [], extra: ChatClientOptions = {}) {
  const recorded: Recorded = { bodies: [], headers: [], sleeps: [] };
  const fetchWithFaults: typeof fetch = async (url, init) => {
    const headers = new Headers(init?.headers);
    const fault = faults[recorded.bodies.length];
    if (fault) headers.set('x-sim-fault', fault);
    recorded.bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
    recorded.headers.push(headers);
    return fetch(url, { ...init, headers });
  };
  const chat = createChatClient(
    { name: 'sim', baseUrl: `${sim.url}/v1`, model: 'sim-policy', timeoutMs: 5_000, ...endpoint },
    {
      fetch: fetchWithFaults,
      sleep: async (ms) => {
        recorded.sleeps.push(ms);
      },
      ...extra,
    },
  );
  return { chat, recorded };
}

describe('chat client against sim-policy', () => {
  it('samples n choices with one request when the endpoint supports n', async () => {
    const { chat, recorded } = client();
    const result = await chat.sample({ messages, n: 4, temperature: 1, seed: 3 });
    expect(result.texts).toHaveLength(4);
    expect(new Set(result.texts).size).toBeGreaterThan(1);
    for (const text of result.texts) expect(parseAction(text)).toMatch(/^(get|craft) /);
    expect(result.attempts).toBe(1);
    expect(recorded.bodies).toHaveLength(1);
    expect(recorded.bodies[0]).toMatchObject({
      n: 4,
      seed: 3,
      temperature: 1,
      max_tokens: 500,
      model: 'sim-policy',
    });
    expect(result.usage.promptTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.finishReasons).toEqual(['stop', 'stop', 'stop', 'stop']);
  });

  it("sends the same request body as the AI SDK's generateText with the same settings", async () => {
    // The client calls the provider's model directly (no generateText: its per-call validation and
    // telemetry were a third of the SDK's CPU in a build's profile); the body must not change.
    const { chat, recorded } = client({ defaults: { stop: ['\nObservation:'] } });
    const conversation: ChatMessage[] = [
      ...messages,
      { role: 'assistant', content: 'Thought: I need planks.\nAction: get 1 oak logs' },
      { role: 'user', content: 'Observation: Got 1 oak logs' },
    ];
    await chat.sample({ messages: conversation, n: 3, temperature: 0.7, maxTokens: 64, seed: 11 });
    const sdkBodies: unknown[] = [];
    const provider = createOpenAICompatible({
      name: 'agentr',
      baseURL: `${sim.url}/v1`,
      fetch: async (url, init) => {
        sdkBodies.push(JSON.parse(String(init?.body)));
        return fetch(url, init);
      },
    });
    await generateText({
      model: provider.chatModel('sim-policy'),
      messages: conversation,
      allowSystemInMessages: true,
      temperature: 0.7,
      maxOutputTokens: 64,
      stopSequences: ['\nObservation:'],
      seed: 11,
      maxRetries: 0,
      providerOptions: { agentr: { n: 3 } },
    });
    expect(recorded.bodies).toHaveLength(1);
    expect(recorded.bodies[0]).toEqual(sdkBodies[0]);
    expect(recorded.bodies[0]).toMatchObject({ n: 3, stop: ['\nObservation:'], max_tokens: 64 });
  });

  it("reports the model id the server answered with (the completion's `model`)", async () => {
    // vLLM echoes the requested name; OpenAI answers an alias with the snapshot it resolved to.
    expect((await client().chat.sample({ messages, n: 2, temperature: 1, seed: 1 })).model).toBe(
      'sim-policy',
    );
    const resolving = await startSimPolicy({
      latencyMs: 0,
      perTokenMs: 0,
      resolvedModel: 'acme/m-2026-12-01',
    });
    try {
      const chat = createChatClient({
        name: 'alias',
        baseUrl: `${resolving.url}/v1`,
        model: 'm',
        supportsN: false,
      });
      const result = await chat.sample({ messages, n: 2, temperature: 1, seed: 1 });
      expect(result.model).toBe('acme/m-2026-12-01');
    } finally {
      await resolving.close();
    }
  });

  it('is deterministic for the same seed and request', async () => {
    const a = await client().chat.sample({ messages, n: 4, temperature: 1, seed: 11 });
    const b = await client().chat.sample({ messages, n: 4, temperature: 1, seed: 11 });
    expect(b.texts).toEqual(a.texts);
    const greedy = await client().chat.sample({ messages, n: 1, temperature: 0 });
    expect(parseAction(greedy.texts[0]!)).toBe('get 1 oak logs');
  });

  it('sends n single requests with distinct seeds when n is not supported', async () => {
    const { chat, recorded } = client({ supportsN: false });
    const result = await chat.sample({ messages, n: 3, temperature: 1, seed: 100 });
    expect(result.texts).toHaveLength(3);
    expect(result.attempts).toBe(3);
    expect(recorded.bodies.map((b) => b.seed).sort()).toEqual([100, 101, 102]);
    for (const body of recorded.bodies) expect(body.n).toBeUndefined();
    const single = await createChatClient({
      name: 'x',
      baseUrl: `${sim.url}/v1`,
      model: 'sim-policy',
    }).sample({
      messages,
      n: 1,
      temperature: 1,
      seed: 101,
    });
    expect(result.texts).toContain(single.texts[0]);
    expect(result.usage.completionTokens).toBeGreaterThan(single.usage.completionTokens);
  });

  it('fills up choices a server silently dropped', async () => {
    const ignoringN: typeof fetch = async (url, init) => {
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      delete body.n;
      return fetch(url, { ...init, body: JSON.stringify(body) });
    };
    const chat = createChatClient(
      { name: 'sim', baseUrl: `${sim.url}/v1`, model: 'm' },
      { fetch: ignoringN },
    );
    const result = await chat.sample({ messages, n: 3, temperature: 1, seed: 5 });
    expect(result.texts).toHaveLength(3);
    expect(result.attempts).toBe(3);
  });

  it('sends the API key as a bearer token', async () => {
    const { chat, recorded } = client({ apiKey: 'sk-test' });
    await chat.sample({ messages });
    expect(recorded.headers[0]?.get('authorization')).toBe('Bearer sk-test');
  });

  it('retries a 500 with backoff', async () => {
    const { chat, recorded } = client({}, ['500']);
    const result = await chat.sample({ messages, n: 2, seed: 1 });
    expect(result.texts).toHaveLength(2);
    expect(result.attempts).toBe(2);
    expect(recorded.sleeps).toHaveLength(1);
    expect(recorded.sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(recorded.sleeps[0]).toBeLessThanOrEqual(500);
  });

  it('honours retry-after on 429 and 503', async () => {
    const { chat, recorded } = client({}, ['429', '503', '429']);
    const result = await chat.sample({ messages, seed: 2 });
    expect(result.attempts).toBe(4);
    expect(recorded.sleeps).toEqual([2000, 2000, 2000]);
  });

  it('times out a hung request and retries it', async () => {
    const { chat, recorded } = client({ timeoutMs: 150 }, ['hang']);
    const result = await chat.sample({ messages, seed: 4 });
    expect(result.attempts).toBe(2);
    expect(recorded.sleeps).toHaveLength(1);
  });

  it('gives up with a typed timeout error after maxAttempts', async () => {
    const { chat } = client({ timeoutMs: 100, retry: { maxAttempts: 2 } }, ['hang', 'hang']);
    const error = await chat.sample({ messages, seed: 4 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InferenceError);
    expect(error).toMatchObject({ kind: 'timeout', attempts: 2, endpoint: 'sim' });
    expect((error as Error).message).toMatch(/no answer within 100 ms.*gave up after 2 attempts/);
  });

  it('retries garbage and empty completions, then reports them', async () => {
    const recovered = await client({}, ['garbage', 'empty']).chat.sample({ messages, seed: 6 });
    expect(recovered.attempts).toBe(3);
    const garbage = await client({ retry: { maxAttempts: 2 } }, ['garbage', 'garbage'])
      .chat.sample({ messages, seed: 6 })
      .catch((e: unknown) => e);
    expect(garbage).toMatchObject({ kind: 'malformed', attempts: 2 });
    const empty = await client({ retry: { maxAttempts: 2 } }, ['empty', 'empty'])
      .chat.sample({ messages, seed: 6 })
      .catch((e: unknown) => e);
    expect(empty).toMatchObject({ kind: 'empty', attempts: 2 });
  });

  it('does not retry client errors', async () => {
    const { chat, recorded } = client();
    // sim-policy refuses n > 128 with HTTP 400.
    const error = await chat.sample({ messages, n: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'http', status: 400, attempts: 1 });
    expect(recorded.sleeps).toEqual([]);
    const local = await chat.sample({ messages: [] }).catch((e: unknown) => e);
    expect(local).toMatchObject({ kind: 'invalid-request', attempts: 1 });
    await expect(chat.sample({ messages, n: 0 })).rejects.toThrow(RangeError);
  });

  it('reports an unreachable endpoint as a network error', async () => {
    const closed = await startSimPolicy({ latencyMs: 0 });
    const url = `${closed.url}/v1`;
    await closed.close();
    const chat = createChatClient(
      { name: 'gone', baseUrl: url, model: 'm', retry: { maxAttempts: 3 } },
      { sleep: async () => {} },
    );
    const error = await chat.sample({ messages }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'network', attempts: 3, endpoint: 'gone' });
  });

  it('stops at once when the caller aborts', async () => {
    const { chat } = client({ timeoutMs: 10_000 }, ['hang', 'hang']);
    const controller = new AbortController();
    const pending = chat.sample({ messages, signal: controller.signal }).catch((e: unknown) => e);
    setTimeout(() => controller.abort(), 50);
    const error = await pending;
    expect(error).toMatchObject({ kind: 'aborted', attempts: 1 });
  });

  it('cancels the other parallel requests when one fails for good', async () => {
    const { chat } = client({ supportsN: false, timeoutMs: 10_000, retry: { maxAttempts: 1 } }, [
      'hang',
      '500',
    ]);
    const started = Date.now();
    const error = await chat.sample({ messages, n: 2 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'server', status: 500 });
    // The hung sibling was aborted rather than waited for (its timeout is 10 s).
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe('concurrency limits', () => {
  it('a gate at maxConcurrency keeps the endpoint at or below it', async () => {
    const slow = await startSimPolicy({ latencyMs: 20, perTokenMs: 0, capacity: 32 });
    try {
      const chat = createChatClient({
        name: 'slow',
        baseUrl: `${slow.url}/v1`,
        model: 'm',
        maxConcurrency: 3,
      });
      const gate = createLocalGate(chat.endpoint.maxConcurrency);
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => gate.run(() => chat.sample({ messages, seed: i, n: 2 }))),
      );
      expect(results.every((r) => r.texts.length === 2)).toBe(true);
      const stats = slow.stats();
      expect(stats.requests).toBe(24);
      expect(stats.maxInFlight).toBeLessThanOrEqual(3);
      expect(stats.maxInFlight).toBeGreaterThanOrEqual(2);
    } finally {
      await slow.close();
    }
  });

  it('sim-policy itself serves at most capacity requests and queues the rest', async () => {
    const small = await startSimPolicy({ latencyMs: 20, perTokenMs: 0, capacity: 2 });
    try {
      const chat = createChatClient({ name: 'small', baseUrl: `${small.url}/v1`, model: 'm' });
      await Promise.all(Array.from({ length: 8 }, (_, i) => chat.sample({ messages, seed: i })));
      const stats = small.stats();
      expect(stats.maxInFlight).toBe(2);
      expect(stats.maxQueued).toBeGreaterThan(0);
      expect(stats.served).toBe(8);
      expect(stats.busyMs).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  });
});
