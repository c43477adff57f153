import { MAX_TASKS_PER_RUN, parseTaskList } from '../contracts/run-spec';
import {
  referenceSciWorldTraining,
  SCIWORLD_GAME_COUNT,
  sciWorldIndex,
  sciWorldTaskType,
} from './sciworld-tasks';
import type { AgentGymFlavor, EnvKind } from './types';

// Task lists as the paper uses them, for `--tasks`, a config file's `tasks:` and the API's run spec
// (a string there). Pure: reading a split file (`@FILE`) is the CLI's part (cli/task-lists.ts).
//
// A list is comma-separated items:
//   N, N-M            task ids (AgentGym data indices; a crafting world's goal indices)
//   textcraft_12      an id as AgentGym's split files write it; the prefix must be the run's flavour
//   TYPE:V, TYPE:V-W, TYPE:*   SciWorld only: variations of a task type, TYPE a ScienceWorld task
//                     name (boil) or id (1-1), e.g. boil:0-4,1-2:3
//   reference         SciWorld only: the reference's training enumeration (23 task types x
//                     variations 1-5 = 115 tasks; shared/env/sciworld-tasks.ts)
// Ids are checked against what the environment has: SciWorld 0-4638 (AgentGym's games over
// ScienceWorld 1.3.0), TextCraft 0-543 (its 544 goals; the server would wrap a larger id round).

/** TextCraft's goals (AgentGym's server plays goal `idx % 544`). */
export const TEXTCRAFT_GOAL_COUNT = 544;

export interface TaskContext {
  env: EnvKind;
  /** The AgentGym flavour (env agentgym). */
  flavor?: AgentGymFlavor | undefined;
}

const SPLIT_ID = /^([a-z][a-z0-9]*)_(\d+)$/i;
const SCIWORLD_ITEM = /^([a-z0-9-]+):(\*|\d+(?:\s*-\s*\d+)?)$/i;

function sciWorldItem(type: string, variations: string): number[] {
  if (variations === '*') {
    const count = sciWorldTaskType(type)?.variations ?? 1; // unknown: sciWorldIndex says why
    return Array.from({ length: count }, (_, v) => sciWorldIndex(type, v));
  }
  const [from, to = from] = variations.split('-').map((v) => Number(v.trim())) as [number, number?];
  if ((to as number) < from) throw new Error(`"${type}:${variations}" ends before it starts`);
  const out: number[] = [];
  for (let v = from; v <= (to as number); v++) out.push(sciWorldIndex(type, v));
  return out;
}

/** The ids of one item (no `@FILE`). */
function itemIds(piece: string, context: TaskContext): number[] {
  const sciworld = context.env === 'agentgym' && context.flavor === 'sciworld';
  if (piece.toLowerCase() === 'reference') {
    if (!sciworld)
      throw new Error('"reference" is SciWorld\'s training enumeration (--env agentgym --flavor sciworld)');
    return referenceSciWorldTraining();
  }
  const split = SPLIT_ID.exec(piece);
  if (split) {
    const prefix = (split[1] as string).toLowerCase();
    if (context.env !== 'agentgym')
      throw new Error(`"${piece}" is an AgentGym ${prefix} id; this run's env is ${context.env}`);
    if (prefix !== context.flavor)
      throw new Error(`"${piece}" is a ${prefix} id but the flavour is ${context.flavor ?? 'not set'}`);
    return [Number(split[2])];
  }
  const typed = SCIWORLD_ITEM.exec(piece);
  if (typed) {
    if (!sciworld) throw new Error(`"${piece}" names SciWorld variations; this run is not SciWorld`);
    return sciWorldItem(typed[1] as string, (typed[2] as string).replace(/\s+/g, ''));
  }
  return parseTaskList(piece);
}

/** Resolves a task list (syntax above) to ids in ascending order, checked for the context. */
export function resolveTaskList(text: string, context: TaskContext): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const piece = part.trim();
    if (!piece) continue;
    if (piece.startsWith('@')) throw new Error(`"${piece}": split files are read by the CLI only`);
    for (const id of itemIds(piece, context)) out.add(id);
    if (out.size > MAX_TASKS_PER_RUN) throw new Error(`more than ${MAX_TASKS_PER_RUN} tasks`);
  }
  if (out.size === 0) throw new Error('no tasks given');
  const tasks = [...out].sort((a, b) => a - b);
  checkTaskIds(tasks, context);
  return tasks;
}

/** Throws when an id lies outside what the environment has (see the header). */
export function checkTaskIds(tasks: readonly number[], context: TaskContext): void {
  if (context.env !== 'agentgym') return;
  const limit =
    context.flavor === 'sciworld'
      ? SCIWORLD_GAME_COUNT
      : context.flavor === 'textcraft'
        ? TEXTCRAFT_GOAL_COUNT
        : null;
  if (limit === null) return;
  const beyond = tasks.filter((t) => t >= limit);
  if (beyond.length === 0) return;
  const what =
    context.flavor === 'sciworld'
      ? `SciWorld has ${limit} games (ids 0-${limit - 1}: AgentGym's task x variation list over ScienceWorld 1.3.0)`
      : `TextCraft has ${limit} goals (ids 0-${limit - 1}; the server would play goal id % ${limit})`;
  throw new Error(
    `${what}; out of range: ${beyond.slice(0, 5).join(', ')}${beyond.length > 5 ? ', ...' : ''}`,
  );
}

/** The tasks a build uses without a task list: SciWorld the reference's enumeration, else 0-19. */
export function defaultBuildTasks(context: TaskContext): number[] {
  if (context.env === 'agentgym' && context.flavor === 'sciworld')
    return referenceSciWorldTraining().sort((a, b) => a - b);
  return parseTaskList('0-19');
}
