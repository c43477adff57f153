import { z } from 'zod';

// Crafting worlds as the API lists them (PUT/GET /v1/worlds): the counts, not the recipes.

export const worldSummarySchema = z.object({
  name: z.string(),
  builtIn: z.boolean(),
  recipes: z.number(),
  goals: z.number(),
  baseItems: z.number(),
});
export type WorldSummary = z.infer<typeof worldSummarySchema>;

/** GET /v1/worlds. */
export const worldListSchema = z.object({ worlds: z.array(worldSummarySchema) });
