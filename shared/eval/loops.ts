// Repeated-action loops (agent-r.md s.7: "repeated action sequences of length 1-4 drop"): a
// trajectory loops when some sequence of 1 to 4 actions is immediately repeated, e.g.
// `get 1 oak log, get 1 oak log` (length 1) or `craft a, inventory, craft a, inventory` (length 2).

export const MAX_LOOP_LENGTH = 4;

/** Actions compared as the environment would read them: case, spacing and a final dot ignored. */
export function normalizeAction(action: string): string {
  return action.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
}

export interface ActionLoop {
  /** Index (0-based) of the first action of the loop. */
  start: number;
  /** Length of the repeated unit (1..maxLength). */
  length: number;
  /** How many times the unit occurs back to back (>= minRepeats). */
  repeats: number;
}

export interface LoopOptions {
  /** Longest unit looked for (default 4). */
  maxLength?: number;
  /** Occurrences in a row that make a loop (default 2). */
  minRepeats?: number;
}

function sameRun(actions: readonly string[], a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (actions[a + k] !== actions[b + k]) return false;
  return true;
}

/** A unit that is itself a repetition (`x x`) is reported at its shorter length only. */
function isPrimitive(actions: readonly string[], start: number, length: number): boolean {
  for (let d = 1; d < length; d++) {
    if (length % d !== 0) continue;
    let periodic = true;
    for (let k = d; k < length && periodic; k++)
      if (actions[start + k] !== actions[start + k - d]) periodic = false;
    if (periodic) return false;
  }
  return true;
}

/**
 * Every maximal loop of the trajectory: for each unit length, the runs of a unit repeated at least
 * `minRepeats` times in a row, reported once (at their first position, with their repeat count).
 * Empty actions are never a loop unit.
 */
export function findActionLoops(rawActions: readonly string[], options: LoopOptions = {}): ActionLoop[] {
  const maxLength = options.maxLength ?? MAX_LOOP_LENGTH;
  const minRepeats = Math.max(2, options.minRepeats ?? 2);
  const actions = rawActions.map(normalizeAction);
  const loops: ActionLoop[] = [];
  for (let length = 1; length <= maxLength; length++) {
    let start = 0;
    while (start + length * minRepeats <= actions.length) {
      let repeats = 1;
      while (
        start + (repeats + 1) * length <= actions.length &&
        sameRun(actions, start, start + repeats * length, length)
      )
        repeats++;
      const unitIsEmpty = actions.slice(start, start + length).some((a) => a === '');
      if (repeats >= minRepeats && !unitIsEmpty && isPrimitive(actions, start, length)) {
        loops.push({ start, length, repeats });
        // Skip past the loop, keeping its last unit so an overlapping different loop can start there.
        start += (repeats - 1) * length;
      } else {
        start += 1;
      }
    }
  }
  return loops.sort((a, b) => a.start - b.start || a.length - b.length);
}
