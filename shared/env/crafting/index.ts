/** The built-in `crafting` environment (TextCraft's rules over any World): public API. */
export {
  type CraftingOptions,
  type CraftingSession,
  CraftingEngine,
  DEFAULT_CRAFTING_SEED,
  UnknownGoalError,
  createCraftingSession,
} from './engine';
export { craftingCommandLines, initialObservation, recipeTree } from './commands';
export { type RecipeFile, RecipeImportError, importMinecraftRecipes } from './import-minecraft';
export { itemIdToName, nameToItemId, normaliseItemQuery, recipeLine } from './names';
export { parseRecipeTable } from './recipe-table';
export { type CraftingSnapshot, craftingSnapshotSchema } from './snapshot';
export { UnsolvableGoalError, concreteItem, easiestRecipe, solveGoal } from './solver';
export {
  type Ingredient,
  type Recipe,
  type World,
  goalDepthCounts,
  ingredientName,
  ingredientSchema,
  recipeSchema,
  worldCounts,
  worldNameSchema,
  worldSchema,
} from './world';
export { type BuiltWorld, type SourceRecipe, type WorldSource, buildWorld } from './world-builder';
export { type WorldIndex, buildWorldIndex, findGoalIndex } from './world-index';
