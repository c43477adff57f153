import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { z } from 'zod';
import { endpointSchema } from '../shared/inference/endpoint';
import { type RunSpecInput, runSpecSchema } from '../shared/contracts/run-spec';
import type { AgentGymFlavor } from '../shared/env/types';
import { UsageError } from './command';
import { closest, describeIssue } from './flag-errors';
import { buildTasks } from './task-lists';

// The run spec of `agent-r build` from a config file (YAML or JSON) and flags: every field of the
// API's run spec (shared/run-spec.ts) is a config key and a flag (camelCase key <-> kebab-case
// flag, derived from the schema so new fields are reachable without touching this file), plus the
// policy and judge endpoints with their settings. Flags override the file. Everything is checked
// with the API's own schemas before anything starts.

/** Run-spec keys with a flag of another name, or none (they are set another way). */
const FLAG_NAMES: Record<string, string | null> = {
  envServer: 'env-url',
  policy: null,
  judge: null,
  tasks: null,
};

/** One line on each run-spec flag in --help (a field without one is shown by its config key). */
const FIELD_HELP: Record<string, string> = {
  iterations: 'MCTS descents per task',
  width: 'children per expansion',
  depth: 'steps per trajectory at most',
  alpha: 'final reward a good trajectory needs',
  beta: 'margin between good and bad rewards',
  c: 'UCT exploration constant',
  transition: 'revision transition: model-written or ended at the error',
  parallelism: 'descents in flight per tree (1: reference-exact)',
  seed: 'seed of the run',
  temperature: 'policy sampling temperature',
  maxTokens: 'completion tokens per policy call',
  contextTokens: "the model's context window",
  preset: 'prompt preset',
  maxPairsPerTask: 'good/bad pairs per task at most (default: all)',
  judgeLookahead: 'steps of a bad path judged per round',
  judgeDuringSearch: 'judge while the search goes on',
  revisionSentences: 'revision signals, one per line (or a JSON list)',
  label: 'a label for the run',
  curation:
    'reference: every record the reference writes; clean: no duplicates, loops or retaken errors, shortest partner, 32 per task (README: Curation)',
  jobTimeoutMs: 're-send a job without result after this long',
  startFrom: 'task id -> responses replayed before the search',
};

/** Endpoint settings a config file may give for policy and judge (besides the endpointSchema's). */
const ENDPOINT_EXTRA_KEYS = ['apiKeyEnv'] as const;
/** Config keys that are not run-spec fields. */
const CLI_ONLY_KEYS = ['repeatGoals'] as const;

type FieldKind = 'number' | 'boolean' | 'string' | 'enum' | 'lines' | 'json';

interface SpecField {
  key: string;
  integer?: boolean;
  flag: string;
  kind: FieldKind;
  values?: string[];
  defaultValue?: unknown;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function describeField(key: string, schema: z.ZodType): SpecField | null {
  const flag = key in FLAG_NAMES ? FLAG_NAMES[key] : kebab(key);
  if (flag === null || flag === undefined) return null;
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's definitions
  let inner: any = schema;
  let defaultValue: unknown;
  while (['default', 'optional', 'prefault', 'nullable'].includes(inner.def.type)) {
    if (inner.def.type === 'default') defaultValue = inner.def.defaultValue;
    inner = inner.def.innerType;
  }
  const type: string = inner.def.type;
  if (type === 'number') return { key, flag, kind: 'number', integer: inner.isInt === true, defaultValue };
  if (type === 'boolean') return { key, flag, kind: 'boolean', defaultValue };
  if (type === 'enum')
    return { key, flag, kind: 'enum', values: Object.keys(inner.def.entries), defaultValue };
  if (type === 'string') return { key, flag, kind: 'string', defaultValue };
  if (type === 'array' && inner.def.element.def.type === 'string') return { key, flag, kind: 'lines' };
  return { key, flag, kind: 'json', defaultValue };
}

/** Every run-spec field that has a flag, in the schema's order. */
export const specFields: SpecField[] = Object.entries(runSpecSchema.shape)
  .map(([key, schema]) => describeField(key, schema as z.ZodType))
  .filter((f): f is SpecField => f !== null);

/** The parseArgs options of the run-spec flags (booleans also get `--no-NAME`). */
export function specFlagOptions(): Record<string, { type: 'string' | 'boolean' }> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const field of specFields) {
    options[field.flag] = { type: field.kind === 'boolean' ? 'boolean' : 'string' };
    if (field.kind === 'boolean') options[`no-${field.flag}`] = { type: 'boolean' };
  }
  return options;
}

/** Help lines for the run-spec flags, generated from the schema (kinds, choices, defaults). */
export function specFlagHelp(skip: string[]): string {
  const lines: string[] = [];
  for (const field of specFields) {
    if (skip.includes(field.flag)) continue;
    const arg =
      field.kind === 'number'
        ? field.integer
          ? ' N'
          : ' X'
        : field.kind === 'boolean'
          ? ''
          : field.kind === 'enum'
            ? ` ${field.values?.join('|')}`
            : field.kind === 'lines'
              ? ' FILE'
              : field.kind === 'json'
                ? ' JSON|FILE'
                : ' TEXT';
    const name = field.kind === 'boolean' ? `--[no-]${field.flag}` : `--${field.flag}${arg}`;
    const def = field.defaultValue === undefined ? '' : `(${JSON.stringify(field.defaultValue)})`;
    const about = FIELD_HELP[field.key] ?? field.key;
    lines.push(`  ${name.padEnd(34)} ${about}${def ? ` ${def}` : ''}`);
  }
  return lines.join('\n');
}

/** A policy or judge: a registered endpoint's name ("sim" included) or an endpoint to register. */
export type EndpointSettings = Omit<z.input<typeof endpointSchema>, 'name'> & { name?: string };
export type EndpointRef = { name: string } | { endpoint: EndpointSettings; apiKeyEnv?: string };

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

const isUrl = (text: string) => /^https?:\/\//.test(text);

function numberFrom(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${flag} must be a number, got "${text}"`);
  return value;
}

async function textOrFile(text: string, flag: string): Promise<string> {
  if (/^\s*[[{]/.test(text)) return text;
  try {
    return await readFile(resolve(text), 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${text}: ${(error as Error).message}`);
  }
}

async function flagValue(field: SpecField, raw: string | boolean): Promise<unknown> {
  switch (field.kind) {
    case 'number':
      return numberFrom(raw as string, field.flag);
    case 'boolean':
      return raw;
    case 'lines': {
      const text = await textOrFile(raw as string, field.flag);
      if (/^\s*\[/.test(text)) return parseJsonFlag(text, field.flag);
      return text
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    }
    case 'json':
      return parseJsonFlag(await textOrFile(raw as string, field.flag), field.flag);
    default:
      return raw;
  }
}

function parseJsonFlag(text: string, flag: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new UsageError(`--${flag}: not valid JSON or YAML: ${(error as Error).message}`);
  }
}

type FlagValues = Record<string, string | boolean | undefined>;

function checkKnownKeys(object: Record<string, unknown>, known: string[], where: string): void {
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
function endpointRef(
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
