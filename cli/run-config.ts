import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { z } from 'zod';
import { type RunSpecInput, runSpecSchema } from '../shared/contracts/run-spec';
import type { AgentGymFlavor } from '../shared/env/types';
import { UsageError } from './command';
import { checkKnownKeys, type EndpointRef, endpointRef } from './config-endpoint';
import { describeIssue } from './flag-errors';
import { flagValue, numberFrom, specFields } from './spec-fields';
import { buildTasks } from './task-lists';

// The run spec of `agent-r build` from a config file (YAML or JSON) and flags: every field of the
// API's run spec (shared/contracts/run-spec.ts) is a config key and a flag (cli/spec-fields.ts), plus
// the policy and judge endpoints with their settings (cli/config-endpoint.ts). Flags override the
// file. Everything is checked with the API's own schemas before anything starts.

/** Config keys that are not run-spec fields. */
const CLI_ONLY_KEYS = ['repeatGoals'] as const;

export interface BuildPlan {
  /** The run spec without policy/judge names (set once the endpoints are registered). */
  spec: RunSpecInput;
  policy: EndpointRef;
  judge: EndpointRef | null;
  repeatGoals: boolean;
}

/** Reads a YAML or JSON config file into a plain object. */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(resolve(path), 'utf8');
  } catch (error) {
    throw new UsageError(`--config: cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `--config ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--config ${path} must hold a mapping of run-spec fields (key: value)`);
  return value as Record<string, unknown>;
}

type FlagValues = Record<string, string | boolean | undefined>;

/**
 * The build plan from `--config FILE` and flags (flags win), checked with the API's run-spec
 * schema: the message names the flag or config key at fault.
 */
export async function planFromConfig(
  config: Record<string, unknown>,
  configPath: string,
  flags: FlagValues,
): Promise<BuildPlan> {
  const specKeys = Object.keys(runSpecSchema.shape);
  checkKnownKeys(config, [...specKeys, ...CLI_ONLY_KEYS], `--config ${configPath}`);
  const spec: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  for (const key of specKeys) {
    if (key === 'policy' || key === 'judge' || config[key] === undefined) continue;
    spec[key] = config[key];
    origin.set(key, `${configPath}: ${key}`);
  }
  for (const field of specFields) {
    const negated = flags[`no-${field.flag}`];
    const raw = negated === true ? false : flags[field.flag];
    if (raw === undefined) continue;
    spec[field.key] = await flagValue(field, raw);
    origin.set(field.key, `--${field.flag}`);
  }
  if (typeof flags.tasks === 'string') origin.set('tasks', '--tasks');
  const env = spec.env ?? 'crafting';
  if (env !== 'agentgym') {
    for (const key of ['flavor', 'envServer'])
      if (spec[key] !== undefined)
        throw new UsageError(`${origin.get(key)} is for --env agentgym (this build's env is ${String(env)})`);
  } else {
    if (spec.envServer === undefined)
      throw new UsageError('--env agentgym needs --env-url URL (the AgentGym server)');
    spec.flavor ??= 'textcraft';
  }
  const context = { env: env as 'crafting' | 'agentgym', flavor: spec.flavor as AgentGymFlavor | undefined };
  const taskSources = { config: spec.tasks, configPath, flag: flags.tasks as string | undefined };
  spec.tasks = await buildTasks({ ...taskSources, split: flags.split as string | undefined }, context);
  const checked = runSpecSchema.safeParse({ ...spec, policy: 'check' });
  if (!checked.success) {
    const issue = checked.error.issues[0] as z.core.$ZodIssue;
    const key = String(issue.path[0] ?? '');
    const where = origin.get(key) ?? (key || 'run spec');
    const value = issue.path.length === 1 ? spec[key] : undefined;
    throw new UsageError(describeIssue(issue, where, value));
  }
  const settings: Record<string, unknown> = {};
  if (flags['max-concurrency'] !== undefined)
    settings.maxConcurrency = numberFrom(flags['max-concurrency'] as string, 'max-concurrency');
  if (flags['request-timeout-ms'] !== undefined)
    settings.timeoutMs = numberFrom(flags['request-timeout-ms'] as string, 'request-timeout-ms');
  if (flags['supports-n'] !== undefined) settings.supportsN = flags['supports-n'];
  if (flags['no-supports-n'] === true) settings.supportsN = false;
  const policy = endpointRef(
    'policy',
    config.policy,
    {
      ref: flags.policy as string | undefined,
      model: flags.model as string | undefined,
      apiKey: flags['api-key'] as string | undefined,
      settings,
    },
    configPath,
  ) ?? { name: 'sim' };
  const judge = endpointRef(
    'judge',
    config.judge,
    {
      ref: flags.judge as string | undefined,
      model: flags['judge-model'] as string | undefined,
      apiKey: flags['judge-api-key'] as string | undefined,
    },
    configPath,
  );
  const repeatGoals = flags['repeat-goals'] === true || config.repeatGoals === true;
  return { spec: spec as RunSpecInput, policy, judge, repeatGoals };
}

function formatTaskList(tasks: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < tasks.length; ) {
    let j = i;
    while (j + 1 < tasks.length && (tasks[j + 1] as number) === (tasks[j] as number) + 1) j++;
    parts.push(j > i ? `${tasks[i]}-${tasks[j]}` : String(tasks[i]));
    i = j + 1;
  }
  return parts.join(',');
}

function shownEndpoint(ref: EndpointRef): unknown {
  if ('name' in ref) return ref.name;
  const { apiKey, ...rest } = ref.endpoint;
  return { ...rest, ...(ref.apiKeyEnv ? { apiKeyEnv: ref.apiKeyEnv } : {}) };
}

/** The effective config as YAML that `--config` reads back: every field with its value or default. */
export function printConfig(plan: BuildPlan): string {
  const full = runSpecSchema.parse({ ...plan.spec, policy: 'x' }) as Record<string, unknown>;
  const { policy: _p, judge: _j, tasks, ...rest } = full;
  const out: Record<string, unknown> = {
    policy: shownEndpoint(plan.policy),
    ...(plan.judge ? { judge: shownEndpoint(plan.judge) } : {}),
    tasks: formatTaskList(tasks as number[]),
    ...rest,
    repeatGoals: plan.repeatGoals,
  };
  const secret =
    ('endpoint' in plan.policy && plan.policy.endpoint.apiKey && !plan.policy.apiKeyEnv) ||
    (plan.judge && 'endpoint' in plan.judge && plan.judge.endpoint.apiKey && !plan.judge.apiKeyEnv);
  const note = secret ? '# apiKey not shown: set it with apiKeyEnv: VARIABLE or --api-key\n' : '';
  return `# agent-r build config (agent-r build --config FILE reads this back)\n${note}${stringifyYaml(out)}`;
}
