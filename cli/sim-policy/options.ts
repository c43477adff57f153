import { z } from 'zod';
import { faultRatesSchema } from './faults';
import { allMistakeKinds, mistakeKindSchema } from './mistakes';

/** Everything sim-policy can be configured with (CLI flags map onto these). */
export const simPolicyOptionsSchema = z.object({
  /** 0 picks a free port. The server only ever listens on 127.0.0.1. */
  port: z.number().int().min(0).max(65535).default(0),
  model: z.string().min(1).default('sim-policy'),
  /**
   * Whose tokenizer counts the prompts (default: `model`'s): a Llama 3 or GPT id counts with that
   * family's real tokenizer, any other with sim-policy's own. Set apart from `model`, the server
   * is one that serves a model under another name and does not say which (no card `root`).
   */
  tokenizerModel: z.string().min(1).optional(),
  /** Mixed into every draw: same seed + same request body = same answer. */
  seed: z.number().int().default(0),
  /** GPU model: fixed time per request plus time per generated token, `capacity` at once. */
  latencyMs: z.number().min(0).default(150),
  perTokenMs: z.number().min(0).default(2),
  capacity: z.number().int().min(1).default(32),
  /** Policy: mistake probability per step at temperature 1, and at temperature 0. */
  errorRate: z.number().min(0).max(1).default(0.25),
  errorRateAtZero: z.number().min(0).max(1).default(0),
  mistakes: z.array(mistakeKindSchema).default([...allMistakeKinds]),
  /** Probability that a verifier answer is right. */
  judgeAccuracy: z.number().min(0).max(1).default(0.9),
  faults: faultRatesSchema.prefault({}),
  /** `retry-after` sent with 429 (and 503) answers. */
  retryAfterSeconds: z.number().int().min(0).default(1),
  /** A hung request is answered with 504 after this long (unless the client gave up first). */
  hangMs: z.number().int().positive().default(300_000),
  /**
   * The model's context length (prompt + max tokens), as vLLM's `--max-model-len`: a longer request
   * gets vLLM's 400 refusal; reported by /v1/models and /tokenize. Unset: no limit.
   */
  contextLimit: z.number().int().min(64).optional(),
  /** Serve vLLM's `POST /tokenize` (off: the route answers 404, as on SGLang or a hosted API). */
  tokenize: z.boolean().default(true),
  /** Report `max_model_len` in /v1/models (off: the field is absent, as on most servers). */
  reportMaxModelLen: z.boolean().default(true),
  /**
   * The `model` of every completion: off, the requested name is echoed (as vLLM does); on, this id
   * (as OpenAI answers an alias with the snapshot it resolved to). /v1/models lists it too.
   */
  resolvedModel: z.string().min(1).optional(),
});
export type SimPolicyOptions = z.infer<typeof simPolicyOptionsSchema>;
export type SimPolicyOptionsInput = z.input<typeof simPolicyOptionsSchema>;
