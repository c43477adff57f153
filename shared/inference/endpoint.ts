import { z } from 'zod';

/** How failed requests are retried (our own loop; the SDK's retries are off). */
export const retryPolicySchema = z.object({
  /** Total attempts per request, the first included. */
  maxAttempts: z.number().int().min(1).max(20).default(4),
  baseDelayMs: z.number().int().nonnegative().default(500),
  maxDelayMs: z.number().int().nonnegative().default(8_000),
  /** A server's `retry-after` is honoured up to this much waiting. */
  maxRetryAfterMs: z.number().int().nonnegative().default(60_000),
});
export type RetryPolicy = z.infer<typeof retryPolicySchema>;

/** Sampling settings used when a request does not give its own. */
export const samplingDefaultsSchema = z.object({
  temperature: z.number().min(0).max(2).default(1),
  maxTokens: z.number().int().positive().default(500),
  stop: z.array(z.string()).default([]),
});

/**
 * A named OpenAI-compatible inference endpoint (vLLM, SGLang, TGI, a hosted API, sim-policy).
 * `apiKey` is write-only: stored encrypted (shared/crypto/secret-box.ts), never returned.
 */
export const endpointSchema = z.object({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
  /** Up to the version prefix, e.g. `http://127.0.0.1:8000/v1`; `/chat/completions` is appended. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  model: z.string().min(1),
  apiKey: z.string().min(1).optional(),
  /** In-flight requests allowed across all runs (enforced by the EndpointGate). */
  maxConcurrency: z.number().int().min(1).max(4096).default(8),
  /** Whether one request with `n` returns n choices; if not, n requests are sent. */
  supportsN: z.boolean().default(true),
  /** Per attempt; the attempt is aborted and retried after this long. */
  timeoutMs: z.number().int().positive().default(60_000),
  retry: retryPolicySchema.prefault({}),
  defaults: samplingDefaultsSchema.prefault({}),
});
export type Endpoint = z.infer<typeof endpointSchema>;
/** What callers may write: everything with a default is optional. */
export type EndpointInput = z.input<typeof endpointSchema>;

/** The record as shown to users: the key replaced by whether one is set. */
export type PublicEndpoint = Omit<Endpoint, 'apiKey'> & { hasApiKey: boolean };

export function toPublicEndpoint(endpoint: Endpoint): PublicEndpoint {
  const { apiKey, ...rest } = endpoint;
  return { ...rest, hasApiKey: apiKey !== undefined };
}

export function parseEndpoint(input: EndpointInput): Endpoint {
  return endpointSchema.parse(input);
}
