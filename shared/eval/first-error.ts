import type { EvalStep } from './trajectory';

// Where a failed trajectory first went wrong (agent-r.md s.7: the position of the first error moves
// earlier with iterations). The critic's judgements decide when the tree has them (build trees);
// eval trees are not judged, so the first step the environment refused stands in for it.

/** Environment answers that mean the action did not work (TextCraft, WebShop, SciWorld wording). */
export const failedObservationPatterns: readonly RegExp[] = [
  /^could not\b/i,
  /^wrong item format\b/i,
  /^error\b/i,
  /^invalid action\b/i,
  /^no known action matches\b/i,
  /^nothing happens\b/i,
  /^the id -?\d+ is not valid\b/i,
  /^unknown action\b/i,
];

export function isFailedObservation(observation: string): boolean {
  const text = observation.trim();
  return failedObservationPatterns.some((pattern) => pattern.test(text));
}

export interface FirstError {
  /** 1-based step number. */
  step: number;
  source: 'judgement' | 'observation';
}

/**
 * The first error of a trajectory: the first step judged bad when any step carries a judgement,
 * otherwise the first step whose observation reports a failed action. Null when neither is found.
 */
export function firstErrorOf(steps: readonly EvalStep[]): FirstError | null {
  if (steps.some((s) => s.judgement !== null)) {
    const bad = steps.find((s) => s.judgement === 'bad');
    if (bad) return { step: bad.step, source: 'judgement' };
  }
  const refused = steps.find((s) => isFailedObservation(s.observation));
  return refused ? { step: refused.step, source: 'observation' } : null;
}
