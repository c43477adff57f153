import type { ContextLengthInfo } from './context-errors';

/** Why an inference request failed; `retryable` kinds are retried by the chat client. */
export type InferenceErrorKind =
  | 'rate-limited' // HTTP 429
  | 'server' // HTTP 5xx
  | 'http' // other HTTP errors (400, 401, 404, ...): a caller or configuration problem
  | 'context-length' // the prompt (+ max tokens) is over the model's context: shrink and send again
  | 'invalid-request' // refused before sending (e.g. an empty message list)
  | 'network' // connection refused/reset, DNS
  | 'timeout' // no answer within the endpoint's timeoutMs
  | 'malformed' // a 2xx answer that is not a valid chat completion
  | 'empty' // a valid answer with an empty completion
  | 'aborted'; // the caller's signal fired

const retryableKinds: ReadonlySet<InferenceErrorKind> = new Set([
  'rate-limited',
  'server',
  'network',
  'timeout',
  'malformed',
  'empty',
]);

export interface InferenceErrorDetails {
  kind: InferenceErrorKind;
  endpoint: string;
  status?: number;
  /** Milliseconds the server asked us to wait (`retry-after`). */
  retryAfterMs?: number;
  attempts?: number;
  cause?: unknown;
  /** For `context-length`: the numbers the server's refusal states. */
  context?: ContextLengthInfo;
}

export class InferenceError extends Error {
  readonly kind: InferenceErrorKind;
  readonly endpoint: string;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number;
  readonly context: ContextLengthInfo | undefined;

  constructor(message: string, details: InferenceErrorDetails) {
    super(message, { cause: details.cause });
    this.name = 'InferenceError';
    this.kind = details.kind;
    this.endpoint = details.endpoint;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 1;
    this.context = details.context;
  }

  get retryable(): boolean {
    return retryableKinds.has(this.kind);
  }

  /** The same error, reporting how many attempts were made in total. */
  withAttempts(attempts: number): InferenceError {
    const text = `${this.message} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`;
    return new InferenceError(text, {
      kind: this.kind,
      endpoint: this.endpoint,
      status: this.status,
      retryAfterMs: this.retryAfterMs,
      attempts,
      cause: this.cause,
      context: this.context,
    });
  }
}

export function isInferenceError(error: unknown): error is InferenceError {
  return error instanceof InferenceError;
}
