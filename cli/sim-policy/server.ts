import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, hashToSeed } from '../../shared/random';
import { chatMessages, chatRequestSchema, finishText, stopSequences } from './chat-request';
import { drawFault, type Fault, type FaultKind, faultFromHeader, faultKinds } from './faults';
import { createGpuModel, type GpuStats } from './gpu-model';
import { type SimPolicyOptions, type SimPolicyOptionsInput, simPolicyOptionsSchema } from './options';
import { type ConversationKind, complete } from './policy';
import { simTokenizerFor } from './tokenizer';

/**
 * sim-policy: an OpenAI-compatible chat-completions server that plays crafting/TextCraft
 * conversations as a noisy expert and answers verifier prompts. A simulator, not a language
 * model: the embedded default policy for demos, tests and benchmarks.
 */

export interface SimPolicyStats extends GpuStats {
  requests: number;
  completions: number;
  byKind: Record<ConversationKind, number>;
  promptTokens: number;
  completionTokens: number;
  badRequests: number;
  /** Requests refused with vLLM's context-length 400 (prompt + max tokens over `contextLimit`). */
  contextRefusals: number;
  /** The largest prompt (in its tokenizer's tokens, chat template included) of an answered request. */
  maxPromptTokens: number;
  /** POST /tokenize calls answered. */
  tokenizeCalls: number;
  faults: Record<FaultKind, number>;
  wallMs: number;
  /** busyMs / (capacity x wallMs). */
  utilisation: number;
}

export interface SimPolicyServer {
  /** `http://127.0.0.1:PORT`; the OpenAI base URL is this plus `/v1`. */
  url: string;
  port: number;
  options: SimPolicyOptions;
  stats(): SimPolicyStats;
  resetStats(): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Retries of one request body are told apart by this counter, so injected faults can clear. */
const MAX_TRACKED_BODIES = 100_000;

export async function startSimPolicy(input: SimPolicyOptionsInput = {}): Promise<SimPolicyServer> {
  const options = simPolicyOptionsSchema.parse(input);
  const tokenizer = await simTokenizerFor(options.tokenizerModel ?? options.model);
  const gpu = createGpuModel(options.capacity);
  const attemptsByBody = new Map<number, number>();
  const hangs = new Set<NodeJS.Timeout>();
  let counters = freshCounters();

  function freshCounters() {
    return {
      since: performance.now(),
      requests: 0,
      completions: 0,
      byKind: { policy: 0, judge: 0, other: 0 } as Record<ConversationKind, number>,
      promptTokens: 0,
      completionTokens: 0,
      badRequests: 0,
      contextRefusals: 0,
      maxPromptTokens: 0,
      tokenizeCalls: 0,
      faults: Object.fromEntries(faultKinds.map((k) => [k, 0])) as Record<FaultKind, number>,
    };
  }

  function stats(): SimPolicyStats {
    const gpuStats = gpu.stats();
    const wallMs = Math.max(1, Math.round(performance.now() - counters.since));
    const { since: _since, ...rest } = counters;
    return { ...rest, ...gpuStats, wallMs, utilisation: gpuStats.busyMs / (gpuStats.capacity * wallMs) };
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, bodyText: string) {
    counters.requests += 1;
    let json: unknown;
    try {
      json = JSON.parse(bodyText);
    } catch {
      counters.badRequests += 1;
      return sendJson(res, 400, errorBody('request body is not JSON', 'invalid_request_error'));
    }
    const parsed = chatRequestSchema.safeParse(json);
    if (!parsed.success) {
      counters.badRequests += 1;
      return sendJson(
        res,
        400,
        errorBody(`invalid request: ${parsed.error.message}`, 'invalid_request_error'),
      );
    }
    const request = parsed.data;
    const messages = chatMessages(request);
    const promptTokens = tokenizer.prompt(messages);
    const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
    const limit = options.contextLimit;
    if (limit !== undefined && promptTokens + (maxTokens ?? 0) > limit) {
      counters.contextRefusals += 1;
      return sendJson(res, 400, vllmContextRefusal(limit, promptTokens, maxTokens ?? 0));
    }
    counters.maxPromptTokens = Math.max(counters.maxPromptTokens, promptTokens);

    const bodyKey = hashToSeed(options.seed, bodyText);
    const attempt = attemptsByBody.get(bodyKey) ?? 0;
    if (attemptsByBody.size >= MAX_TRACKED_BODIES) attemptsByBody.clear();
    attemptsByBody.set(bodyKey, attempt + 1);
    const header = req.headers['x-sim-fault'];
    const forced = faultFromHeader(Array.isArray(header) ? header[0] : header);
    const fault =
      forced !== undefined
        ? forced
        : drawFault(options.faults, createRng(hashToSeed(bodyKey, attempt, 'fault')).next);
    if (fault) counters.faults[fault.kind] += 1;
    if (fault && fault.kind !== 'empty') return sendFault(res, fault, bodyKey);

    const n = request.n ?? 1;
    const temperature = request.temperature ?? 1;
    const stop = stopSequences(request);
    // Each choice is its own independent draw (seeded by body and choice index).
    const completions = Array.from({ length: n }, (_, i) =>
      complete(messages, temperature, bodyKey, i, options),
    );
    counters.byKind[completions[0]!.kind] += 1;
    const choices = completions.map((completion, index) => ({
      index,
      finished: finishText(fault?.kind === 'empty' ? '' : completion.text, stop, maxTokens),
    }));
    const completionTokens = choices.reduce((sum, c) => sum + c.finished.tokens, 0);
    // The n choices are decoded as one batch: the longest decides the service time.
    const longest = Math.max(...choices.map((c) => c.finished.tokens));
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const served = await gpu.serve(options.latencyMs + options.perTokenMs * longest, gone.signal);
    if (!served || gone.signal.aborted) return;
    counters.completions += n;
    counters.promptTokens += promptTokens;
    counters.completionTokens += completionTokens;
    sendJson(res, 200, {
      id: `simcmpl-${bodyKey.toString(16)}-${attempt}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: options.resolvedModel ?? request.model ?? options.model,
      choices: choices.map(({ index, finished }) => ({
        index,
        message: { role: 'assistant', content: finished.text },
        finish_reason: finished.finishReason,
        logprobs: null,
      })),
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      },
    });
  }

  function sendFault(res: ServerResponse, fault: Fault, bodyKey: number) {
    const retryAfter = { 'retry-after': String(options.retryAfterSeconds) };
    switch (fault.kind) {
      case '5xx':
        return sendJson(
          res,
          fault.status ?? 500,
          errorBody('simulated server error', 'server_error'),
          fault.status === 503 ? retryAfter : {},
        );
      case '429':
        return sendJson(res, 429, errorBody('simulated rate limit', 'rate_limit_exceeded'), retryAfter);
      case 'garbage': {
        const bodies = [
          '<html><body>502 Bad Gateway</body></html>',
          '{"choices": [{"message": {"content": "Thought: I',
        ];
        const body = bodies[bodyKey % bodies.length]!;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return;
      }
      case 'hang': {
        const timer = setTimeout(() => {
          hangs.delete(timer);
          sendJson(res, 504, errorBody('simulated hang ended', 'timeout'));
        }, options.hangMs);
        hangs.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          hangs.delete(timer);
        });
        return;
      }
      case 'empty':
        return;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
      const body = await readBody(req);
      if (body === null)
        return sendJson(res, 413, errorBody('request body too large', 'invalid_request_error'));
      return chatCompletions(req, res, body);
    }
    if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      // vLLM's ModelCard carries max_model_len (entrypoints/openai/protocol.py).
      const ids = [options.model, ...(options.resolvedModel ? [options.resolvedModel] : [])];
      const data = ids.map((id) => {
        const card: Record<string, unknown> = {
          id,
          object: 'model',
          owned_by: 'sim-policy',
          // vLLM's card names the served model's origin; a renamed model here does not tell.
          ...(options.tokenizerModel === undefined ? { root: options.model } : {}),
        };
        if (options.reportMaxModelLen && options.contextLimit !== undefined)
          card.max_model_len = options.contextLimit;
        return card;
      });
      return sendJson(res, 200, { object: 'list', data });
    }
    if (req.method === 'POST' && path === '/tokenize' && options.tokenize) {
      const body = await readBody(req);
      return tokenize(res, body ?? '');
    }
    if (req.method === 'GET' && path === '/stats') return sendJson(res, 200, stats());
    if (req.method === 'GET' && path === '/stats/spans') return sendJson(res, 200, { spans: gpu.spans() });
    if (req.method === 'POST' && path === '/stats/reset') {
      resetStats();
      return sendJson(res, 200, stats());
    }
    if (req.method === 'GET' && path === '/health') return sendJson(res, 200, { ok: true });
    sendJson(res, 404, errorBody(`no route ${req.method} ${path}`, 'not_found'));
  }

  /**
   * vLLM's `POST /tokenize` (served at the root, not under /v1): `{"model", "prompt"}` or
   * `{"model", "messages"}` -> `{"count", "max_model_len", "tokens"}`.
   */
  function tokenize(res: ServerResponse, bodyText: string) {
    let json: { prompt?: unknown; messages?: unknown };
    try {
      json = JSON.parse(bodyText) as typeof json;
    } catch {
      return sendJson(res, 400, errorBody('request body is not JSON', 'BadRequestError'));
    }
    let count: number;
    if (typeof json.prompt === 'string') count = tokenizer.text(json.prompt);
    else {
      const parsed = chatRequestSchema.pick({ messages: true }).safeParse(json);
      if (!parsed.success)
        return sendJson(res, 400, errorBody('give "prompt" or "messages"', 'BadRequestError'));
      count = tokenizer.prompt(chatMessages(parsed.data));
    }
    counters.tokenizeCalls += 1;
    // Token ids are not modelled: positions stand in for them.
    return sendJson(res, 200, {
      count,
      max_model_len: options.contextLimit ?? 1_000_000,
      tokens: Array.from({ length: count }, (_, i) => i),
      token_strs: null,
    });
  }

  function resetStats() {
    counters = freshCounters();
    gpu.resetStats();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(`sim-policy bug: ${String(error)}`, 'server_error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    options,
    stats,
    resetStats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of hangs) clearTimeout(timer);
        hangs.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * vLLM's refusal of a request over the context length, word for word (vllm/renderers/params.py,
 * v0.25; the VLLMValidationError is served as {"error": {...}} with HTTP 400).
 */
export function vllmContextRefusal(limit: number, promptTokens: number, maxTokens: number) {
  return {
    error: {
      message:
        `This model's maximum context length is ${limit} tokens. However, you requested ${maxTokens} output tokens ` +
        `and your prompt contains ${promptTokens} input tokens, for a total of ${promptTokens + maxTokens} tokens. ` +
        'Please reduce the length of the input prompt or the number of requested output tokens. ' +
        `(parameter=input_tokens, value=${promptTokens})`,
      type: 'BadRequestError',
      param: 'input_tokens',
      code: 400,
    },
  };
}

function errorBody(message: string, type: string) {
  return { error: { message, type } };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
