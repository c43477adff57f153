import { createRng } from '../../random';
import type { EnvSession, StepResult } from '../types';
import type { World } from './world';
import type { WorldIndex } from './world-index';
import { buildWorldIndex, findGoalIndex } from './world-index';
import { craftingCommandLines, initialObservation } from './commands';
import type { CraftingState } from './rules';
import { applyAction } from './rules';
import { craftingSnapshotSchema, type CraftingSnapshot } from './snapshot';

/**
 * The built-in `crafting` environment: TextCraft's rules over any World. `CraftingEngine` is the
 * synchronous core (cheap to create, snapshot and restore); `createCraftingSession` wraps it in
 * the async EnvSession interface the search drives.
 */

/** AgentGym re-seeds Python's RNG with 42 at every reset; we keep the number as our default. */
export const DEFAULT_CRAFTING_SEED = 42;

export interface CraftingOptions {
  /** Seeds the command shuffle; (world, task, seed) always gives the same first observation. */
  seed?: number;
}

export class UnknownGoalError extends Error {}

interface Episode {
  task: number;
  state: CraftingState;
  commands: string[];
  done: boolean;
  rngState: number[];
}

export class CraftingEngine {
  readonly world: World;
  readonly seed: number;
  private readonly index: WorldIndex;
  private episode: Episode | undefined;
  /**
   * The last snapshot restored, validated: an expansion restores the same node once per distinct
   * response, so only the first restore parses it (JSON + schema were a third of a step's CPU).
   * Its arrays are never mutated (an episode copies the inventory into a fresh Map).
   */
  private lastRestored: { serialized: string; snapshot: CraftingSnapshot } | undefined;

  constructor(world: World, options: CraftingOptions = {}) {
    this.world = world;
    this.seed = options.seed ?? DEFAULT_CRAFTING_SEED;
    this.index = buildWorldIndex(world);
  }

  /** Plays goal `task % goals.length`. */
  reset(task: number): StepResult {
    if (!Number.isSafeInteger(task) || task < 0)
      throw new RangeError(`task must be a non-negative integer, got ${task}`);
    const goal = this.world.goals[task % this.world.goals.length] as string;
    // A fresh RNG per reset (like AgentGym's), so the observation depends only on world, goal and seed.
    const rng = createRng(this.seed);
    const commands = craftingCommandLines(this.index, goal, rng);
    this.episode = {
      task,
      state: { goal, inventory: new Map() },
      commands,
      done: false,
      rngState: rng.state(),
    };
    return { observation: this.initialObservation, reward: 0, done: false };
  }

  /** Resets to the goal a user names (`oak planks`, `oak_planks`, `minecraft:oak_planks`). */
  resetToGoal(item: string): StepResult {
    const task = findGoalIndex(this.world, item);
    if (task === undefined) throw new UnknownGoalError(`"${item}" is not a goal of world ${this.world.name}`);
    return this.reset(task);
  }

  step(action: string): StepResult {
    const episode = this.current();
    const result = applyAction(this.index, episode.state, action);
    if (result.done) episode.done = true;
    return result;
  }

  get task(): number | undefined {
    return this.episode?.task;
  }
  get goal(): string | undefined {
    return this.episode?.state.goal;
  }
  /** True once the goal has been crafted in this episode (steps themselves report done only then). */
  get goalReached(): boolean {
    return this.episode?.done ?? false;
  }
  get commandLines(): readonly string[] {
    return this.current().commands;
  }
  get initialObservation(): string {
    const episode = this.current();
    return initialObservation(episode.commands, this.index.displayName(episode.state.goal));
  }
  inventory(): Array<[string, bigint]> {
    return [...this.current().state.inventory];
  }

  snapshot(): string {
    const episode = this.current();
    const snapshot: CraftingSnapshot = {
      v: 1,
      world: this.world.name,
      task: episode.task,
      goal: episode.state.goal,
      inventory: [...episode.state.inventory].map(([id, count]) => [id, count.toString()]),
      done: episode.done,
      commands: episode.commands,
      seed: this.seed,
      rng: episode.rngState,
    };
    return JSON.stringify(snapshot);
  }

  restore(serialized: string): void {
    const snapshot = this.validated(serialized);
    this.episode = {
      task: snapshot.task,
      state: {
        goal: snapshot.goal,
        inventory: new Map(snapshot.inventory.map(([id, count]) => [id, BigInt(count)])),
      },
      commands: snapshot.commands,
      done: snapshot.done,
      rngState: snapshot.rng,
    };
  }

  private validated(serialized: string): CraftingSnapshot {
    if (this.lastRestored?.serialized === serialized) return this.lastRestored.snapshot;
    let parsed: unknown;
    try {
      parsed = JSON.parse(serialized);
    } catch {
      throw new Error('crafting snapshot is not JSON');
    }
    const snapshot = craftingSnapshotSchema.parse(parsed);
    if (snapshot.world !== this.world.name) {
      throw new Error(`snapshot is of world ${snapshot.world}, this session plays ${this.world.name}`);
    }
    this.lastRestored = { serialized, snapshot };
    return snapshot;
  }

  private current(): Episode {
    if (!this.episode) throw new Error('crafting session has no task yet: call reset() first');
    return this.episode;
  }
}

export interface CraftingSession extends EnvSession {
  resetToGoal(item: string): Promise<StepResult>;
  /** The synchronous engine behind the session (goal, inventory, commands). */
  readonly engine: CraftingEngine;
}

export function createCraftingSession(world: World, options: CraftingOptions = {}): CraftingSession {
  const engine = new CraftingEngine(world, options);
  return {
    engine,
    reset: async (task) => engine.reset(task),
    resetToGoal: async (item) => engine.resetToGoal(item),
    step: async (action) => engine.step(action),
    snapshot: async () => engine.snapshot(),
    restore: async (snapshot) => engine.restore(snapshot),
    close: async () => {},
  };
}
