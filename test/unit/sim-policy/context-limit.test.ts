import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseContextLengthError } from '../../../shared/inference/context-errors';
import { estimateTokens } from '../../../shared/prompts/policy-messages';
import { type SimPolicyServer, startSimPolicy } from '../../../cli/sim-policy/server';
import { simPromptTokens, simTokenCount } from '../../../cli/sim-policy/tokenizer';

let limited: SimPolicyServer;
let plain: SimPolicyServer;
beforeAll(async () => {
  limited = await startSimPolicy({ latencyMs: 0, perTokenMs: 0, contextLimit: 300 });
  plain = await startSimPolicy({
    latencyMs: 0,
    perTokenMs: 0,
    contextLimit: 300,
    tokenize: false,
    reportMaxModelLen: false,
  });
});
afterAll(async () => {
  await Promise.all([limited.close(), plain.close()]);
});

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('sim-policy as a server with a context length', () => {
  it('counts like a tokenizer, not 4 characters per token', () => {
    const prose = 'You are in the middle of a room. Looking quickly around you, you see a cabinet.';
    const ids = 'item 4f3a-99b1-0c2e, price $12.99, asin B07ZJ8Q2X1; [SEP] 1234567';
    expect(simTokenCount(prose)).toBeLessThanOrEqual(estimateTokens(prose) + 4);
    // Ids, numbers and punctuation: far more tokens than the 4-characters estimate.
    expect(simTokenCount(ids)).toBeGreaterThan(estimateTokens(ids) * 1.5);
  });

  it('reports max_model_len in /v1/models and counts on POST /tokenize', async () => {
    const models = (await (await fetch(`${limited.url}/v1/models`)).json()) as {
      data: { max_model_len?: number }[];
    };
    expect(models.data[0]!.max_model_len).toBe(300);
    const messages = [{ role: 'user', content: 'craft 4 oak planks using 1 oak logs' }];
    const res = await post(`${limited.url}/tokenize`, { model: 'sim-policy', messages });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ count: simPromptTokens(messages), max_model_len: 300 });
    const prompt = await (
      await post(`${limited.url}/tokenize`, { model: 'sim-policy', prompt: 'abc 123' })
    ).json();
    expect(prompt).toMatchObject({ count: simTokenCount('abc 123') });
  });

  it("refuses an over-long request with vLLM's exact 400 body", async () => {
    const messages = [{ role: 'user', content: 'x '.repeat(200) }];
    const res = await post(`${limited.url}/v1/chat/completions`, {
      model: 'sim-policy',
      messages,
      max_tokens: 100,
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    const prompt = simPromptTokens(messages);
    expect(JSON.parse(text)).toEqual({
      error: {
        message: `This model's maximum context length is 300 tokens. However, you requested 100 output tokens and your prompt contains ${prompt} input tokens, for a total of ${prompt + 100} tokens. Please reduce the length of the input prompt or the number of requested output tokens. (parameter=input_tokens, value=${prompt})`,
        type: 'BadRequestError',
        param: 'input_tokens',
        code: 400,
      },
    });
    expect(parseContextLengthError(400, text)).toMatchObject({
      limit: 300,
      promptTokens: prompt,
      completionTokens: 100,
    });
    expect(limited.stats().contextRefusals).toBe(1);
    const ok = await post(`${limited.url}/v1/chat/completions`, {
      model: 'sim-policy',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 100,
    });
    expect(ok.status).toBe(200);
  });

  it('can be a server without /tokenize and without max_model_len', async () => {
    expect((await post(`${plain.url}/tokenize`, { prompt: 'a' })).status).toBe(404);
    const models = (await (await fetch(`${plain.url}/v1/models`)).json()) as {
      data: Record<string, unknown>[];
    };
    expect(models.data[0]).not.toHaveProperty('max_model_len');
  });
});
