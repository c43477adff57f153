import { describe, expect, it } from 'vitest';
import { CraftingEngine } from '../../../shared/env/crafting/engine';
import { toyWorld } from './toy-world';

/** Plays `actions` after resetting to `goal` and returns the observations. */
function play(goal: string, actions: string[]): string[] {
  const engine = new CraftingEngine(toyWorld);
  engine.resetToGoal(goal);
  return actions.map((action) => engine.step(action).observation);
}

describe('TextCraft step rules on a toy world', () => {
  it('builds the toy world as expected', () => {
    expect(toyWorld.goals.map((g) => [g, toyWorld.depths[g]])).toEqual([
      ['toy:oak_planks', 1],
      ['toy:birch_planks', 1],
      ['toy:paper', 1],
      ['toy:stick', 2],
      ['toy:chest', 2],
      ['toy:book', 2],
      ['toy:torch', 3],
      ['toy:lantern', 4],
    ]);
    expect(toyWorld.tags).toEqual({ 'toy:planks': ['toy:birch_planks', 'toy:oak_planks'] });
    expect(toyWorld.baseItems).toEqual([
      'toy:birch_log',
      'toy:coal',
      'toy:iron_nugget',
      'toy:leather',
      'toy:oak_log',
      'toy:reed',
    ]);
  });

  it('get: base items only, the count normalised, the name echoed as typed', () => {
    expect(
      play('torch', [
        'get 2 planks',
        'get 1 stick',
        'get 1 diamond',
        'get 007 coal',
        'get 1 oak_log',
        'get 0 reed',
        'get 123456789012345678901234567890 coal',
        'inventory',
      ]),
    ).toEqual([
      'Could not find planks',
      'Could not find stick',
      'Could not find diamond',
      'Got 7 coal',
      'Got 1 oak_log',
      'Got 0 reed',
      'Got 123456789012345678901234567890 coal',
      'Inventory: [coal] (123456789012345678901234567897) [oak log] (1) [reed] (0) ',
    ]);
  });

  it('unknown actions, case and prefixes', () => {
    expect(
      play('torch', [
        'Get 1 coal',
        '',
        'look around',
        'inventory',
        'inventoryabc',
        'get coal',
        'craft 1 stick',
      ]),
    ).toEqual([
      'Could not execute Get 1 coal',
      'Could not execute ',
      'Could not execute look around',
      'Inventory: You are not carrying anything.',
      'Inventory: You are not carrying anything.',
      'Could not execute get coal',
      'Could not execute craft 1 stick',
    ]);
  });

  it('craft: presence first, then the exact recipe; the asked count is ignored', () => {
    expect(
      play('torch', [
        'craft 4 stick using 2 oak planks',
        'get 1 oak log',
        'craft 4 oak planks using 1 oak log',
        'craft 4 stick using 2 planks',
        'craft 4 stick using 3 oak planks',
        'craft 4 stick using 1 oak planks, 1 oak planks',
        'craft 4 stick using 2 oak planks, 1 oak planks',
        'craft 99 stick using 2 oak planks',
        'inventory',
      ]),
    ).toEqual([
      'Could not find enough items to craft toy:stick',
      'Got 1 oak log',
      'Crafted 4 toy:oak_planks',
      'Could not find enough items to craft toy:stick',
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='toy:stick'), count=4)",
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='toy:stick'), count=4)",
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='toy:stick'), count=4)",
      'Crafted 4 toy:stick',
      'Inventory: [oak planks] (2) [stick] (4) ',
    ]);
  });

  it('craft: malformed ingredients, tag outputs, odd names', () => {
    expect(
      play('torch', [
        'craft 1 torch using stick, 1 coal',
        'craft 1 torch using 1 stick, ',
        'craft 1 torch using 1 stick,1 coal',
        'get 1 oak log',
        'craft 4 planks using 1 oak log',
        'craft 4 planks using 1 birch log',
        "craft 2 it's using 1 oak log",
        'craft 2 1 oak planks using 1 oak log',
        'craft oak planks using 1 oak log',
      ]),
    ).toEqual([
      'Wrong item format: stick',
      'Wrong item format: ',
      'Could not find enough items to craft toy:torch',
      'Got 1 oak log',
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag='toy:planks', item_id=None), count=4)",
      'Could not find enough items to craft None',
      'Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id="toy:it\'s"), count=2)',
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='toy:1_oak_planks'), count=2)",
      'Crafted 4 toy:oak_planks',
    ]);
  });

  it('reads only the first line of a multi-line action, like Python\'s "."', () => {
    expect(
      play('paper', ['get 3 reed\nplease', 'craft 3 paper using 3 reed\nthanks', 'inventory\n']),
    ).toEqual(['Got 3 reed', 'Crafted 3 toy:paper', 'Inventory: [paper] (3) ']);
  });

  it('the last " using " splits output from inputs', () => {
    expect(play('paper', ['get 3 reed', 'craft 3 paper using x using 3 reed'])).toEqual([
      'Got 3 reed',
      "Could not find a valid recipe for ItemTagWithCount(item_tag=ItemTag(tag=None, item_id='toy:paper_using_x'), count=3)",
    ]);
  });

  it('inventory keeps insertion order; used-up items go and come back at the end', () => {
    expect(
      play('book', [
        'get 3 reed',
        'get 1 leather',
        'craft 3 paper using 3 reed',
        'get 1 reed',
        'inventory',
        'craft 1 book using 3 paper, 1 leather',
        'inventory',
      ]),
    ).toEqual([
      'Got 3 reed',
      'Got 1 leather',
      'Crafted 3 toy:paper',
      'Got 1 reed',
      'Inventory: [leather] (1) [paper] (3) [reed] (1) ',
      'Crafted 1 toy:book',
      'Inventory: [reed] (1) [book] (1) ',
    ]);
  });

  it('reward 1 and done only on the step that crafts the goal; later steps are still played', () => {
    const engine = new CraftingEngine(toyWorld);
    engine.resetToGoal('paper');
    expect(engine.step('get 6 reed')).toEqual({ observation: 'Got 6 reed', reward: 0, done: false });
    expect(engine.step('craft 3 paper using 3 reed')).toEqual({
      observation: 'Crafted 3 toy:paper',
      reward: 1,
      done: true,
    });
    expect(engine.goalReached).toBe(true);
    expect(engine.step('inventory')).toEqual({
      observation: 'Inventory: [reed] (3) [paper] (3) ',
      reward: 0,
      done: false,
    });
    expect(engine.step('craft 3 paper using 3 reed')).toEqual({
      observation: 'Crafted 3 toy:paper',
      reward: 1,
      done: true,
    });
  });

  it('any recipe of the world can be crafted, not only the listed ones', () => {
    const engine = new CraftingEngine(toyWorld);
    const first = engine.resetToGoal('paper').observation;
    expect(first).not.toContain('oak planks');
    expect(engine.step('get 1 oak log').observation).toBe('Got 1 oak log');
    expect(engine.step('craft 4 oak planks using 1 oak log').observation).toBe('Crafted 4 toy:oak_planks');
  });

  it('reset picks goal task % goals and clears the inventory', () => {
    const engine = new CraftingEngine(toyWorld);
    engine.reset(3);
    expect(engine.goal).toBe('toy:stick');
    engine.step('get 1 coal');
    const again = engine.reset(3 + toyWorld.goals.length);
    expect(engine.goal).toBe('toy:stick');
    expect(again.observation.endsWith('\n\nGoal: craft stick.')).toBe(true);
    expect(engine.step('inventory').observation).toBe('Inventory: You are not carrying anything.');
    expect(() => engine.reset(-1)).toThrow(RangeError);
    expect(() => engine.resetToGoal('coal')).toThrow(/not a goal/);
    expect(() => new CraftingEngine(toyWorld).step('inventory')).toThrow(/reset/);
  });
});
