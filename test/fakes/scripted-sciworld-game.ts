/**
 * A scripted stand-in for ScienceWorld behind the fake SciWorld server. Each task variation has
 * a solution; every solution action raises the score (a step's `reward` is the score's change),
 * the last one reaches 100 and ends the episode; focusing on the wrong thing scores -100 and ends
 * it too (ScienceWorld's failure). Anything else is a no-op with a fixed message.
 */
export interface SciWorldTask {
  taskName: string;
  variationIdx: number;
  description: string;
  room: string;
  /** Solution actions, in order. */
  solution: string[];
  /** `focus on <x>` for any x other than this one fails the task. */
  focusTarget: string;
}

export interface SciWorldGameStep {
  observation: string;
  reward: number;
  score: number;
  done: boolean;
}

export const SCRIPTED_SCIWORLD_TASKS: SciWorldTask[] = [
  {
    taskName: 'boil',
    variationIdx: 0,
    description: 'Your task is to boil water. First, focus on the water. Then heat it until it boils.',
    room: 'This room is called the kitchen. In it, you see: a stove, which is turned off. a pot containing water.',
    solution: ['focus on water', 'move pot to stove', 'activate stove', 'wait'],
    focusTarget: 'water',
  },
  {
    taskName: 'grow-plant',
    variationIdx: 0,
    description: 'Your task is to grow an apple plant. First, focus on a seed. Then plant it and water it.',
    room: 'This room is called the greenhouse. In it, you see: a flower pot. a seed jar. a watering can.',
    solution: ['focus on seed', 'move seed to flower pot', 'pour watering can into flower pot', 'wait'],
    focusTarget: 'seed',
  },
];

export function scriptedSciWorldGame() {
  let task: SciWorldTask = SCRIPTED_SCIWORLD_TASKS[0]!;
  let progress = 0;
  let score = 0;
  let over = false;

  function scoreAfter(steps: number): number {
    return Math.round((100 * steps) / task.solution.length);
  }

  return {
    load(taskIdx: number): void {
      task = SCRIPTED_SCIWORLD_TASKS[taskIdx]!;
      progress = 0;
      score = 0;
      over = false;
    },
    taskDescription: () => task.description,
    step(action: string): SciWorldGameStep {
      const before = score;
      let observation: string;
      if (over) {
        observation = 'The task is already over.';
      } else if (action === task.solution[progress]) {
        progress++;
        score = scoreAfter(progress);
        over = progress === task.solution.length;
        observation = over ? `You did it: ${action}. Task completed.` : `You ${action}.`;
      } else if (action.startsWith('focus on ') && action !== `focus on ${task.focusTarget}`) {
        score = -100;
        over = true;
        observation = `You focus on the ${action.slice('focus on '.length)}.`;
      } else if (action === 'look around') {
        observation = task.room;
      } else {
        observation = 'No known action matches that input.';
      }
      return { observation, reward: score - before, score, done: over };
    },
  };
}
