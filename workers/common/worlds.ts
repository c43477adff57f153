import { type World, worldSchema } from '../../shared/env/crafting/world';
import { getBuiltInWorld } from '../../shared/worlds';
import type { CoreBindings } from './env';

export const worldKey = (name: string) => `worlds/${name}.json`;

const cache = new Map<string, World>();

/** A crafting world by name: built-in ones first, then those uploaded to R2 (PUT /v1/worlds/:name). */
export async function loadWorld(env: CoreBindings, name: string): Promise<World | null> {
  const builtIn = getBuiltInWorld(name);
  if (builtIn) return builtIn;
  const cached = cache.get(name);
  if (cached) return cached;
  const object = await env.BUCKET.get(worldKey(name));
  if (!object) return null;
  const world = worldSchema.parse(await object.json());
  cache.set(name, world);
  return world;
}

/** Drops a cached world after it was replaced. */
export function forgetWorld(name: string): void {
  cache.delete(name);
}
