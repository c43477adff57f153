import type { ChatMessage } from '../../shared/chat';
import { createChatClient, type ChatClient, type SampleResult } from '../../shared/inference/chat-client';
import { budgetAfterRefusal } from '../../shared/inference/context-errors';
import { isInferenceError } from '../../shared/inference/inference-error';
import {
  promptCounterFor,
  promptTokensUpperBound,
  type TokenizerSource,
} from '../../shared/inference/server-info';
import { type ShrinkablePrompt, smallestFittingDrop } from '../../shared/prompts/fit-prompt';
import type { CoreBindings } from './env';
import { loadEndpoint } from './endpoints';
import { JobInputError } from './environments';
import { capText, DEFAULT_MAX_TEXT_CHARS } from '../../shared/text-cap';
import { ensureCurrent, type JobContext, JobSuperseded, mayBeOutdated } from './job-context';
import { endpointGateStub } from './durable-objects';
import { acquireSlots, releaseSlots } from './gate-client';

const clients = new Map<string, { client: ChatClient; loadedAt: number }>();
const CLIENT_TTL_MS = 30_000;

async function clientFor(env: CoreBindings, name: string): Promise<ChatClient> {
  const cached = clients.get(name);
  if (cached && Date.now() - cached.loadedAt < CLIENT_TTL_MS) return cached.client;
  const endpoint = await loadEndpoint(env, name);
  if (!endpoint)
    throw new JobInputError(`unknown endpoint "${name}" (register it with PUT /v1/endpoints/${name})`);
  const client = createChatClient(endpoint);
  clients.set(name, { client, loadedAt: Date.now() });
  return client;
}

export interface SampleOptions {
  messages: ChatMessage[];
  n: number;
  temperature: number;
  maxTokens: number;
  seed: number;
  /** Gate priority: higher is served first when the endpoint is busy (default 0). */
  priority?: number;
  /**
   * Checked once the slots are granted after a wait: a superseded or cancelled job makes no call
   * (without a wait, the consumer's check of the job just before stands).
   */
  context?: JobContext;
  /** Longest response kept (characters); a longer one is cut with a marker (default 262144). */
  maxChars?: number;
}

/**
 * One sampling call through the endpoint's gate: a slot from its EndpointGate (shared by all runs
 * and workers) is held for exactly the duration of the request.
 */
export async function sampleThroughGate(
  env: CoreBindings,
  endpointName: string,
  holderId: string,
  options: SampleOptions,
): Promise<SampleResult> {
  const client = await clientFor(env, endpointName);
  const gate = endpointGateStub(env, endpointName);
  // Without `n` support the client sends n requests at once: it needs n slots, granted together.
  const slots = client.endpoint.supportsN ? 1 : options.n;
  const { maxConcurrency } = client.endpoint;
  const lease = await acquireSlots(env, endpointName, holderId, maxConcurrency, options.priority ?? 0, slots);
  if ('refused' in lease) {
    if (lease.revoked) throw new JobSuperseded('inference call');
    throw new JobInputError(`endpoint "${endpointName}" (supportsN false): ${lease.refused}`);
  }
  // The lease is renewed while the request runs, so a slow answer never lets the gate over-admit.
  // Every third of the lease's lifetime (the gate's TTL: 5 minutes), so two renewals may fail.
  const renewEveryMs = Math.max(100, Math.floor((lease.expiresAt - lease.grantedAt) / 3));
  const renewal = setInterval(() => void gate.renew(lease.leaseId).catch(() => false), renewEveryMs);
  try {
    // A job is checked when its consumer takes it (getJob); a slot granted at once follows that
    // check by moments. One it waited for may follow a cancel (the run's cancel revoked its wait
    // at the gate: refused above) or a re-send (impossible before `currentUntil`): check again
    // only when a re-send was possible, so the slot is not held idle for a TaskTree round trip.
    if (lease.queued && mayBeOutdated(options.context))
      await ensureCurrent(options.context, 'inference call');
    const { priority: _priority, context: _context, maxChars, ...request } = options;
    const sampled = await client.sample({ ...request, stop: client.endpoint.defaults.stop });
    const cap = maxChars ?? DEFAULT_MAX_TEXT_CHARS;
    return { ...sampled, texts: sampled.texts.map((text) => capText(text, cap, 'completion')) };
  } finally {
    clearInterval(renewal);
    await releaseSlots(env, endpointName, lease);
  }
}

/** A prompt that cannot fit the model's context even with only the task and the latest step. */
export class PromptTooLongError extends JobInputError {
  constructor(
    message: string,
    readonly contextRetries: number,
  ) {
    super(message);
    this.name = 'PromptTooLongError';
  }
}

/** Refusals answered by shrinking further before the request is given up. */
const MAX_CONTEXT_RETRIES = 8;

export interface FittedSampleOptions extends Omit<SampleOptions, 'messages'> {
  prompt: ShrinkablePrompt;
  /** The run spec's context length, used when the server does not report `max_model_len`. */
  contextTokens: number;
}

export interface FittedSampleResult extends SampleResult {
  /** The prompt as sent (the last, accepted attempt). */
  messages: ChatMessage[];
  dropped: number;
  /** Context-length refusals answered by shrinking the prompt and sending again. */
  contextRetries: number;
  tokenizer: TokenizerSource;
}

/**
 * Samples with a prompt that fits: counted with the endpoint's own tokenizer when it serves one,
 * budget = context length (the server's `max_model_len`, else the spec's) - max tokens, oldest
 * steps dropped first. A context-length refusal (vLLM, SGLang, TGI, OpenAI wording) is read for
 * the server's numbers, the budget rescaled to them and the request sent again with more steps
 * dropped; only a prompt that cannot fit with the task and the latest step alone fails.
 */
export async function sampleFitted(
  env: CoreBindings,
  endpointName: string,
  holderId: string,
  options: FittedSampleOptions,
): Promise<FittedSampleResult> {
  const { prompt, contextTokens, ...request } = options;
  const client = await clientFor(env, endpointName);
  const { counter, info } = await promptCounterFor(client.endpoint);
  const contextLength = info.maxModelLen ?? contextTokens;
  let budget = contextLength - request.maxTokens;
  const tooLong = (detail: string, retries: number) =>
    new PromptTooLongError(
      `the prompt does not fit the model's context of ${contextLength} tokens with ${request.maxTokens} ` +
        `for the answer, even with only the task and the latest step: ${detail}`,
      retries,
    );
  if (budget <= 0) throw tooLong('max tokens alone fill the context', 0);
  let minDrop = 0;
  // Asking the server to count is a request before every call: a prompt whose upper bound fits
  // is known to fit without it (the same drop as the exact count finds, so the same prompt).
  const bounded = counter.source === 'server';
  const countFitting = async (messages: ChatMessage[]) => {
    const bound = bounded ? promptTokensUpperBound(messages) : Number.POSITIVE_INFINITY;
    return bound <= budget ? bound : counter.count(messages);
  };
  for (let retries = 0; ; retries++) {
    const fitted = await smallestFittingDrop(
      prompt,
      budget,
      countFitting,
      minDrop,
      counter.local?.bind(counter),
    );
    // The server's own count is exact: no need to be refused to know.
    if (!fitted.fits && counter.source === 'server')
      throw tooLong(`${fitted.tokens} prompt tokens by the server's tokenizer`, retries);
    try {
      const sampled = await sampleThroughGate(env, endpointName, holderId, {
        ...request,
        messages: fitted.messages,
      });
      return {
        ...sampled,
        messages: fitted.messages,
        dropped: fitted.drop,
        contextRetries: retries,
        tokenizer: counter.source,
      };
    } catch (error) {
      if (!isInferenceError(error) || error.kind !== 'context-length') throw error;
      const said = error.context?.message ?? error.message;
      if (fitted.drop >= prompt.maxDrop || retries + 1 >= MAX_CONTEXT_RETRIES)
        throw tooLong(`the server said: ${said}`, retries + 1);
      // What was sent, counted exactly (the fit may have used the bound).
      const sent = bounded ? await counter.count(fitted.messages) : fitted.tokens;
      const rescaled = error.context ? budgetAfterRefusal(error.context, request.maxTokens, sent) : null;
      budget = Math.min(rescaled ?? Math.floor(sent * 0.8), sent - 1);
      minDrop = fitted.drop + 1;
    }
  }
}
