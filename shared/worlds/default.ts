import type { World } from '../env/crafting/world';
import { parseRecipeTable } from '../env/crafting/recipe-table';
import { buildWorld } from '../env/crafting/world-builder';
import { defaultRecipeTable } from './default-recipes';

/** Namespace of the default world's ids (`workshop:oak_timber`); players never type it. */
export const DEFAULT_WORLD_NAMESPACE = 'workshop';

/**
 * The world `--world default` plays: our own artisan's-workshop recipe set, built with the same
 * rules as an imported Minecraft world (depths, goal order, tags, cycle pruning).
 */
export const defaultWorld: World = buildWorld({
  name: 'default',
  namespace: DEFAULT_WORLD_NAMESPACE,
  recipes: parseRecipeTable(defaultRecipeTable, DEFAULT_WORLD_NAMESPACE),
}).world;
