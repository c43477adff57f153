import { describe, expect, it } from 'vitest';
import { endpointSchema, parseEndpoint, toPublicEndpoint } from '../../../shared/inference/endpoint';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../../shared/inference/retry-delay';
import { createRng } from '../../../shared/random';

describe('endpoint record', () => {
  it('fills defaults', () => {
    const endpoint = parseEndpoint({ name: 'sim', baseUrl: 'http://127.0.0.1:1234/v1', model: 'sim-policy' });
    expect(endpoint).toEqual({
      name: 'sim',
      baseUrl: 'http://127.0.0.1:1234/v1',
      model: 'sim-policy',
      maxConcurrency: 8,
      supportsN: true,
      timeoutMs: 60_000,
      retry: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 },
      defaults: { temperature: 1, maxTokens: 500, stop: [] },
    });
  });

  it('keeps partial nested settings and rejects bad records', () => {
    const endpoint = parseEndpoint({
      name: 'vllm-1',
      baseUrl: 'https://gpu.example/v1',
      model: 'm',
      retry: { maxAttempts: 2 },
      defaults: { stop: ['<|eot_id|>'] },
    });
    expect(endpoint.retry).toEqual({
      maxAttempts: 2,
      baseDelayMs: 500,
      maxDelayMs: 8_000,
      maxRetryAfterMs: 60_000,
    });
    expect(endpoint.defaults).toEqual({ temperature: 1, maxTokens: 500, stop: ['<|eot_id|>'] });
    expect(endpointSchema.safeParse({ name: 'x', baseUrl: 'ftp://a', model: 'm' }).success).toBe(false);
    expect(endpointSchema.safeParse({ name: 'has space', baseUrl: 'http://a', model: 'm' }).success).toBe(
      false,
    );
    expect(
      endpointSchema.safeParse({ name: 'x', baseUrl: 'http://a', model: 'm', maxConcurrency: 0 }).success,
    ).toBe(false);
  });

  it('never shows the key publicly', () => {
    const endpoint = parseEndpoint({ name: 'x', baseUrl: 'http://a/v1', model: 'm', apiKey: 'secret' });
    const shown = toPublicEndpoint(endpoint);
    expect(JSON.stringify(shown)).not.toContain('secret');
    expect(shown.hasApiKey).toBe(true);
  });
});

describe('retry delays', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it('parses retry-after seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with bounded jitter', () => {
    const random = createRng(1).next;
    for (let retry = 1; retry <= 8; retry++) {
      const cap = Math.min(1000, 100 * 2 ** (retry - 1));
      const delay = backoffDelay(retry, policy, random);
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThanOrEqual(cap);
    }
  });

  it('lets retry-after win, within its bound', () => {
    const random = createRng(1).next;
    expect(retryDelay(1, policy, random, 3000)).toBe(3000);
    expect(retryDelay(1, policy, random, 60_000)).toBe(5000);
  });
});
