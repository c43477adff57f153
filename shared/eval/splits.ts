import { MAX_TASKS_PER_RUN, parseTaskList } from '../contracts/run-spec';

// Which tasks an evaluation uses.
//
// AgentGym: the published test splits (files of `{"item_id": "textcraft_12"}` entries). The product
// never reads them from disk at run time: the CLI reads the file the user passes (`--split FILE`)
// and sends explicit task ids; the API takes explicit ids.
//
// Built-in crafting worlds: one deterministic held-out set, every 5th goal (goal indices 4, 9,
// 14, ...). Goals are sorted by depth, so the held-out set spans every depth. Iteration loops draw
// their build tasks from the other goals (`trainingTasks`), so a loop never trains on the tasks
// its evaluations score. (Plain `agent-r build` keeps the Contract's default `--tasks 0-19`.)

export const HELD_OUT_EVERY = 5;
/** Goal index i is held out when i % HELD_OUT_EVERY === HELD_OUT_OFFSET (task 0 stays a training task). */
export const HELD_OUT_OFFSET = 4;

/** Crafting task t plays goal t % goalCount. */
export function isHeldOut(task: number, goalCount: number): boolean {
  if (!Number.isInteger(goalCount) || goalCount < 1) throw new Error(`bad goal count ${goalCount}`);
  return (task % goalCount) % HELD_OUT_EVERY === HELD_OUT_OFFSET;
}

/** The held-out evaluation tasks of a crafting world with `goalCount` goals (one per goal). */
export function heldOutTasks(goalCount: number): number[] {
  const out: number[] = [];
  for (let i = HELD_OUT_OFFSET; i < goalCount; i += HELD_OUT_EVERY) out.push(i);
  return out;
}

/** The first `count` tasks that are not held out (training tasks for builds in a loop). */
export function trainingTasks(goalCount: number, count: number): number[] {
  const out: number[] = [];
  for (let t = 0; out.length < count && t < count * 2 + HELD_OUT_EVERY; t++) {
    if (!isHeldOut(t, goalCount)) out.push(t);
  }
  return out;
}

/** Drops held-out tasks from a build's task list. */
export function withoutHeldOut(tasks: readonly number[], goalCount: number): number[] {
  return tasks.filter((t) => !isHeldOut(t, goalCount));
}

export interface Split {
  /** The AgentGym flavour named by the ids (`textcraft_12` -> textcraft), null for bare ids. */
  flavor: string | null;
  tasks: number[];
}

function idOf(entry: unknown): { flavor: string | null; task: number } {
  if (typeof entry === 'number' && Number.isInteger(entry) && entry >= 0)
    return { flavor: null, task: entry };
  const text =
    typeof entry === 'string'
      ? entry
      : entry && typeof entry === 'object' && typeof (entry as { item_id?: unknown }).item_id === 'string'
        ? (entry as { item_id: string }).item_id
        : null;
  if (text === null) throw new Error(`split entry ${JSON.stringify(entry)?.slice(0, 80)} is not a task id`);
  const match = /^(?:([A-Za-z][A-Za-z0-9]*)_)?(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`split entry "${text.slice(0, 80)}" is not a task id like textcraft_12`);
  return { flavor: match[1]?.toLowerCase() ?? null, task: Number(match[2]) };
}

/**
 * The reference's training files (`textcraft_train_clean.json`, `webshop_train_clean.json`) map
 * each training id to a number (`{"31": 7, ...}`): the keys are the ids (ascending: JSON objects keep integer keys sorted).
 */
function trainCleanIds(json: unknown): string[] | null {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return null;
  const keys = Object.keys(json);
  return keys.length > 0 && keys.every((k) => /^\d+$/.test(k)) ? keys : null;
}

/**
 * Reads a split file: a JSON array of `{"item_id": "textcraft_12"}` (AgentGym's files), of ids
 * (`"textcraft_12"`, `12`), an object `{"tasks": [...]}`, a training map `{"31": 7, ...}`, or plain text in the CLI's task-list
 * syntax (`0-19,25`). Ids keep the file's order; duplicates are dropped.
 */
export function parseSplit(text: string): Split {
  const trimmed = text.trim();
  if (!trimmed) throw new Error('the split is empty');
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) {
    return { flavor: null, tasks: parseTaskList(trimmed.replace(/\s+/g, ',')) };
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    throw new Error(`the split is not valid JSON: ${(error as Error).message}`);
  }
  const entries = Array.isArray(json)
    ? json
    : json && typeof json === 'object' && Array.isArray((json as { tasks?: unknown }).tasks)
      ? (json as { tasks: unknown[] }).tasks
      : trainCleanIds(json);
  if (!entries)
    throw new Error('the split must be a JSON array of task ids, {"tasks": [...]} or {"<id>": n, ...}');
  const ids = entries.map(idOf);
  const flavors = new Set(ids.map((i) => i.flavor).filter((f): f is string => f !== null));
  if (flavors.size > 1) throw new Error(`the split mixes environments: ${[...flavors].join(', ')}`);
  const tasks = [...new Set(ids.map((i) => i.task))];
  if (tasks.length === 0) throw new Error('the split has no tasks');
  if (tasks.length > MAX_TASKS_PER_RUN) throw new Error(`the split has more than ${MAX_TASKS_PER_RUN} tasks`);
  return { flavor: [...flavors][0] ?? null, tasks };
}
