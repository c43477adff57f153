import type { ChatMessage } from '../chat';
import type { Endpoint } from './endpoint';
import { libraryPromptTokens, type TextTokenizer, tokenizerForModel } from './tokenizer-library';

/**
 * What an inference server tells about itself, learned once per endpoint (base URL + model) and
 * cached: whether it counts tokens for us (vLLM's `POST /tokenize`, served at the root, next to
 * `/v1`) and its context length (`max_model_len` of the model's card in `GET /v1/models`, which
 * vLLM reports and most other servers leave out).
 */
export interface ServerInfo {
  tokenize: boolean;
  maxModelLen: number | null;
  /** The model card's `root` (vLLM: the model the served name stands for), when reported. */
  modelRoot: string | null;
}

/**
 * How a prompt's tokens were counted: the server's tokenizer, a local library
 * (`library:<package>:<encoding>`), or the estimate.
 */
export type TokenizerSource = 'server' | 'estimate' | `library:${string}`;

export interface PromptCounter {
  source: TokenizerSource;
  /** Tokens of the whole chat prompt, chat template included where the source knows it. */
  count(messages: readonly ChatMessage[]): Promise<number>;
  /**
   * A local count without any request (each message's text counted once and cached), present
   * when `count` asks the server: it predicts which shrink fits so the server is asked once more.
   */
  local?(messages: readonly ChatMessage[]): number;
}

type ProbeEndpoint = Pick<Endpoint, 'baseUrl' | 'model' | 'apiKey' | 'timeoutMs'>;

const PROBE_TIMEOUT_MS = 5_000;
const CACHE_TTL_MS = 10 * 60_000;
const cache = new Map<string, { info: Promise<ServerInfo>; at: number }>();

function keyOf(endpoint: ProbeEndpoint): string {
  return `${endpoint.baseUrl.replace(/\/+$/, '')}|${endpoint.model}`;
}

/** `http://host:8000/v1` -> `http://host:8000`: where vLLM serves /tokenize. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function headers(endpoint: ProbeEndpoint): Record<string, string> {
  return {
    'content-type': 'application/json',
    ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
  };
}

async function fetchJson(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<unknown | null> {
  try {
    const res = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    return (await res.json()) as unknown;
  } catch {
    return null;
  }
}

/** Asks vLLM's /tokenize to count a chat prompt; null when the server does not (or fails to). */
async function tokenizeCount(
  endpoint: ProbeEndpoint,
  fetchFn: typeof fetch,
  messages: readonly ChatMessage[],
): Promise<number | null> {
  const body = await fetchJson(
    fetchFn,
    `${serverRoot(endpoint.baseUrl)}/tokenize`,
    {
      method: 'POST',
      headers: headers(endpoint),
      body: JSON.stringify({ model: endpoint.model, messages, add_generation_prompt: true }),
    },
    Math.min(endpoint.timeoutMs, PROBE_TIMEOUT_MS),
  );
  const count = (body as { count?: unknown } | null)?.count;
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : null;
}

async function probe(endpoint: ProbeEndpoint, fetchFn: typeof fetch): Promise<ServerInfo> {
  const timeout = Math.min(endpoint.timeoutMs, PROBE_TIMEOUT_MS);
  const [models, count] = await Promise.all([
    fetchJson(
      fetchFn,
      `${endpoint.baseUrl.replace(/\/+$/, '')}/models`,
      { headers: headers(endpoint) },
      timeout,
    ),
    tokenizeCount(endpoint, fetchFn, [{ role: 'user', content: 'probe' }]),
  ]);
  const cards = (models as { data?: unknown } | null)?.data;
  let maxModelLen: number | null = null;
  let modelRoot: string | null = null;
  if (Array.isArray(cards)) {
    const card = (cards.find((c) => (c as { id?: unknown })?.id === endpoint.model) ?? cards[0]) as
      | { max_model_len?: unknown; root?: unknown }
      | undefined;
    const len = card?.max_model_len;
    if (typeof len === 'number' && Number.isInteger(len) && len > 0) maxModelLen = len;
    if (typeof card?.root === 'string' && card.root !== '') modelRoot = card.root;
  }
  return { tokenize: count !== null, maxModelLen, modelRoot };
}

/** The server's info, probed on first use and cached per (base URL, model). */
export function serverInfo(endpoint: ProbeEndpoint, fetchFn: typeof fetch = fetch): Promise<ServerInfo> {
  const key = keyOf(endpoint);
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < CACHE_TTL_MS) return hit.info;
  const info = probe(endpoint, fetchFn);
  cache.set(key, { info, at: Date.now() });
  return info;
}

/** Forgets every probe (tests). */
export function clearServerInfoCache(): void {
  cache.clear();
}

/** Chat templates add a few tokens of framing per message. */
export const PER_MESSAGE_OVERHEAD_TOKENS = 4;

/** A cheap, tokenizer-free estimate (about 4 characters per token for English text). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + estimateTokens(m.content) + PER_MESSAGE_OVERHEAD_TOKENS, 0);
}

/** Framing a chat template may add per message (ChatML and Llama 3 add about 5), with a margin. */
const BOUND_TOKENS_PER_MESSAGE = 16;
/** Framing a template may add once (a default system preamble, the generation prompt). */
const BOUND_TOKENS_FIXED = 256;

function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair (4 bytes) is two code units: 2 each.
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code < 0xe000 ? 2 : 3;
  }
  return bytes;
}

/**
 * A count a chat prompt does not exceed on the tokenizers of served models: byte-level BPE
 * (GPT-2, Llama 3, Qwen) and SentencePiece with byte fallback (Llama 2, Mistral) never make a token
 * of less than one UTF-8 byte, and the template adds framing per message and once. A prompt whose
 * bound fits a budget fits it by the server's exact count too, so that count need not be asked.
 */
export function promptTokensUpperBound(messages: readonly ChatMessage[]): number {
  let tokens = BOUND_TOKENS_FIXED;
  for (const message of messages) tokens += utf8Bytes(message.content) + BOUND_TOKENS_PER_MESSAGE;
  return tokens;
}

/** Counts of message texts already seen, per tokenizer: a step is counted once, not per shrink. */
const PIECE_CACHE_LIMIT = 4_000;

function cachedCount(count: (text: string) => number): (text: string) => number {
  const seen = new Map<string, number>();
  return (text) => {
    const hit = seen.get(text);
    if (hit !== undefined) return hit;
    const tokens = count(text);
    if (seen.size >= PIECE_CACHE_LIMIT) seen.delete(seen.keys().next().value as string);
    seen.set(text, tokens);
    return tokens;
  };
}

export const estimateCounter: PromptCounter = {
  source: 'estimate',
  count: async (messages) => estimatePromptTokens(messages),
};

const libraryCounters = new Map<
  string,
  { count: PromptCounter['count']; local: (m: readonly ChatMessage[]) => number }
>();

/** A library tokenizer as a prompt counter, its per-message counts cached. */
function libraryCounter(tokenizer: TextTokenizer) {
  let hit = libraryCounters.get(tokenizer.name);
  if (!hit) {
    const piece = { ...tokenizer, count: cachedCount(tokenizer.count) };
    const local = (messages: readonly ChatMessage[]) => libraryPromptTokens(piece, messages);
    hit = { local, count: async (messages) => local(messages) };
    libraryCounters.set(tokenizer.name, hit);
  }
  return hit;
}

/**
 * The best counter for an endpoint: its own tokenizer when it serves /tokenize; else a local
 * library matched to the model's family (by the endpoint's model id, or the model card's `root`);
 * else the estimate. A /tokenize call that fails later falls back to the local count for that
 * prompt. With /tokenize, the local count still predicts which shrink fits (see `local`).
 */
export async function promptCounterFor(
  endpoint: ProbeEndpoint,
  fetchFn: typeof fetch = fetch,
): Promise<{ counter: PromptCounter; info: ServerInfo }> {
  const info = await serverInfo(endpoint, fetchFn);
  const library =
    (await tokenizerForModel(endpoint.model)) ??
    (info.modelRoot ? await tokenizerForModel(info.modelRoot) : null);
  const localCounter = library
    ? { source: library.name as TokenizerSource, ...libraryCounter(library) }
    : { ...estimateCounter, local: estimatePromptTokens };
  if (!info.tokenize) return { counter: { source: localCounter.source, count: localCounter.count }, info };
  return {
    info,
    counter: {
      source: 'server',
      count: async (messages) =>
        (await tokenizeCount(endpoint, fetchFn, messages)) ?? localCounter.local(messages),
      local: localCounter.local,
    },
  };
}
