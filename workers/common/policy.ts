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
/** A third of the EndpointGate's lease TTL (5 minutes). */
const LEASE_RENEW_MS = 100_000;

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
  const gate = env.ENDPOINT_GATE.get(env.ENDPOINT_GATE.idFromName(endpointName));
  // Without `n` support the client sends n requests at once: it needs n slots, granted together.
  const slots = client.endpoint.supportsN ? 1 : options.n;
  const lease = await gate.acquire(holderId, client.endpoint.maxConcurrency, options.priority ?? 0, slots);
  if ('refused' in lease)
    throw new JobInputError(`endpoint "${endpointName}" (supportsN false): ${lease.refused}`);
  // The lease is renewed while the request runs, so a slow answer never lets the gate over-admit.
  const renewal = setInterval(() => void gate.renew(lease.leaseId).catch(() => false), LEASE_RENEW_MS);
  try {
    await ensureCurrent(options.context, 'inference call');
    const { priority: _priority, context: _context, maxChars, ...request } = options;
    const sampled = await client.sample({ ...request, stop: client.endpoint.defaults.stop });
    const cap = maxChars ?? DEFAULT_MAX_TEXT_CHARS;
    return { ...sampled, texts: sampled.texts.map((text) => capText(text, cap, 'completion')) };
  } finally {
    clearInterval(renewal);
    await gate.release(lease.leaseId);
  }
}
