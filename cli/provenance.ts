import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunManifest } from '../shared/contracts/manifest';
import type { RunProvenance } from '../shared/contracts/provenance';
import type { ApiClient } from './api-client';
import { projectRoot } from './project';

// Where a build's data came from, written into manifest.json as `provenance`: the run manifest's
// block (shared/contracts/provenance.ts: endpoints and the model ids their servers reported in
// completions, agent-r version and commit, environment identity, sampling and seed), with what
// the CLI adds for each endpoint: its base URL, the model name agent-r sends, and the ids the
// server lists at GET {baseUrl}/models (as vLLM, SGLang and OpenAI answer).

export interface EndpointDetails {
  /** The model name agent-r sends in requests (the endpoint's `model`). */
  requested_model: string | null;
  base_url: string | null;
  /** The ids the server lists at /models (null when it could not be asked). */
  served_models: string[] | null;
  note?: string;
}

type Described = { endpoint: string; model: string | null } & EndpointDetails;
export type Provenance = Omit<RunProvenance, 'policy' | 'judge'> & { policy: Described; judge?: Described };

/** The agent-r version (package.json). */
export function agentRVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** HEAD of the checkout the CLI runs from, `-dirty` when tracked files changed; null without git. */
export function gitCommit(): string | null {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: projectRoot, timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    const head = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** The endpoint as registered, and what its server says it serves. */
export async function endpointDetails(
  api: ApiClient,
  name: string,
  apiKey?: string,
): Promise<EndpointDetails> {
  let endpoint: { baseUrl?: string; model?: string };
  try {
    endpoint = await api.json('GET', `/v1/endpoints/${encodeURIComponent(name)}`);
  } catch (error) {
    return { requested_model: null, base_url: null, served_models: null, note: (error as Error).message };
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
    requested_model: endpoint.model ?? null,
    base_url: base,
    served_models: served,
    ...(note ? { note } : {}),
  };
}

/** The provenance block of a build's (or an export's) manifest; null when the stack gave none. */
export async function buildProvenance(
  api: ApiClient,
  manifest: RunManifest,
  keys: { policy?: string; judge?: string } = {},
): Promise<Provenance | null> {
  const base = manifest.provenance;
  if (!base) return null;
  const [policy, judge] = await Promise.all([
    endpointDetails(api, base.policy.endpoint, keys.policy),
    base.judge ? endpointDetails(api, base.judge.endpoint, keys.judge) : Promise.resolve(null),
  ]);
  const { judge: baseJudge, ...rest } = base;
  return {
    ...rest,
    policy: { ...base.policy, ...policy },
    ...(baseJudge && judge ? { judge: { ...baseJudge, ...judge } } : {}),
  };
}
