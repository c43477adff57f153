import { z } from 'zod';

/**
 * A crafting world: the recipe set the `crafting` engine plays (TextCraft's rules,
 * reference/agentgym.md s.2). This is the stored/wire shape (R2, D1 counts, HTTP, local files);
 * `buildWorldIndex` derives the lookup maps the engine needs.
 *
 * Item and tag ids are namespaced (`minecraft:oak_planks`, `workshop:oak_timber`); players name them
 * without the namespace and with spaces for underscores (`oak planks`).
 */

export const worldNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'world names are 1-100 letters, digits, "_", "." or "-"');

const idSchema = z.string().min(1).max(200);
const countSchema = z.number().int().min(1).max(1_000_000);

/** One input of a recipe: a concrete item, or a tag that any of its member items satisfies. */
export const ingredientSchema = z.union([
  z.strictObject({ item: idSchema, count: countSchema }),
  z.strictObject({ tag: idSchema, count: countSchema }),
]);
export type Ingredient = z.infer<typeof ingredientSchema>;

export const recipeSchema = z.strictObject({
  /** The crafted item's id. */
  output: idSchema,
  /** How many the recipe produces (whatever count the player asks for). */
  count: countSchema,
  /** The output's group tag, when it has one other than its own id (TextCraft's `tag_recipes`). */
  tag: idSchema.optional(),
  /** Ingredients in the recipe's own order (the order the command lines print). */
  inputs: z.array(ingredientSchema).min(1).max(64),
});
export type Recipe = z.infer<typeof recipeSchema>;

export const worldSchema = z
  .strictObject({
    name: worldNameSchema,
    /** Prefix of every id, without the colon (`minecraft`). */
    namespace: z.string().regex(/^[a-z0-9_.-]{1,40}$/),
    /** In load order: it decides which recipe a craft matches first and the goal order. */
    recipes: z.array(recipeSchema).min(1).max(20_000),
    /** Every tag name -> its concrete member items (possibly none). */
    tags: z.record(idSchema, z.array(idSchema)),
    /** Items a player may `get`: known, not craftable, not a tag. */
    baseItems: z.array(idSchema),
    /** Minimum crafting depth of every item and tag the recipes mention (base items 0). */
    depths: z.record(idSchema, z.number().int().min(0)),
    /** Task i plays goal `goals[i % goals.length]`: craftable items, stably sorted by depth. */
    goals: z.array(idSchema).min(1),
  })
  .superRefine((world, ctx) => {
    const outputs = new Set(world.recipes.map((recipe) => recipe.output));
    world.goals.forEach((goal, i) => {
      if (!outputs.has(goal))
        ctx.addIssue({ code: 'custom', path: ['goals', i], message: `no recipe makes ${goal}` });
    });
    world.recipes.forEach((recipe, r) => {
      recipe.inputs.forEach((input, i) => {
        if ('tag' in input && !(input.tag in world.tags)) {
          ctx.addIssue({
            code: 'custom',
            path: ['recipes', r, 'inputs', i],
            message: `unknown tag ${input.tag}`,
          });
        }
      });
    });
  });
export type World = z.infer<typeof worldSchema>;

/** The name an ingredient goes by in TextCraft: the item id, or the tag for tag ingredients. */
export function ingredientName(ingredient: Ingredient): string {
  return 'item' in ingredient ? ingredient.item : ingredient.tag;
}

/** Small summary used by CLI output and the D1 `worlds` row. */
export function worldCounts(world: World): {
  recipes: number;
  goals: number;
  baseItems: number;
  tags: number;
} {
  return {
    recipes: world.recipes.length,
    goals: world.goals.length,
    baseItems: world.baseItems.length,
    tags: Object.keys(world.tags).length,
  };
}

/** How many goals sit at each depth, e.g. `{1: 125, 2: 291, ...}`. */
export function goalDepthCounts(world: World): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const goal of world.goals) {
    const depth = world.depths[goal] ?? 0;
    counts[depth] = (counts[depth] ?? 0) + 1;
  }
  return counts;
}
