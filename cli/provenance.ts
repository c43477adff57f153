import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ApiClient } from './api-client';
import { projectRoot } from './project';
import { loadWorld } from './world-store';

// Where a build's data came from, written into manifest.json as `provenance`: the agent-r version
// and commit, each endpoint's name and the model id its server reports (GET {baseUrl}/models,
// as vLLM, SGLang and OpenAI answer), the environment's identity (world name + content hash, or
// AgentGym server + flavour) and every sampling setting and seed of the run.

export interface EndpointProvenance {
  endpoint: string;
  /** The model name agent-r sends in requests (the endpoint's `model`). */
  model: string | null;
  base_url: string | null;
  /** The ids the server lists at /models (null when it could not be asked). */
  served_models: string[] | null;
  note?: string;
}

export interface Provenance {
  agent_r_version: string;
  git_commit: string | null;
  policy: EndpointProvenance;
  /** Present when the judge is another endpoint than the policy. */
  judge?: EndpointProvenance;
  environment: Record<string, unknown>;
  sampling: Record<string, unknown>;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

async function gitCommit(): Promise<string | null> {
  try {
    const run = promisify(execFile);
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, timeout: 5000 })).stdout.trim();
    const dirty = (
      await run('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: projectRoot, timeout: 5000 })
    ).stdout.trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** The endpoint as registered, and what its server says it serves. */
export async function endpointProvenance(
  api: ApiClient,
  name: string,
  apiKey?: string,
): Promise<EndpointProvenance> {
  let endpoint: { baseUrl?: string; model?: string };
  try {
    endpoint = await api.json('GET', `/v1/endpoints/${encodeURIComponent(name)}`);
  } catch (error) {
    return {
      endpoint: name,
      model: null,
      base_url: null,
      served_models: null,
      note: (error as Error).message,
    };
  }
  const base = endpoint.baseUrl?.replace(/\/+$/, '') ?? null;
  let served: string[] | null = null;
  let note: string | undefined;
  if (base) {
    try {
      const response = await fetch(`${base}/models`, {
        headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`GET ${base}/models: ${response.status}`);
      const body = (await response.json()) as { data?: { id?: unknown }[] };
      served = (body.data ?? []).map((m) => String(m.id));
    } catch (error) {
      note = `the server's model list could not be read: ${(error as Error).message}`;
    }
  }
  return {
    endpoint: name,
    model: endpoint.model ?? null,
    base_url: base,
    served_models: served,
    ...(note ? { note } : {}),
  };
}

/** Stable JSON (sorted keys), so a world's hash does not depend on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

async function environment(config: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (config.env === 'agentgym')
    return { env: 'agentgym', server: config.envServer ?? null, flavor: config.flavor ?? null };
  const name = String(config.world ?? 'default');
  try {
    const world = await loadWorld(name);
    return {
      env: 'crafting',
      world: name,
      world_sha256: createHash('sha256').update(stableJson(world)).digest('hex'),
      goals: world.goals.length,
    };
  } catch {
    return { env: 'crafting', world: name, world_sha256: null };
  }
}

const SAMPLING_KEYS = [
  'temperature',
  'maxTokens',
  'contextTokens',
  'width',
  'seed',
  'preset',
  'judgeSampling',
];

/** The provenance block of a build's manifest. */
export async function buildProvenance(
  api: ApiClient,
  config: Record<string, unknown>,
  keys: { policy?: string; judge?: string } = {},
): Promise<Provenance> {
  const policyName = String(config.policy ?? 'sim');
  const judgeName = typeof config.judge === 'string' && config.judge !== policyName ? config.judge : null;
  const [commit, policy, judge, env] = await Promise.all([
    gitCommit(),
    endpointProvenance(api, policyName, keys.policy),
    judgeName ? endpointProvenance(api, judgeName, keys.judge) : Promise.resolve(null),
    environment(config),
  ]);
  return {
    agent_r_version: version(),
    git_commit: commit,
    policy,
    ...(judge ? { judge } : {}),
    environment: env,
    sampling: Object.fromEntries(
      SAMPLING_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]),
    ),
  };
}
