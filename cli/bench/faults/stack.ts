import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../api-client';
import { type LocalStack, startLocalStack } from '../../stack';
import type { SimPolicyOptionsInput } from '../../sim-policy/options';
export type Log = (line: string) => void;

export interface StackHandle {
  stack: LocalStack;
  api: ApiClient;
  stateDir: string;
}

/** A stack on its own state directory (never the developer's .agent-r/state). */
export async function startScenarioStack(
  stateDir: string,
  simOptions: SimPolicyOptionsInput,
  log?: Log,
): Promise<StackHandle> {
  const stack = await startLocalStack({
    stateDir,
    simOptions: simOptions as Record<string, unknown>,
    ...(log ? { log } : {}),
  });
  return { stack, api: new ApiClient(stack.apiUrl, stack.token), stateDir };
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Registers an extra OpenAI-compatible endpoint (e.g. a second sim-policy) under `name`. */
export async function registerEndpoint(
  api: ApiClient,
  name: string,
  baseUrl: string,
  settings: { timeoutMs?: number; maxConcurrency?: number; retry?: Record<string, number> } = {},
): Promise<void> {
  await api.json('PUT', `/v1/endpoints/${name}`, {
    baseUrl,
    model: 'sim-policy',
    maxConcurrency: settings.maxConcurrency ?? 32,
    supportsN: true,
    ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
    ...(settings.retry ? { retry: settings.retry } : {}),
  });
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
