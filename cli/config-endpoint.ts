import type { z } from 'zod';
import { endpointSchema } from '../shared/inference/endpoint';
import { UsageError } from './command';
import { closest, describeIssue } from './flag-errors';
import { kebab } from './spec-fields';

// The policy or judge of a build from a config file value (a registered endpoint's name, a URL or
// a mapping of endpoint settings) and the flags that override it, checked with the API's
// endpoint schema.

/** A policy or judge: a registered endpoint's name ("sim" included) or an endpoint to register. */
export type EndpointSettings = Omit<z.input<typeof endpointSchema>, 'name'> & { name?: string };
export type EndpointRef = { name: string } | { endpoint: EndpointSettings; apiKeyEnv?: string };

/** Endpoint settings a config file may give for policy and judge (besides the endpointSchema's). */
const ENDPOINT_EXTRA_KEYS = ['apiKeyEnv'] as const;

const isUrl = (text: string) => /^https?:\/\//.test(text);

export function checkKnownKeys(object: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    throw new UsageError(
      `${where}: unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    );
  }
}

const endpointKeys = [...Object.keys(endpointSchema.shape), ...ENDPOINT_EXTRA_KEYS];

/** An endpoint reference from a config value (name, URL or settings object) and flags. */
export function endpointRef(
  role: 'policy' | 'judge',
  configValue: unknown,
  flags: { ref?: string; model?: string; apiKey?: string; settings?: Record<string, unknown> },
  configPath: string,
): EndpointRef | null {
  const where = `--config ${configPath}: ${role}`;
  let base: Record<string, unknown> | null = null;
  let name: string | undefined;
  if (typeof configValue === 'string') {
    if (isUrl(configValue)) base = { baseUrl: configValue };
    else name = configValue;
  } else if (configValue && typeof configValue === 'object' && !Array.isArray(configValue)) {
    base = { ...(configValue as Record<string, unknown>) };
    checkKnownKeys(base, endpointKeys, where);
  } else if (configValue !== undefined) {
    throw new UsageError(`${where} must be an endpoint name, a URL or a mapping (baseUrl, model, ...)`);
  }
  if (flags.ref !== undefined) {
    if (isUrl(flags.ref)) {
      base = { ...(base ?? {}), baseUrl: flags.ref };
      name = undefined;
    } else {
      name = flags.ref;
      base = null;
    }
  }
  const overrides = {
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    ...(flags.settings ?? {}),
  };
  const flag = role === 'policy' ? '--' : '--judge-';
  if (name !== undefined) {
    const extra = Object.keys(overrides)[0];
    if (extra)
      throw new UsageError(
        `${flag}${kebab(extra)} applies to an endpoint given by URL; "${name}" is a registered endpoint and keeps its own settings`,
      );
    return { name };
  }
  if (!base) return null;
  const { apiKeyEnv, ...endpoint } = { ...base, ...overrides } as Record<string, unknown> & {
    apiKeyEnv?: unknown;
  };
  if (endpoint.model === undefined)
    throw new UsageError(
      `${role === 'policy' ? '--policy' : '--judge'} URL needs ${flag}model NAME (the model name the server serves)`,
    );
  if (apiKeyEnv !== undefined) {
    if (typeof apiKeyEnv !== 'string')
      throw new UsageError(`${where}.apiKeyEnv must be an environment variable's name`);
    const key = process.env[apiKeyEnv];
    if (!key && endpoint.apiKey === undefined)
      throw new UsageError(`${where}.apiKeyEnv: the environment variable ${apiKeyEnv} is not set`);
    if (key && endpoint.apiKey === undefined) endpoint.apiKey = key;
  }
  const checked = endpointSchema.safeParse({ name: 'check', ...endpoint });
  if (!checked.success) {
    const issue = checked.error.issues[0] as z.core.$ZodIssue;
    throw new UsageError(describeIssue(issue, `${role}.${issue.path.join('.')}`));
  }
  return {
    endpoint: endpoint as EndpointSettings,
    ...(typeof apiKeyEnv === 'string' ? { apiKeyEnv } : {}),
  };
}
