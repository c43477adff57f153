import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { runSpecSchema } from '../shared/contracts/run-spec';
import { UsageError } from './command';

// The run-spec fields as `agent-r build` flags: derived from the API's run-spec schema (camelCase
// key <-> kebab-case flag), so a new field is reachable without touching this file; their parseArgs
// options, their --help lines and the parsing of a flag's text into the field's value.

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
  jobTimeoutMs: 'retry a job whose consumer is silent this long (one still queued is re-sent free)',
  startFrom: 'task id -> responses replayed before the search',
};

type FieldKind = 'number' | 'boolean' | 'string' | 'enum' | 'lines' | 'json';

export interface SpecField {
  key: string;
  integer?: boolean;
  flag: string;
  kind: FieldKind;
  values?: string[];
  defaultValue?: unknown;
}

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

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

export function numberFrom(text: string, flag: string): number {
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

export async function flagValue(field: SpecField, raw: string | boolean): Promise<unknown> {
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
