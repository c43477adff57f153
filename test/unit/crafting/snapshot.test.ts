import { describe, expect, it } from 'vitest';
import { CraftingEngine, createCraftingSession } from '../../../shared/env/crafting/engine';
import { recipeLine } from '../../../shared/env/crafting/names';
import { solveGoal } from '../../../shared/env/crafting/solver';
import type { World } from '../../../shared/env/crafting/world';
import { type Rng, createRng } from '../../../shared/random';
import { defaultWorld } from '../../../shared/worlds/default';
import { toyWorld } from './toy-world';

/** A random mix of useful and useless actions for one goal of `world`. */
function randomActions(world: World, goal: string, rng: Rng, length: number): string[] {
  const plan = solveGoal(world, goal);
  const otherPlan = solveGoal(world, world.goals[rng.int(world.goals.length)] as string);
  const names = [...world.baseItems, ...world.goals, ...Object.keys(world.tags)].map((id) =>
    id.slice(world.namespace.length + 1).replaceAll('_', ' '),
  );
  const generators: Array<() => string> = [
    () => plan[rng.int(plan.length)] as string,
    () => otherPlan[rng.int(otherPlan.length)] as string,
    () => `get ${rng.int(5)} ${names[rng.int(names.length)]}`,
    () =>
      recipeLine(world.recipes[rng.int(world.recipes.length)] as World['recipes'][number], world.namespace),
    () =>
      `craft ${rng.int(4)} ${names[rng.int(names.length)]} using ${rng.int(4)} ${names[rng.int(names.length)]}`,
    () => 'inventory',
    () => ['look around', 'Get 1 stick', 'craft x using y', ''][rng.int(4)] as string,
  ];
  const actions: string[] = [];
  // Keep the plan's order most of the time so goals are actually reached in some runs.
  let next = 0;
  while (actions.length < length) {
    if (rng.next() < 0.45 && next < plan.length) actions.push(plan[next++] as string);
    else actions.push((generators[rng.int(generators.length)] as () => string)());
  }
  return actions;
}

function checkSnapshotRoundTrips(world: World, trials: number, seed: number): { goalsReached: number } {
  const rng = createRng(seed);
  let goalsReached = 0;
  for (let trial = 0; trial < trials; trial++) {
    const task = rng.int(world.goals.length * 2);
    const goal = world.goals[task % world.goals.length] as string;
    const actions = randomActions(world, goal, rng, 1 + rng.int(40));
    const cut = rng.int(actions.length + 1);

    const straight = new CraftingEngine(world, { seed: trial });
    straight.reset(task);
    const expected = actions.map((action) => straight.step(action));

    const first = new CraftingEngine(world, { seed: trial });
    first.reset(task);
    const before = actions.slice(0, cut).map((action) => first.step(action));
    const snapshot = first.snapshot();
    const second = new CraftingEngine(world, { seed: trial });
    second.restore(snapshot);
    expect(second.snapshot()).toBe(snapshot);
    expect(second.initialObservation).toBe(first.initialObservation);
    const after = actions.slice(cut).map((action) => second.step(action));

    expect([...before, ...after]).toEqual(expected);
    expect(second.snapshot()).toBe(straight.snapshot());
    if (straight.goalReached) goalsReached++;
  }
  return { goalsReached };
}

describe('crafting snapshot / restore', () => {
  it('restoring mid-episode continues exactly like playing straight through (toy world)', () => {
    const { goalsReached } = checkSnapshotRoundTrips(toyWorld, 300, 1);
    expect(goalsReached).toBeGreaterThan(20);
  });

  it('restoring mid-episode continues exactly like playing straight through (default world)', () => {
    const { goalsReached } = checkSnapshotRoundTrips(defaultWorld, 150, 2);
    expect(goalsReached).toBeGreaterThan(5);
  });

  it('is compact JSON holding the whole state', () => {
    const engine = new CraftingEngine(toyWorld);
    engine.resetToGoal('paper');
    engine.step('get 3 reed');
    engine.step('craft 3 paper using 3 reed');
    const snapshot = JSON.parse(engine.snapshot());
    expect(snapshot).toMatchObject({
      v: 1,
      world: 'toy',
      goal: 'toy:paper',
      inventory: [['toy:paper', '3']],
      done: true,
      seed: 42,
    });
    expect(engine.snapshot().length).toBeLessThan(2000);
  });

  it('refuses snapshots of another world or of the wrong shape', async () => {
    const engine = new CraftingEngine(toyWorld);
    engine.reset(0);
    const session = createCraftingSession(defaultWorld);
    await expect(session.restore(engine.snapshot())).rejects.toThrow(/world toy/);
    await expect(session.restore('{"v":1}')).rejects.toThrow();
    await expect(session.restore('not json')).rejects.toThrow(/not JSON/);
  });

  it('the async session mirrors the engine', async () => {
    const session = createCraftingSession(toyWorld, { seed: 7 });
    const first = await session.resetToGoal('toy:paper');
    expect(first.observation).toMatch(/Goal: craft paper\.$/);
    expect(await session.step('get 3 reed')).toEqual({ observation: 'Got 3 reed', reward: 0, done: false });
    const snapshot = await session.snapshot();
    expect(await session.step('craft 3 paper using 3 reed')).toEqual({
      observation: 'Crafted 3 toy:paper',
      reward: 1,
      done: true,
    });
    await session.restore(snapshot as string);
    expect((await session.step('inventory')).observation).toBe('Inventory: [reed] (3) ');
    await session.close();
  });

  it('restores one snapshot many times (as an expansion does per response), each from the same state', () => {
    const engine = new CraftingEngine(toyWorld, { seed: 7 });
    engine.resetToGoal('toy:paper');
    engine.step('get 3 reed');
    const snapshot = engine.snapshot();
    const played: string[] = [];
    for (const action of ['craft 3 paper using 3 reed', 'get 2 reed', 'craft 3 paper using 3 reed']) {
      engine.restore(snapshot);
      expect(engine.snapshot()).toBe(snapshot);
      played.push(engine.step(action).observation);
      played.push(engine.step('inventory').observation);
    }
    expect(played).toEqual([
      'Crafted 3 toy:paper',
      'Inventory: [paper] (3) ',
      'Got 2 reed',
      'Inventory: [reed] (5) ',
      'Crafted 3 toy:paper',
      'Inventory: [paper] (3) ',
    ]);
    // A snapshot of another world is refused even right after a valid one was restored.
    const other = new CraftingEngine(defaultWorld);
    other.reset(0);
    expect(() => engine.restore(other.snapshot())).toThrow(/world/);
    engine.restore(snapshot);
    expect(engine.step('inventory').observation).toBe('Inventory: [reed] (3) ');
  });
});
