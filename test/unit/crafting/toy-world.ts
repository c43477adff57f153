import { parseRecipeTable } from '../../../shared/env/crafting/recipe-table';
import type { World } from '../../../shared/env/crafting/world';
import { buildWorld } from '../../../shared/env/crafting/world-builder';

/** A tiny hand-written world for rule tests that must not depend on the Minecraft data. */
export const toyWorld: World = buildWorld({
  name: 'toy',
  namespace: 'toy',
  recipes: parseRecipeTable(
    [
      '4 oak planks @planks = 1 oak log',
      '4 birch planks @planks = 1 birch log',
      '4 stick = 2 #planks',
      '1 torch = 1 stick, 1 coal',
      '1 lantern = 1 torch, 8 iron nugget',
      '1 chest = 8 #planks',
      '3 paper = 3 reed',
      '1 book = 3 paper, 1 leather',
    ],
    'toy',
  ),
}).world;
