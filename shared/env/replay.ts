import type { EnvSession, StepResult } from './types';

export interface RestorePlan {
  /** From `EnvSession.snapshot()`; null or absent when the env cannot be cloned. */
  snapshot?: string | null;
  /** The actions from the task's start to the state wanted, in order. */
  actions: readonly string[];
  /**
   * Observations a straight run produced after each action (optional). When given, a replayed
   * step that observes something else fails: the env is not deterministic enough to replay.
   */
  expectedObservations?: readonly (string | undefined)[];
}

export interface RestoreOutcome {
  via: 'snapshot' | 'replay';
  /** The reset result when `actions` is empty, else the last replayed step; null after a snapshot. */
  last: StepResult | null;
}

/** Replaying ran into a state a straight run would not have reached. */
export class ReplayDivergedError extends Error {
  readonly stepIndex: number;
  constructor(message: string, stepIndex: number) {
    super(message);
    this.name = 'ReplayDivergedError';
    this.stepIndex = stepIndex;
  }
}

/**
 * Put `session` into the state reached by `actions` from `task`'s start: restore the snapshot when
 * there is one, else reset and replay every action. An episode that ends before its last action is
 * a divergence (a path recorded in a tree never continues past `done`).
 */
export async function restoreSession(
  session: EnvSession,
  task: number,
  plan: RestorePlan,
): Promise<RestoreOutcome> {
  if (plan.snapshot !== undefined && plan.snapshot !== null) {
    await session.restore(plan.snapshot);
    return { via: 'snapshot', last: null };
  }
  let last = await session.reset(task);
  for (let index = 0; index < plan.actions.length; index++) {
    if (last.done) {
      throw new ReplayDivergedError(
        `replay of task ${task}: the episode ended before action ${index + 1} of ${plan.actions.length}`,
        index,
      );
    }
    last = await session.step(plan.actions[index]!);
    const expected = plan.expectedObservations?.[index];
    if (expected !== undefined && expected !== last.observation) {
      throw new ReplayDivergedError(
        `replay of task ${task}: action ${index + 1} (${JSON.stringify(plan.actions[index])}) observed ` +
          `${JSON.stringify(last.observation.slice(0, 120))}, expected ${JSON.stringify(expected.slice(0, 120))}`,
        index,
      );
    }
  }
  return { via: 'replay', last };
}
