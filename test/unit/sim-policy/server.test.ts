import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instructionFor } from '../../../shared/prompts/instructions';
import { buildPolicyMessages } from '../../../shared/prompts/policy-messages';
import { buildVerifierMessages } from '../../../shared/prompts/verifier';
import { type SimPolicyServer, startSimPolicy } from '../../../cli/sim-policy/server';

const firstObservation =
  'Crafting commands:\ncraft 3 paper using 3 sugar cane\ncraft 1 sugar using 1 sugar cane\n\nGoal: craft paper.';
const messages = buildPolicyMessages({
  preset: 'agentgym',
  instruction: instructionFor('textcraft'),
  firstObservation,
  steps: [],
});

let sim: SimPolicyServer;
beforeAll(async () => {
  sim = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, seed: 5, faults: { '5xx': 0.5 } });
});
afterAll(async () => {
  await sim.close();
});

/** Configured faults are switched off per request unless the caller passes its own headers. */
async function post(body: unknown, headers: Record<string, string> = { 'x-sim-fault': 'none' }) {
  const res = await fetch(`${sim.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('sim-policy HTTP API', () => {
  it('answers in the OpenAI chat-completion shape', async () => {
    const res = await post({ model: 'sim-policy', messages, n: 2, temperature: 0, max_tokens: 100 });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ object: 'chat.completion', model: 'sim-policy' });
    expect(body.choices).toHaveLength(2);
    expect(body.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content:
          'Thought: I need 3 sugar cane to craft paper. Sugar cane is not craftable, so I should get it.\nAction: get 3 sugar cane',
      },
      finish_reason: 'stop',
      logprobs: null,
    });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('applies stop sequences and max_tokens', async () => {
    const stopped = JSON.parse((await post({ messages, temperature: 0, stop: ['\nAction:'] })).text);
    expect(stopped.choices[0].message.content).not.toContain('Action:');
    const short = JSON.parse((await post({ messages, temperature: 0, max_tokens: 3 })).text);
    expect(short.choices[0].finish_reason).toBe('length');
    expect(short.choices[0].message.content.length).toBeLessThanOrEqual(12);
  });

  it('lists its model and refuses bad requests', async () => {
    const models = await (await fetch(`${sim.url}/v1/models`)).json();
    expect(models.data[0].id).toBe('sim-policy');
    expect((await post({ messages: [] })).status).toBe(400);
    const raw = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    expect(raw.status).toBe(400);
    expect((await fetch(`${sim.url}/nowhere`)).status).toBe(404);
  });

  it('is deterministic per (seed, body) and draws choices independently', async () => {
    const body = { messages, n: 6, temperature: 1.5, seed: 9 };
    const a = JSON.parse((await post(body)).text);
    const b = JSON.parse((await post(body)).text);
    expect(b.choices).toEqual(a.choices);
    const contents = a.choices.map((c: { message: { content: string } }) => c.message.content);
    expect(new Set(contents).size).toBeGreaterThan(1);
    const other = JSON.parse((await post({ ...body, seed: 10 })).text);
    expect(other.choices).not.toEqual(a.choices);
  });

  it('answers verifier prompts with a judgement', async () => {
    const verifier = buildVerifierMessages({
      taskDescription: firstObservation,
      history: [],
      current: { action: 'get 3 paper', observation: 'Could not find paper' },
    });
    const body = JSON.parse((await post({ messages: verifier, temperature: 1, seed: 1 })).text);
    expect(body.choices[0].message.content).toMatch(/Judgment: (Good|Bad|Uncertain)$/);
  });

  /** Sends 12 requests, each retried until it succeeds; returns the statuses per request. */
  async function retryAll(server: SimPolicyServer): Promise<number[][]> {
    const statuses: number[][] = [];
    for (let i = 0; i < 12; i++) {
      const tries: number[] = [];
      for (let attempt = 0; attempt < 8; attempt++) {
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify({ messages, seed: 1000 + i }),
        });
        await res.text();
        tries.push(res.status);
        if (res.status === 200) break;
      }
      statuses.push(tries);
    }
    return statuses;
  }

  it('injects configured faults deterministically, differently on each retry, and counts them', async () => {
    sim.resetStats();
    const statuses = await retryAll(sim);
    // With a 50 % rate some first attempts fail, and every request eventually gets through.
    expect(statuses.some((t) => t[0] !== 200)).toBe(true);
    expect(statuses.every((t) => t[t.length - 1] === 200)).toBe(true);
    for (const t of statuses) for (const s of t.slice(0, -1)) expect([500, 503]).toContain(s);
    const failures = statuses.reduce((sum, t) => sum + t.length - 1, 0);
    const stats = (await (await fetch(`${sim.url}/stats`)).json()) as {
      faults: Record<string, number>;
      requests: number;
    };
    expect(stats.faults['5xx']).toBe(failures);
    expect(stats.requests).toBe(failures + 12);
    // A fresh server with the same seed and rates fails the same requests the same way.
    const twin = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, seed: 5, faults: { '5xx': 0.5 } });
    try {
      expect(await retryAll(twin)).toEqual(statuses);
    } finally {
      await twin.close();
    }
  });

  it('honours the x-sim-fault header and reports stats', async () => {
    await fetch(`${sim.url}/stats/reset`, { method: 'POST' });
    const limited = await post({ messages }, { 'x-sim-fault': '429' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const garbage = await post({ messages }, { 'x-sim-fault': 'garbage' });
    expect(garbage.status).toBe(200);
    expect(() => JSON.parse(garbage.text)).toThrow();
    const empty = JSON.parse((await post({ messages }, { 'x-sim-fault': 'empty' })).text);
    expect(empty.choices[0].message.content).toBe('');
    const hung = new AbortController();
    const hanging = fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-sim-fault': 'hang' },
      body: JSON.stringify({ messages }),
      signal: hung.signal,
    }).catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 50));
    hung.abort();
    expect(await hanging).toBe('aborted');
    const stats = await (await fetch(`${sim.url}/stats`)).json();
    expect(stats).toMatchObject({
      requests: 4,
      faults: { '5xx': 0, '429': 1, hang: 1, garbage: 1, empty: 1 },
      capacity: 32,
      inFlight: 0,
      queued: 0,
    });
    expect(stats.utilisation).toBeGreaterThanOrEqual(0);
  });
});

describe('sim-policy GPU model', () => {
  it('measures busy time from latency and tokens', async () => {
    const slow = await startSimPolicy({ latencyMs: 30, perTokenMs: 0, capacity: 4 });
    try {
      await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          fetch(`${slow.url}/v1/chat/completions`, {
            method: 'POST',
            body: JSON.stringify({ messages, seed: i }),
          }),
        ),
      );
      const stats = slow.stats();
      expect(stats.served).toBe(4);
      expect(stats.busyMs).toBeGreaterThanOrEqual(4 * 25);
      expect(stats.maxInFlight).toBeLessThanOrEqual(4);
    } finally {
      await slow.close();
    }
  });
});

describe('sim-policy served-request spans', () => {
  it('lists each request it served since the reset as [start, end] in epoch ms', async () => {
    await fetch(`${sim.url}/stats/reset`, { method: 'POST' });
    const before = Date.now();
    for (let i = 0; i < 2; i++) expect((await post({ messages })).status).toBe(200);
    const after = Date.now();
    const { spans } = (await (await fetch(`${sim.url}/stats/spans`)).json()) as { spans: number[][] };
    expect(spans).toHaveLength(2);
    for (const [start, end] of spans) {
      expect(start).toBeGreaterThanOrEqual(before);
      expect(end).toBeGreaterThanOrEqual(start!);
      expect(end).toBeLessThanOrEqual(after);
    }
    await fetch(`${sim.url}/stats/reset`, { method: 'POST' });
    expect(((await (await fetch(`${sim.url}/stats/spans`)).json()) as { spans: unknown[] }).spans).toEqual(
      [],
    );
  });
});
