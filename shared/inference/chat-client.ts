import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, InvalidArgumentError, InvalidPromptError } from 'ai';
import type { ChatMessage } from '../chat';
import { readCompletionBody } from './completion-body';
import { parseContextLengthError } from './context-errors';
import { type Endpoint, type EndpointInput, endpointSchema } from './endpoint';
import { InferenceError } from './inference-error';
import { httpFailureReason } from '../outbound/reasons';
import { abortableSleep, parseRetryAfter, retryDelay } from './retry-delay';
import { createRng, hashToSeed } from '../random';

export interface SampleRequest {
  messages: ChatMessage[];
  /** Number of completions wanted (default 1). */
  n?: number;
  temperature?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  signal?: AbortSignal;
}

export interface SampleResult {
  /** Exactly n completion texts, in choice order. */
  texts: string[];
  finishReasons: (string | null)[];
  usage: { promptTokens: number; completionTokens: number };
  /** HTTP attempts made in total (all parallel requests and retries). */
  attempts: number;
  /** The model id the server reported in its completion (`model`), when it did. */
  model?: string;
}

export interface ChatClient {
  readonly endpoint: Endpoint;
  sample(request: SampleRequest): Promise<SampleResult>;
}

export interface ChatClientOptions {
  /** Replaces the global fetch (tests count or alter requests with it). */
  fetch?: typeof fetch;
  /** Waits between retries; tests record the delays instead of waiting. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of retry jitter and of seeds when none is given; seeded per endpoint by default. */
  random?: () => number;
}

/** The provider name is also the providerOptions key whose fields are merged into the body. */
const PROVIDER_NAME = 'agentr';

type ChatModel = ReturnType<ReturnType<typeof createOpenAICompatible>['chatModel']>;
type ModelPrompt = Parameters<ChatModel['doGenerate']>[0]['prompt'];

/**
 * Our messages in the provider's prompt format (the AI SDK's LanguageModelV3 prompt): what
 * `generateText` would build from them, without its per-call zod validation of the messages,
 * telemetry spans and step loop (a third of the SDK's CPU per call in a build's profile). The
 * provider turns a one-text-part message back into a string `content`, so the request body is the
 * same. Checks what `generateText` would have refused before sending.
 */
export function toModelPrompt(messages: readonly ChatMessage[]): ModelPrompt {
  if (messages.length === 0)
    throw new InvalidPromptError({ prompt: messages, message: 'messages must not be empty' });
  return messages.map((m): ModelPrompt[number] => {
    if (typeof m.content !== 'string')
      throw new InvalidPromptError({ prompt: messages, message: `a ${m.role} message has no text content` });
    if (m.role === 'system') return { role: 'system', content: m.content };
    if (m.role === 'user' || m.role === 'assistant')
      return { role: m.role, content: [{ type: 'text', text: m.content }] };
    throw new InvalidPromptError({
      prompt: messages,
      message: `unknown message role ${JSON.stringify(m.role)}`,
    });
  });
}

/** The call settings `generateText` validates (prepareCallSettings), refused the same way. */
function checkSettings(maxOutputTokens: number, temperature: number, seed: number | undefined): void {
  const refuse = (parameter: string, value: unknown, message: string) => {
    throw new InvalidArgumentError({ parameter, value, message });
  };
  if (!Number.isInteger(maxOutputTokens) || maxOutputTokens < 1)
    refuse('maxOutputTokens', maxOutputTokens, 'maxOutputTokens must be an integer >= 1');
  if (typeof temperature !== 'number' || Number.isNaN(temperature))
    refuse('temperature', temperature, 'temperature must be a number');
  if (seed !== undefined && !Number.isInteger(seed)) refuse('seed', seed, 'seed must be an integer');
}

interface OneCall {
  texts: string[];
  finishReasons: (string | null)[];
  promptTokens: number;
  completionTokens: number;
  model: string | undefined;
}

export function createChatClient(
  endpointInput: EndpointInput | Endpoint,
  options: ChatClientOptions = {},
): ChatClient {
  const endpoint = endpointSchema.parse(endpointInput);
  const provider = createOpenAICompatible({
    name: PROVIDER_NAME,
    baseURL: endpoint.baseUrl.replace(/\/+$/, ''),
    apiKey: endpoint.apiKey,
    fetch: options.fetch,
  });
  const model = provider.chatModel(endpoint.model);
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? createRng(hashToSeed('chat-client', endpoint.name)).next;
  const label = `endpoint "${endpoint.name}"`;

  /** One HTTP request, aborted after timeoutMs; every failure becomes an InferenceError. */
  async function callOnce(request: SampleRequest, n: number, seed: number | undefined, signal: AbortSignal) {
    const attempt = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error('timeout'));
    }, endpoint.timeoutMs);
    const forwardAbort = () => attempt.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    try {
      const stop = request.stop ?? endpoint.defaults.stop;
      const temperature = request.temperature ?? endpoint.defaults.temperature;
      const maxOutputTokens = request.maxTokens ?? endpoint.defaults.maxTokens;
      checkSettings(maxOutputTokens, temperature, seed);
      // The provider's model called directly (one HTTP request, no SDK retries: ours are below).
      const result = await model.doGenerate({
        prompt: toModelPrompt(request.messages),
        temperature,
        maxOutputTokens,
        stopSequences: stop.length > 0 ? stop : undefined,
        seed,
        abortSignal: attempt.signal,
        providerOptions: n > 1 ? { [PROVIDER_NAME]: { n } } : undefined,
      });
      const body = readCompletionBody(result.response?.body);
      if (body === null) {
        throw new InferenceError(`${label}: the answer is not a chat completion`, {
          kind: 'malformed',
          endpoint: endpoint.name,
        });
      }
      if (body.texts.some((text) => text.trim() === '')) {
        throw new InferenceError(`${label}: the model returned an empty completion`, {
          kind: 'empty',
          endpoint: endpoint.name,
        });
      }
      return {
        texts: body.texts,
        finishReasons: body.finishReasons,
        promptTokens: body.promptTokens ?? result.usage.inputTokens.total ?? 0,
        completionTokens: body.completionTokens ?? result.usage.outputTokens.total ?? 0,
        model: body.model,
      } satisfies OneCall;
    } catch (error) {
      if (error instanceof InferenceError) throw error;
      if (signal.aborted) {
        throw new InferenceError(`${label}: request cancelled`, {
          kind: 'aborted',
          endpoint: endpoint.name,
          cause: error,
        });
      }
      if (timedOut) {
        throw new InferenceError(`${label}: no answer within ${endpoint.timeoutMs} ms`, {
          kind: 'timeout',
          endpoint: endpoint.name,
          cause: error,
        });
      }
      throw classifyError(error, endpoint.name, label);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forwardAbort);
    }
  }

  /** Bounded retries of one logical request; `counter.attempts` counts every HTTP attempt. */
  async function withRetries(
    request: SampleRequest,
    n: number,
    seed: number | undefined,
    signal: AbortSignal,
    counter: { attempts: number },
  ): Promise<OneCall> {
    for (let attempt = 1; ; attempt++) {
      counter.attempts += 1;
      try {
        return await callOnce(request, n, seed, signal);
      } catch (error) {
        const failure = error as InferenceError;
        if (!failure.retryable || attempt >= endpoint.retry.maxAttempts) throw failure.withAttempts(attempt);
        const wait = retryDelay(attempt, endpoint.retry, random, failure.retryAfterMs);
        try {
          await sleep(wait, signal);
        } catch (cause) {
          throw new InferenceError(`${label}: request cancelled`, {
            kind: 'aborted',
            endpoint: endpoint.name,
            cause,
          });
        }
      }
    }
  }

  async function sample(request: SampleRequest): Promise<SampleResult> {
    const n = request.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
    // Siblings of a failed parallel request are cancelled through this controller.
    const group = new AbortController();
    const forwardAbort = () => group.abort(request.signal?.reason);
    if (request.signal?.aborted) forwardAbort();
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    const counter = { attempts: 0 };
    try {
      const calls: OneCall[] = [];
      if (endpoint.supportsN || n === 1) {
        const first = await withRetries(request, n, request.seed, group.signal, counter);
        calls.push(first);
        // A server that silently ignores `n` returns fewer choices: fetch the rest one by one.
        const missing = n - first.texts.length;
        if (missing > 0)
          calls.push(...(await parallelSingles(request, missing, first.texts.length, group, counter)));
      } else {
        calls.push(...(await parallelSingles(request, n, 0, group, counter)));
      }
      const served = calls.find((c) => c.model)?.model;
      return {
        texts: calls.flatMap((c) => c.texts).slice(0, n),
        finishReasons: calls.flatMap((c) => c.finishReasons).slice(0, n),
        usage: {
          promptTokens: calls.reduce((sum, c) => sum + c.promptTokens, 0),
          completionTokens: calls.reduce((sum, c) => sum + c.completionTokens, 0),
        },
        attempts: counter.attempts,
        ...(served ? { model: served } : {}),
      };
    } finally {
      request.signal?.removeEventListener('abort', forwardAbort);
    }
  }

  /** `count` single-choice requests with distinct seeds (base seed + offset + i). */
  async function parallelSingles(
    request: SampleRequest,
    count: number,
    offset: number,
    group: AbortController,
    counter: { attempts: number },
  ): Promise<OneCall[]> {
    const baseSeed = request.seed ?? Math.floor(random() * 2 ** 31);
    const calls = Array.from({ length: count }, (_, i) =>
      withRetries(request, 1, baseSeed + offset + i, group.signal, counter),
    );
    try {
      return await Promise.all(calls);
    } catch (error) {
      group.abort(error);
      await Promise.allSettled(calls);
      throw error;
    }
  }

  return { endpoint, sample };
}

function classifyError(error: unknown, endpointName: string, label: string): InferenceError {
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const retryAfterMs = parseRetryAfter(error.responseHeaders?.['retry-after'], Date.now());
    const base = { endpoint: endpointName, status, cause: error };
    if (status === undefined) {
      return new InferenceError(`${label}: cannot connect: ${error.message}`, { ...base, kind: 'network' });
    }
    if (status === 429) {
      return new InferenceError(`${label}: rate limited (HTTP 429)`, {
        ...base,
        kind: 'rate-limited',
        retryAfterMs,
      });
    }
    if (status >= 500) {
      const retryAfter = status === 503 ? retryAfterMs : undefined;
      return new InferenceError(`${label}: server error (${httpFailureReason(status)})`, {
        ...base,
        kind: 'server',
        retryAfterMs: retryAfter,
      });
    }
    const context = parseContextLengthError(status, error.responseBody);
    if (context) {
      return new InferenceError(
        `${label}: prompt over the model's context (HTTP ${status}): ${context.message}`,
        {
          ...base,
          kind: 'context-length',
          context,
        },
      );
    }
    if (status === 408)
      return new InferenceError(`${label}: HTTP 408 request timeout`, { ...base, kind: 'timeout' });
    if (status >= 200 && status < 300) {
      return new InferenceError(`${label}: the answer is not a chat completion (HTTP ${status})`, {
        ...base,
        kind: 'malformed',
      });
    }
    return new InferenceError(`${label}: ${httpFailureReason(status)}`, {
      ...base,
      kind: 'http',
    });
  }
  if (InvalidPromptError.isInstance(error) || InvalidArgumentError.isInstance(error)) {
    return new InferenceError(`${label}: invalid request: ${error.message}`, {
      kind: 'invalid-request',
      endpoint: endpointName,
      cause: error,
    });
  }
  if (error instanceof TypeError) {
    return new InferenceError(`${label}: cannot connect: ${error.message}`, {
      kind: 'network',
      endpoint: endpointName,
      cause: error,
    });
  }
  // Schema/parse failures of the SDK (no choices, invalid fields) mean a malformed answer.
  const message = error instanceof Error ? error.message : String(error);
  return new InferenceError(`${label}: malformed answer: ${message}`, {
    kind: 'malformed',
    endpoint: endpointName,
    cause: error,
  });
}
