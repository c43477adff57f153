import { describe, expect, it } from 'vitest';
import { RecipeImportError, importMinecraftRecipes } from '../../../shared/env/crafting/import-minecraft';
import { goalDepthCounts, worldSchema } from '../../../shared/env/crafting/world';
import { hasRecipes, minecraftWorld, readRecipeFiles, warnIfMissing } from './shared-data';

const shaped = (result: unknown, pattern: string[], key: Record<string, unknown>, group?: string) => ({
  type: 'minecraft:crafting_shaped',
  ...(group ? { group } : {}),
  pattern,
  key,
  result,
});
const shapeless = (result: unknown, ingredients: unknown[], group?: string) => ({
  type: 'minecraft:crafting_shapeless',
  ...(group ? { group } : {}),
  ingredients,
  result,
});

describe('importMinecraftRecipes on hand-made files', () => {
  const files = [
    {
      fileName: 'oak_planks.json',
      json: shapeless({ item: 'minecraft:oak_planks', count: 4 }, [{ tag: 'minecraft:oak_logs' }], 'planks'),
    },
    {
      fileName: 'birch_planks.json',
      json: shapeless(
        { item: 'minecraft:birch_planks', count: 4 },
        [{ tag: 'minecraft:birch_logs' }],
        'planks',
      ),
    },
    {
      fileName: 'stick.json',
      json: shaped(
        { item: 'minecraft:stick', count: 4 },
        ['#', '#'],
        { '#': { tag: 'minecraft:planks' } },
        'sticks',
      ),
    },
    {
      fileName: 'ladder.json',
      json: shaped({ item: 'minecraft:ladder', count: 3 }, ['# #', '###', '# #'], {
        '#': { item: 'minecraft:stick' },
      }),
    },
    {
      fileName: 'fire_charge.json',
      json: shapeless({ item: 'minecraft:fire_charge', count: 3 }, [
        { item: 'minecraft:gunpowder' },
        [{ item: 'minecraft:coal' }, { item: 'minecraft:charcoal' }],
        { item: 'minecraft:gunpowder' },
      ]),
    },
    {
      fileName: 'book.json',
      json: shapeless('minecraft:book', [
        { item: 'minecraft:paper' },
        { item: 'minecraft:paper' },
        { item: 'minecraft:paper' },
        { item: 'minecraft:leather' },
      ]),
    },
    {
      fileName: 'iron_block.json',
      json: shaped('minecraft:iron_block', ['###', '###', '###'], { '#': { item: 'minecraft:iron_ingot' } }),
    },
    {
      fileName: 'iron_ingot_from_iron_block.json',
      json: shapeless(
        { item: 'minecraft:iron_ingot', count: 9 },
        [{ item: 'minecraft:iron_block' }],
        'iron_ingot',
      ),
    },
    {
      fileName: 'iron_ingot_from_nuggets.json',
      json: shaped(
        'minecraft:iron_ingot',
        ['###', '###', '###'],
        { '#': { item: 'minecraft:iron_nugget' } },
        'iron_ingot',
      ),
    },
    {
      fileName: 'iron_nugget.json',
      json: shapeless({ item: 'minecraft:iron_nugget', count: 9 }, [{ item: 'minecraft:iron_ingot' }]),
    },
    {
      fileName: 'furnace.json',
      json: shaped('minecraft:furnace', ['###', '# #', '###'], {
        '#': { tag: 'minecraft:stone_crafting_materials' },
      }),
    },
    {
      fileName: 'smelt_glass.json',
      json: { type: 'minecraft:smelting', ingredient: { item: 'minecraft:sand' }, result: 'minecraft:glass' },
    },
  ];
  const world = importMinecraftRecipes(files, 'mini');

  it('applies every loader rule', () => {
    expect(worldSchema.parse(world)).toEqual(world);
    expect(world.namespace).toBe('minecraft');
    const recipe = (output: string) => world.recipes.filter((r) => r.output === `minecraft:${output}`);
    // Shaped: counts are symbol occurrences. Shapeless: identical ingredients merged; lists -> first.
    expect(recipe('ladder')).toEqual([
      { output: 'minecraft:ladder', count: 3, inputs: [{ item: 'minecraft:stick', count: 7 }] },
    ]);
    expect(recipe('fire_charge')[0]?.inputs).toEqual([
      { item: 'minecraft:gunpowder', count: 2 },
      { item: 'minecraft:coal', count: 1 },
    ]);
    expect(recipe('book')[0]).toEqual({
      output: 'minecraft:book',
      count: 1,
      inputs: [
        { item: 'minecraft:paper', count: 3 },
        { item: 'minecraft:leather', count: 1 },
      ],
    });
    // Group -> tag (not when it equals the output); decompression skipped; nugget recipe pruned.
    expect(recipe('oak_planks')[0]?.tag).toBe('minecraft:planks');
    expect(recipe('iron_ingot')).toEqual([
      { output: 'minecraft:iron_ingot', count: 1, inputs: [{ item: 'minecraft:iron_nugget', count: 9 }] },
    ]);
    expect(recipe('iron_nugget')).toEqual([]);
    expect(world.tags['minecraft:planks']).toEqual(['minecraft:birch_planks', 'minecraft:oak_planks']);
    expect(world.tags['minecraft:sticks']).toEqual(['minecraft:stick']);
    expect(world.tags).not.toHaveProperty('minecraft:iron_ingot');
    // Tags without a craftable member became fetchable items.
    expect(recipe('furnace')[0]?.inputs).toEqual([{ item: 'minecraft:stone_crafting_materials', count: 8 }]);
    expect(world.baseItems).toEqual([
      'minecraft:birch_logs',
      'minecraft:coal',
      'minecraft:gunpowder',
      'minecraft:iron_nugget',
      'minecraft:leather',
      'minecraft:oak_logs',
      'minecraft:paper',
      'minecraft:stone_crafting_materials',
    ]);
    // Stable by depth, ties in load (sorted file) order.
    expect(world.goals).toEqual([
      'minecraft:birch_planks',
      'minecraft:book',
      'minecraft:fire_charge',
      'minecraft:furnace',
      'minecraft:iron_ingot',
      'minecraft:oak_planks',
      'minecraft:iron_block',
      'minecraft:stick',
      'minecraft:ladder',
    ]);
    expect(world.depths['minecraft:planks']).toBe(1);
    expect(world.depths['minecraft:ladder']).toBe(3);
  });

  it('loads in sorted file-name order whatever order the files come in', () => {
    expect(importMinecraftRecipes([...files].reverse(), 'mini')).toEqual(world);
  });

  it('names the file when its JSON is not a recipe', () => {
    const bad = (json: unknown) => () =>
      importMinecraftRecipes([...files, { fileName: 'broken.json', json }], 'mini');
    expect(bad([1, 2])).toThrow(RecipeImportError);
    expect(bad([1, 2])).toThrow(/^broken\.json: not a valid recipe file/);
    expect(
      bad({ type: 'minecraft:crafting_shaped', pattern: ['#'], key: { '#': { thing: 1 } }, result: 'x' }),
    ).toThrow(/broken\.json/);
    expect(bad({ type: 'minecraft:crafting_shapeless', ingredients: [], result: 'minecraft:x' })).toThrow(
      /broken\.json/,
    );
    expect(
      bad({ type: 'minecraft:crafting_shaped', pattern: ['#'], key: { X: { item: 'a' } }, result: 'x' }),
    ).toThrow(/broken\.json: key "X"/);
    expect(() => importMinecraftRecipes([files[0] as never, files[0] as never], 'mini')).toThrow(
      /appears twice/,
    );
    expect(() => importMinecraftRecipes([files[11] as never], 'mini')).toThrow(/no crafting_shaped/);
    expect(() => importMinecraftRecipes(files, 'bad name!')).toThrow(RecipeImportError);
  });
});

warnIfMissing(hasRecipes, 'Minecraft recipe import counts');
describe.skipIf(!hasRecipes)('importMinecraftRecipes on the 1.16.5 data (TextCraft)', () => {
  it('gives exactly 613 recipes, 544 goals (125/291/117/11 by depth) and 132 base items', () => {
    const world = minecraftWorld();
    expect(readRecipeFiles()).toHaveLength(860);
    expect(world.recipes).toHaveLength(613);
    expect(new Set(world.recipes.map((r) => r.output)).size).toBe(544);
    expect(world.goals).toHaveLength(544);
    expect(goalDepthCounts(world)).toEqual({ 1: 125, 2: 291, 3: 117, 4: 11 });
    expect(world.baseItems).toHaveLength(132);
    expect(world.baseItems).toContain('minecraft:oak_logs');
    expect(world.baseItems).toContain('minecraft:iron_nugget');
    expect(world.baseItems).not.toContain('minecraft:oak_planks');
    expect(Object.keys(world.tags)).toContain('minecraft:planks');
    expect(world.goals.slice(0, 3)).toEqual([
      'minecraft:acacia_planks',
      'minecraft:acacia_wood',
      'minecraft:beacon',
    ]);
    expect(JSON.stringify(world).length).toBeLessThan(200_000);
  });
});
