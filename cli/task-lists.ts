import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSplit, type Split } from '../shared/eval/splits';
import { checkTaskIds, defaultBuildTasks, resolveTaskList, type TaskContext } from '../shared/env/task-lists';
import { UsageError } from './command';

// The CLI's side of task lists (syntax: shared/env/task-lists.ts): `@FILE` items read a split file
// (resolved from `baseDir`: the caller's directory for a flag, the config file's for `tasks:`), and
// `--split FILE` bounds a build to a split. Every problem is a UsageError naming where it came from.

/** Reads and parses a split file; its ids must belong to the run's environment. */
export async function readSplitFile(path: string, context: TaskContext, where: string): Promise<Split> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${where}: cannot read ${path}: ${(error as Error).message}`);
  }
  let split: Split;
  try {
    split = parseSplit(text);
  } catch (error) {
    throw new UsageError(`${where}: ${path}: ${(error as Error).message}`);
  }
  if (split.flavor !== null && (context.env !== 'agentgym' || split.flavor !== context.flavor))
    throw new UsageError(
      `${where}: ${path} holds ${split.flavor} ids but this run is ${context.env === 'agentgym' ? `--flavor ${context.flavor}` : `--env ${context.env}`}`,
    );
  try {
    checkTaskIds(split.tasks, context);
  } catch (error) {
    throw new UsageError(`${where}: ${path}: ${(error as Error).message}`);
  }
  return split;
}

/** A task list with `@FILE` items (files read from `baseDir`), resolved and checked. */
export async function resolveTaskArg(
  text: string,
  context: TaskContext,
  where: string,
  baseDir = process.cwd(),
): Promise<number[]> {
  const fromFiles: number[] = [];
  const rest: string[] = [];
  for (const part of text.split(',')) {
    const piece = part.trim();
    if (!piece.startsWith('@')) {
      rest.push(piece);
      continue;
    }
    if (piece.length === 1) throw new UsageError(`${where}: "@" needs a file name (@path/to/split.json)`);
    fromFiles.push(...(await readSplitFile(resolve(baseDir, piece.slice(1)), context, where)).tasks);
  }
  let listed: number[] = [];
  if (rest.some((p) => p !== '') || fromFiles.length === 0) {
    try {
      listed = resolveTaskList(rest.join(','), context);
    } catch (error) {
      throw new UsageError(`${where}: ${(error as Error).message}`);
    }
  }
  return [...new Set([...listed, ...fromFiles])].sort((a, b) => a - b);
}

export interface BuildTaskSources {
  /** `tasks:` of a config file (a list string, a number or an array of ids). */
  config?: unknown;
  configPath?: string;
  /** --tasks */
  flag?: string | undefined;
  /** --split FILE */
  split?: string | undefined;
}

/**
 * A build's tasks: --tasks (else the config's `tasks:`, else all of --split, else the default:
 * SciWorld the reference's enumeration, other envs 0-19). With --split, every task must be one
 * of the split's (exit 2 naming those that are not).
 */
export async function buildTasks(sources: BuildTaskSources, context: TaskContext): Promise<number[]> {
  const configDir = sources.configPath ? resolve(sources.configPath, '..') : process.cwd();
  let tasks: number[] | null = null;
  if (sources.flag !== undefined) tasks = await resolveTaskArg(sources.flag, context, '--tasks');
  else if (typeof sources.config === 'string' || typeof sources.config === 'number')
    tasks = await resolveTaskArg(
      String(sources.config),
      context,
      `--config ${sources.configPath}: tasks`,
      configDir,
    );
  else if (Array.isArray(sources.config)) {
    tasks = sources.config as number[]; // checked by the run-spec schema
    try {
      checkTaskIds(
        tasks.filter((t) => Number.isInteger(t)),
        context,
      );
    } catch (error) {
      throw new UsageError(`--config ${sources.configPath}: tasks: ${(error as Error).message}`);
    }
  }
  if (sources.split === undefined) return tasks ?? defaultBuildTasks(context);
  const split = await readSplitFile(resolve(sources.split), context, '--split');
  if (tasks === null) return [...split.tasks].sort((a, b) => a - b);
  const inSplit = new Set(split.tasks);
  const outside = tasks.filter((t) => !inSplit.has(t));
  if (outside.length > 0)
    throw new UsageError(
      `--split ${sources.split}: ${outside.length} task(s) are not in the split: ${outside.slice(0, 10).join(', ')}${outside.length > 10 ? ', ...' : ''}`,
    );
  return tasks;
}
