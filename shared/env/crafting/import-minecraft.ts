import { z } from 'zod';
import type { Ingredient, World } from './world';
import type { SourceRecipe } from './world-builder';
import { buildWorld } from './world-builder';

/**
 * Minecraft 1.16.5 data-pack recipes -> a World, with TextCraft's loader rules
 * (reference/agentgym.md s.2). With the vanilla files this reproduces TextCraft: 613 recipes,
 * 544 goals (depths 1..4: 125/291/117/11), 132 base items.
 *
 * Ours: files load in sorted file-name order (AgentGym uses the filesystem's order, so its
 * pruning and goal indices vary by machine). Shaped `key` order is the parsed object's key order,
 * which matches the file text except for integer-like symbols (none in vanilla data).
 */

export interface RecipeFile {
  fileName: string;
  json: unknown;
}

const NAMESPACE = 'minecraft';
const SHAPED = 'minecraft:crafting_shaped';
const SHAPELESS = 'minecraft:crafting_shapeless';

const fileIngredientSchema = z.union([
  z.looseObject({ item: z.string().min(1) }),
  z.looseObject({ tag: z.string().min(1) }),
]);
// A list means "any of these"; TextCraft takes the first alternative.
const ingredientChoiceSchema = z.union([fileIngredientSchema, z.array(fileIngredientSchema).min(1)]);
const resultSchema = z.union([
  z.string().min(1),
  z.looseObject({ item: z.string().min(1), count: z.number().int().min(0).nullish() }),
]);
const shapedFileSchema = z.looseObject({
  type: z.literal(SHAPED),
  group: z.string().optional(),
  pattern: z.array(z.string()).min(1),
  key: z.record(z.string().min(1), ingredientChoiceSchema),
  result: resultSchema,
});
const shapelessFileSchema = z.looseObject({
  type: z.literal(SHAPELESS),
  group: z.string().optional(),
  ingredients: z.array(ingredientChoiceSchema).min(1),
  result: resultSchema,
});
const anyRecipeFileSchema = z.looseObject({ type: z.string() });

type IngredientChoice = z.infer<typeof ingredientChoiceSchema>;

export class RecipeImportError extends Error {}

export function importMinecraftRecipes(files: RecipeFile[], name: string): World {
  const sorted = [...files].sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  const recipes: SourceRecipe[] = [];
  const extraItems = new Set<string>();
  const extraTags = new Set<string>();

  sorted.forEach((file, i) => {
    if (i > 0 && sorted[i - 1]?.fileName === file.fileName) {
      throw new RecipeImportError(`${file.fileName}: the same file name appears twice`);
    }
    const recipe = parseRecipeFile(file);
    if (!recipe) return;
    // Decompression recipes (one iron_block -> nine ingots) would make every block a cycle.
    const [only, ...rest] = recipe.inputs;
    if (only && rest.length === 0 && ('item' in only ? only.item : only.tag).endsWith('_block')) {
      for (const input of recipe.inputs)
        ('item' in input ? extraItems : extraTags).add('item' in input ? input.item : input.tag);
      extraItems.add(recipe.output);
      return;
    }
    recipes.push(recipe);
  });

  if (recipes.length === 0)
    throw new RecipeImportError('no crafting_shaped or crafting_shapeless recipes found');
  try {
    return buildWorld({ name, namespace: NAMESPACE, recipes, extraItems, extraTags }).world;
  } catch (error) {
    throw new RecipeImportError(`could not build world ${name}: ${(error as Error).message}`);
  }
}

/** One file -> a recipe, or null for the recipe types TextCraft ignores (smelting, special...). */
function parseRecipeFile(file: RecipeFile): SourceRecipe | null {
  const header = anyRecipeFileSchema.safeParse(file.json);
  if (!header.success) throw invalid(file, header.error);
  if (header.data.type !== SHAPED && header.data.type !== SHAPELESS) return null;

  let inputs: Ingredient[];
  let group: string | undefined;
  let result: z.infer<typeof resultSchema>;
  if (header.data.type === SHAPED) {
    const parsed = shapedFileSchema.safeParse(file.json);
    if (!parsed.success) throw invalid(file, parsed.error);
    ({ group, result } = parsed.data);
    inputs = Object.entries(parsed.data.key).map(([symbol, choice]) => {
      const count = parsed.data.pattern.reduce((sum, line) => sum + line.split(symbol).length - 1, 0);
      if (count === 0)
        throw new RecipeImportError(`${file.fileName}: key "${symbol}" does not occur in the pattern`);
      return withCount(choice, count);
    });
  } else {
    const parsed = shapelessFileSchema.safeParse(file.json);
    if (!parsed.success) throw invalid(file, parsed.error);
    ({ group, result } = parsed.data);
    inputs = [];
    const indexByName = new Map<string, number>();
    for (const choice of parsed.data.ingredients) {
      const ingredient = withCount(choice, 1);
      const name = 'item' in ingredient ? ingredient.item : ingredient.tag;
      const index = indexByName.get(name);
      const existing = index === undefined ? undefined : inputs[index];
      if (index !== undefined && existing) inputs[index] = { ...existing, count: existing.count + 1 };
      else {
        indexByName.set(name, inputs.length);
        inputs.push(ingredient);
      }
    }
  }

  const output = typeof result === 'string' ? result : result.item;
  const count = typeof result === 'string' ? 1 : result.count || 1;
  const recipe: SourceRecipe = { output, count, inputs };
  if (group !== undefined) recipe.group = `${NAMESPACE}:${group}`;
  return recipe;
}

function withCount(choice: IngredientChoice, count: number): Ingredient {
  const first = Array.isArray(choice) ? choice[0] : choice;
  // Like TextCraft, "item" wins when both keys are present.
  if (typeof first?.item === 'string') return { item: first.item, count };
  if (typeof first?.tag === 'string') return { tag: first.tag, count };
  throw new Error('unreachable: ingredient schema guarantees item or tag');
}

function invalid(file: RecipeFile, error: z.ZodError): RecipeImportError {
  return new RecipeImportError(
    `${file.fileName}: not a valid recipe file: ${z.prettifyError(error).replaceAll('\n', '; ')}`,
  );
}
