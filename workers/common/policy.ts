import type { ChatMessage } from '../../shared/chat';
import { createChatClient, type ChatClient, type SampleResult } from '../../shared/inference/chat-client';
import type { CoreBindings } from './env';
import { loadEndpoint } from './endpoints';
import { JobInputError } from './environments';
import { capText, DEFAULT_MAX_TEXT_CHARS } from '../../shared/text-cap';
import { ensureCurrent, type JobContext } from './job-context';
import { endpointGateStub } from './durable-objects';

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
  /** Checked once the slots are granted: a superseded or cancelled job makes no call. */
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
  // Without `n` support the client sends n requests at once: each needs its own slot.
  const slots = client.endpoint.supportsN ? 1 : options.n;
  const leases = await Promise.all(
    Array.from({ length: slots }, (_, i) =>
      gate.acquire(`${holderId}#${i}`, client.endpoint.maxConcurrency, options.priority ?? 0),
    ),
  );
  try {
    await ensureCurrent(options.context, 'inference call');
    const { priority: _priority, context: _context, maxChars, ...request } = options;
    const sampled = await client.sample({ ...request, stop: client.endpoint.defaults.stop });
    const cap = maxChars ?? DEFAULT_MAX_TEXT_CHARS;
    return { ...sampled, texts: sampled.texts.map((text) => capText(text, cap, 'completion')) };
  } finally {
    await Promise.all(leases.map((lease) => gate.release(lease.leaseId)));
  }
}
