import { EnvError, type EnvErrorKind } from './errors';

/** Bounded exponential backoff; `maxAttempts` counts the first try. */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 4_000 };
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface TransportOptions {
  baseUrl: string;
  /** Per attempt, covering connect, headers and body. */
  timeoutMs: number;
  retry: RetryPolicy;
  fetch?: typeof fetch;
}

/**
 * How safe it is to send a request again when we cannot tell whether the server ran it.
 * `idempotent` (reset, create, close, reads): any connection error, timeout or 5xx is retried.
 * `at-most-once` (step): only failures where the request surely never ran (connection
 * refused, 503) are retried; re-sending a step that may have run would apply it twice.
 */
export type RequestSafety = 'idempotent' | 'at-most-once';

export interface JsonRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number>;
  /** JSON body; `undefined` sends no body at all (SciWorld's and WebShop's /create). */
  body?: unknown;
  safety: RequestSafety;
  /** Also retry `HTTP 200 {"error": ...}` answers (only where the error can be transient). */
  retryErrorBodies?: boolean;
  /** Statuses returned to the caller instead of failing (e.g. 404 from a /close that does not exist). */
  acceptStatus?: readonly number[];
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export interface JsonTransport {
  readonly baseUrl: string;
  request(request: JsonRequest): Promise<JsonResponse>;
}

/** One failed attempt, before deciding whether to try again. */
interface AttemptFailure {
  kind: EnvErrorKind;
  message: string;
  /** Whether the server may have acted on the request. */
  maybeDelivered: boolean;
  transient: boolean;
  status?: number;
  cause?: unknown;
}

// Network error codes that mean nothing reached the server (safe to resend even a step).
const NOT_DELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function createJsonTransport(options: TransportOptions): JsonTransport {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const maxAttempts = Math.max(1, Math.floor(options.retry.maxAttempts));

  async function attempt(request: JsonRequest): Promise<JsonResponse | AttemptFailure> {
    const url = buildUrl(baseUrl, request);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const init: RequestInit = { method: request.method, signal: controller.signal };
      if (request.body !== undefined) {
        init.headers = { 'content-type': 'application/json' };
        init.body = JSON.stringify(request.body);
      }
      const response = await doFetch(url, init);
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (controller.signal.aborted) {
        return {
          kind: 'timeout',
          message: `no answer within ${options.timeoutMs} ms`,
          maybeDelivered: true,
          transient: true,
          cause: error,
        };
      }
      const code = networkErrorCode(error);
      return {
        kind: 'unavailable',
        message: `cannot reach the server (${code ?? describe(error)})`,
        maybeDelivered: code === undefined || !NOT_DELIVERED_CODES.has(code),
        transient: true,
        cause: error,
      };
    } finally {
      clearTimeout(timer);
    }
    return interpret(request, status, text);
  }

  async function request(request: JsonRequest): Promise<JsonResponse> {
    const endpoint = `${request.method} ${request.path}`;
    let last: AttemptFailure | undefined;
    for (let attemptNo = 1; attemptNo <= maxAttempts; attemptNo++) {
      const outcome = await attempt(request);
      if (!isFailure(outcome)) return outcome;
      last = outcome;
      const retryable = outcome.transient && (request.safety === 'idempotent' || !outcome.maybeDelivered);
      if (!retryable) {
        throw new EnvError(finalMessage(outcome, attemptNo, false, request), {
          kind: outcome.kind,
          server: baseUrl,
          endpoint,
          status: outcome.status,
          attempts: attemptNo,
          cause: outcome.cause,
        });
      }
      if (attemptNo < maxAttempts) await sleep(backoffDelayMs(attemptNo, options.retry));
    }
    const failure = last!;
    throw new EnvError(finalMessage(failure, maxAttempts, true, request), {
      kind: failure.kind === 'server-error' ? 'unavailable' : failure.kind,
      server: baseUrl,
      endpoint,
      status: failure.status,
      attempts: maxAttempts,
      cause: failure.cause,
    });
  }

  return { baseUrl, request };
}

function interpret(request: JsonRequest, status: number, text: string): JsonResponse | AttemptFailure {
  if (request.acceptStatus?.includes(status)) return { status, body: parseJsonOrText(text) };
  if (status >= 500) {
    return {
      kind: 'server-error',
      message: `HTTP ${status} ${excerpt(text)}`,
      // 503 means "not now" (WebShop's client retries exactly this); other 5xx may follow a half-done action.
      maybeDelivered: status !== 503,
      transient: true,
      status,
    };
  }
  if (status < 200 || status >= 300) {
    return {
      kind: 'protocol',
      message: `HTTP ${status} ${excerpt(text)}`,
      maybeDelivered: true,
      transient: false,
      status,
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return {
      kind: 'protocol',
      message: `HTTP ${status} with a body that is not JSON: ${excerpt(text)}`,
      maybeDelivered: true,
      transient: false,
      status,
      cause: error,
    };
  }
  const serverError = errorBodyMessage(body);
  if (serverError !== undefined) {
    return {
      kind: classifyServerError(serverError),
      message: `the server answered {"error": ${JSON.stringify(serverError)}}`,
      maybeDelivered: true,
      transient: request.retryErrorBodies === true,
      status,
    };
  }
  return { status, body };
}

/** TextCraft and SciWorld report failures as HTTP 200 `{"error": "..."}`. */
export function errorBodyMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const error = (body as Record<string, unknown>).error;
  if (error === undefined) return undefined;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

// Message texts of the servers' id check (agentenv-textcraft env_wrapper.py, agentenv-sciworld environment.py).
const INVALID_ID_PATTERNS = [
  /^The id -?\d+ is not valid\.$/,
  /^The task with environment -?\d+ has been deleted\.$/,
];

function classifyServerError(message: string): EnvErrorKind {
  return INVALID_ID_PATTERNS.some((pattern) => pattern.test(message)) ? 'invalid-id' : 'env-error';
}

function finalMessage(
  failure: AttemptFailure,
  attempts: number,
  exhausted: boolean,
  request: JsonRequest,
): string {
  if (exhausted && attempts > 1) {
    const down = failure.kind === 'unavailable' || failure.kind === 'server-error';
    const what = failure.kind === 'timeout' ? 'kept timing out' : down ? 'stayed down' : 'kept failing';
    return `the server ${what}: ${attempts} attempts failed (last: ${failure.message})`;
  }
  if (!failure.transient || !failure.maybeDelivered || request.safety === 'idempotent')
    return failure.message;
  return `${failure.message}; not retried because the server may have applied it (reset the env before stepping again)`;
}

export function backoffDelayMs(attemptNo: number, retry: RetryPolicy): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attemptNo - 1));
  // Equal jitter: spreads retries of many workers hitting the same restarted server.
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function isFailure(outcome: JsonResponse | AttemptFailure): outcome is AttemptFailure {
  return 'maybeDelivered' in outcome;
}

function buildUrl(baseUrl: string, request: JsonRequest): string {
  const query = request.query
    ? `?${new URLSearchParams(Object.entries(request.query).map(([k, v]) => [k, String(v)])).toString()}`
    : '';
  return `${baseUrl}${request.path}${query}`;
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
