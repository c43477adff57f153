import { stableHash } from '../revision/stable-hash';
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
  const path = [
    { action: '', observation: undefined },
    ...plan.actions.map((action, i) => ({ action, observation: plan.expectedObservations?.[i] })),
  ];
  const { last } = await walk(session, task, path, 0, { resets: 0, steps: 0 });
  return { via: 'replay', last };
}

/** One step of a root-to-node path as the tree stored it (the root step has an empty action). */
export interface StoredStep {
  action: string;
  observation: string;
}

/**
 * Keys of a path's positions: key 0 = the task's reset (task + first observation), key i = action
 * i with what it observed. Two envs with equal keys went through the same observed states; an env
 * whose keys are a prefix of a node's keys is on the way to that node.
 */
export function pathKeys(task: number, path: readonly StoredStep[]): string[] {
  return path.map((step, i) => (i === 0 ? stableHash('reset', task, step.observation) : stepKey(step)));
}

/** The key of one step after the reset (see `pathKeys`). */
export function stepKey(step: StoredStep): string {
  return stableHash(step.action, step.observation);
}

/** Env calls a restore made (for the manifest's cost per expansion). */
export interface EnvCost {
  resets: number;
  steps: number;
}

function isPrefixOf(prefix: readonly string[], of: readonly string[]): boolean {
  return prefix.length > 0 && prefix.length <= of.length && prefix.every((key, i) => key === of[i]);
}

/**
 * Puts `session` at the end of `path` (from the task's start), starting from where the env is:
 * `current` = the keys of its position (null when unknown). When the env is already on the way
 * (its keys are a prefix of the path's), only the missing actions are stepped; else it is reset and
 * the whole path replayed. Every observation is checked against the stored one: a difference means
 * the server is not deterministic for this task, and is a `ReplayDivergedError`. Returns the keys
 * of the position reached (= `pathKeys(task, path)`). `view`: how the run stores an observation
 * (e.g. cleaned), applied before comparing.
 */
export async function moveAlongPath(
  session: EnvSession,
  task: number,
  path: readonly StoredStep[],
  current: readonly string[] | null,
  cost: EnvCost,
  view: (observation: string) => string = (observation) => observation,
): Promise<string[]> {
  const keys = pathKeys(task, path);
  await walk(session, task, path, current && isPrefixOf(current, keys) ? current.length : 0, cost, view);
  return keys;
}

/** Steps `path[from..]` (from 0: reset first), checking each observation the path knows. */
async function walk(
  session: EnvSession,
  task: number,
  path: readonly { action: string; observation: string | undefined }[],
  from: number,
  cost: EnvCost,
  view: (observation: string) => string = (observation) => observation,
): Promise<{ last: StepResult | null }> {
  let last: StepResult | null = null;
  let index = from;
  if (index === 0) {
    // The reset's observation is not compared: the real TextCraft server lists a task's crafting
    // commands in an order that changes with each server process (same goal, same game; seen on
    // AgentGym 3ef9235 across a restart), so only what the actions observe must match.
    last = await session.reset(task);
    cost.resets++;
    index = 1;
  }
  for (; index < path.length; index++) {
    if (last?.done) {
      throw new ReplayDivergedError(
        `replay of task ${task}: the episode ended before action ${index} of ${path.length - 1}`,
        index - 1,
      );
    }
    const step = path[index]!;
    last = await session.step(step.action);
    cost.steps++;
    const what = `action ${index} (${JSON.stringify(step.action)})`;
    expectObservation(task, what, step.observation, view(last.observation), index - 1);
  }
  return { last };
}

function expectObservation(
  task: number,
  what: string,
  expected: string | undefined,
  actual: string,
  stepIndex: number,
): void {
  if (expected === undefined || expected === actual) return;
  throw new ReplayDivergedError(
    `replay of task ${task}: ${what} observed ${JSON.stringify(actual.slice(0, 120))}, expected ` +
      `${JSON.stringify(expected.slice(0, 120))} (the environment server is not deterministic for this task)`,
    stepIndex,
  );
}
