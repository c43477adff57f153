// SciWorld's tasks as AgentGym indexes them, and the reference's training enumeration.
//
// AgentGym's SciWorld server (agentenv-sciworld/environment.py) builds one list of games at start:
// for each ScienceWorld task in the simulator's own order (`ScienceWorldEnv().tasks`, i.e. the task
// ids 1-1 .. 10-2), every variation 0..getMaxVariations-1, skipping the tasks 5-1, 5-2, 9-1, 9-2,
// 9-3, 10-1 and 10-2. `data_idx` (our task id) indexes that list. The variation counts below are
// those of ScienceWorld 1.3.0 (allenai/ScienceWorld e8216d6, the build in ../shared/vendor), read
// from the simulator with getMaxVariations: 4,639 games in all. Another ScienceWorld build may
// number the games differently (pin it; replay needs determinism).
//
// The reference (Agent-R's mcts_collection.py) searches SciWorld by task type: the task numbers
// [1..9, 12, 13, 17..22, 25..29, 0], which index ScienceWorld's task names in alphabetical order
// (`getTaskNames()`), i.e. every task AgentGym keeps (the numbers it leaves out, 10, 11, 14, 15, 16,
// 23 and 24, are exactly AgentGym's exclusions), and for each the variations k = 1..task_iteration
// (default 5; k = 0 is skipped). Its per-type index file is not published; we read variation k as
// the k-th game of that type in AgentGym's list.

export interface SciWorldTaskType {
  /** ScienceWorld's task id, e.g. "1-1". */
  id: string;
  /** ScienceWorld's task name, e.g. "boil". */
  name: string;
  /** Variations in ScienceWorld 1.3.0. */
  variations: number;
}

/** All 30 ScienceWorld tasks in the simulator's order (ScienceWorld 1.3.0, tasks.json). */
export const SCIWORLD_TASK_TYPES: readonly SciWorldTaskType[] = [
  { id: '1-1', name: 'boil', variations: 30 },
  { id: '1-2', name: 'melt', variations: 30 },
  { id: '1-3', name: 'freeze', variations: 30 },
  { id: '1-4', name: 'change-the-state-of-matter-of', variations: 30 },
  { id: '2-1', name: 'use-thermometer', variations: 540 },
  { id: '2-2', name: 'measure-melting-point-known-substance', variations: 436 },
  { id: '2-3', name: 'measure-melting-point-unknown-substance', variations: 300 },
  { id: '3-1', name: 'power-component', variations: 20 },
  { id: '3-2', name: 'power-component-renewable-vs-nonrenewable-energy', variations: 20 },
  { id: '3-3', name: 'test-conductivity', variations: 900 },
  { id: '3-4', name: 'test-conductivity-of-unknown-substances', variations: 600 },
  { id: '4-1', name: 'find-living-thing', variations: 300 },
  { id: '4-2', name: 'find-non-living-thing', variations: 300 },
  { id: '4-3', name: 'find-plant', variations: 300 },
  { id: '4-4', name: 'find-animal', variations: 300 },
  { id: '5-1', name: 'grow-plant', variations: 126 },
  { id: '5-2', name: 'grow-fruit', variations: 126 },
  { id: '6-1', name: 'chemistry-mix', variations: 32 },
  { id: '6-2', name: 'chemistry-mix-paint-secondary-color', variations: 36 },
  { id: '6-3', name: 'chemistry-mix-paint-tertiary-color', variations: 36 },
  { id: '7-1', name: 'lifespan-longest-lived', variations: 125 },
  { id: '7-2', name: 'lifespan-shortest-lived', variations: 125 },
  { id: '7-3', name: 'lifespan-longest-lived-then-shortest-lived', variations: 125 },
  { id: '8-1', name: 'identify-life-stages-1', variations: 14 },
  { id: '8-2', name: 'identify-life-stages-2', variations: 10 },
  { id: '9-1', name: 'inclined-plane-determine-angle', variations: 168 },
  { id: '9-2', name: 'inclined-plane-friction-named-surfaces', variations: 1386 },
  { id: '9-3', name: 'inclined-plane-friction-unnamed-surfaces', variations: 162 },
  { id: '10-1', name: 'mendelian-genetics-known-plant', variations: 120 },
  { id: '10-2', name: 'mendelian-genetics-unknown-plant', variations: 480 },
];

/** The tasks AgentGym's SciWorld server leaves out (agentenv-sciworld/environment.py). */
export const AGENTGYM_SCIWORLD_EXCLUDED: readonly string[] = [
  '5-1',
  '5-2',
  '9-1',
  '9-2',
  '9-3',
  '10-1',
  '10-2',
];

/** The reference's task numbers (indices into the alphabetical task names), in its order. */
export const REFERENCE_SCIWORLD_TASK_NUMBERS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 17, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29, 0,
];
/** The reference's variations per task type: k = 1..task_iteration (its default 5). */
export const REFERENCE_SCIWORLD_VARIATIONS = { first: 1, last: 5 } as const;

interface Game {
  type: SciWorldTaskType;
  /** data_idx of the type's variation 0. */
  offset: number;
}

const games = new Map<string, Game>();
let total = 0;
for (const type of SCIWORLD_TASK_TYPES) {
  if (AGENTGYM_SCIWORLD_EXCLUDED.includes(type.id)) continue;
  games.set(type.id, { type, offset: total });
  total += type.variations;
}

/** data_idx values the pinned server accepts: 0 .. SCIWORLD_GAME_COUNT - 1. */
export const SCIWORLD_GAME_COUNT = total;

/** A task type by ScienceWorld name (boil) or id (1-1). */
export function sciWorldTaskType(nameOrId: string): SciWorldTaskType | undefined {
  const key = nameOrId.trim().toLowerCase().replace('mendellian', 'mendelian');
  return SCIWORLD_TASK_TYPES.find((t) => t.id === key || t.name === key);
}

/** The data_idx of variation `variation` of a task type (name or id); throws with the reason. */
export function sciWorldIndex(nameOrId: string, variation: number): number {
  const type = sciWorldTaskType(nameOrId);
  if (!type)
    throw new Error(`"${nameOrId}" is not a SciWorld task type (names like boil, ids like 1-1: see --help)`);
  const game = games.get(type.id);
  if (!game) throw new Error(`SciWorld task ${type.id} (${type.name}) is one AgentGym leaves out`);
  if (!Number.isInteger(variation) || variation < 0 || variation >= type.variations)
    throw new Error(
      `${type.name} has variations 0-${type.variations - 1}, not ${variation} (ScienceWorld 1.3.0)`,
    );
  return game.offset + variation;
}

/** Task type and variation of a data_idx (null when out of range). */
export function sciWorldGame(index: number): { type: SciWorldTaskType; variation: number } | null {
  for (const game of games.values()) {
    if (index >= game.offset && index < game.offset + game.type.variations)
      return { type: game.type, variation: index - game.offset };
  }
  return null;
}

/** The task types in the order of ScienceWorld's `getTaskNames()` (alphabetical). */
const alphabetical = [...SCIWORLD_TASK_TYPES].sort((a, b) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
);

/** The reference's SciWorld training tasks as data_idx values, in its order (23 types x 5). */
export function referenceSciWorldTraining(): number[] {
  const out: number[] = [];
  for (const number of REFERENCE_SCIWORLD_TASK_NUMBERS) {
    const type = alphabetical[number] as SciWorldTaskType;
    const last = Math.min(REFERENCE_SCIWORLD_VARIATIONS.last, type.variations - 1);
    for (let k = REFERENCE_SCIWORLD_VARIATIONS.first; k <= last; k++) out.push(sciWorldIndex(type.id, k));
  }
  return out;
}
