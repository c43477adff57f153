import { z } from 'zod';

/**
 * A crafting session's whole state as compact JSON: small (inventory + goal + commands), so search
 * restores a node from it instead of replaying. Counts are decimal strings (they are unbounded).
 */
export const craftingSnapshotSchema = z.strictObject({
  v: z.literal(1),
  /** World name, checked on restore so a snapshot is not applied to another world. */
  world: z.string(),
  task: z.number().int().min(0),
  goal: z.string(),
  /** Inventory entries in the server's (insertion) order. */
  inventory: z.array(z.tuple([z.string(), z.string().regex(/^-?[0-9]+$/)])),
  /** Whether the goal has been crafted at least once. */
  done: z.boolean(),
  /** The command lines shown at reset. */
  commands: z.array(z.string()),
  seed: z.number(),
  rng: z.array(z.number().int()),
});
export type CraftingSnapshot = z.infer<typeof craftingSnapshotSchema>;
