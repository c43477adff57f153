import { z } from 'zod';
import { EnvError } from './errors';

/*
 * Response bodies of the AgentGym environment servers (WooooDyy/AgentGym: agentenv-textcraft
 * env_wrapper.py, agentenv-sciworld environment.py, agentenv-webshop server.py/model.py).
 * Objects are parsed loosely: servers add fields between versions.
 */

const envId = z.number().int();

export const textCraftEnvStateSchema = z.object({
  id: envId,
  observation: z.string(),
  done: z.boolean(),
  reward: z.number(),
});
export type TextCraftEnvState = z.infer<typeof textCraftEnvStateSchema>;

export const textCraftStepSchema = z.object({
  observation: z.string(),
  reward: z.number(),
  done: z.boolean(),
});

export const sciWorldCreateSchema = z.object({ id: envId });

/** GET /action_hint?id= (agentenv-sciworld environment.py get_action_hint). */
export const sciWorldActionHintSchema = z.object({
  possible_actions: z.array(z.string()),
  possible_objects: z.array(z.string()),
});

/** GET /state (v2025): `observation` is a free "look around", `inventory` a free inventory. */
export const sciWorldStateSchema = z.object({ observation: z.string(), inventory: z.string() });

export const sciWorldResetSchema = z.object({
  task_name: z.string(),
  var_num: z.number().int(),
  task_description: z.string(),
  observation: z.string(),
  reward: z.number(),
  score: z.number(),
  done: z.boolean(),
});
export type SciWorldReset = z.infer<typeof sciWorldResetSchema>;

export const sciWorldStepSchema = z.object({
  observation: z.string(),
  reward: z.number(),
  score: z.number(),
  done: z.boolean(),
});

/** WebShop's /create answers a bare JSON integer. */
export const webShopCreateSchema = envId;

/** WebShop's /reset answers `[observation, null]`. */
export const webShopResetSchema = z.tuple([z.string(), z.unknown()]);

export const webShopStepSchema = z.object({
  state: z.string(),
  reward: z.number(),
  done: z.boolean(),
  info: z.unknown(),
});

/** v2025 /close answers: TextCraft and SciWorld a bare boolean, WebShop `{closed}`. */
export const closeAnswerSchema = z.union([z.boolean(), z.object({ closed: z.boolean() })]);

export function parseWire<T>(
  schema: z.ZodType<T>,
  body: unknown,
  where: { server: string; endpoint: string },
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
  const shown = JSON.stringify(body) ?? String(body);
  throw new EnvError(`unexpected response ${shown.slice(0, 200)} (${issues})`, {
    kind: 'protocol',
    ...where,
  });
}
