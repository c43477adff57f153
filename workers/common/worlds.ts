import { type World, worldSchema } from '../../shared/env/crafting/world';
import { getBuiltInWorld } from '../../shared/worlds';
import type { CoreBindings } from './env';

export const worldKey = (name: string) => `worlds/${name}.json`;

/**
 * Uploaded worlds parsed once per isolate, keyed by name and checked against R2's etag (the
 * content's version) at most every REVALIDATE_MS: a world replaced through another isolate is
 * picked up within that time, never served stale for the isolate's lifetime. Bounded both in
 * count and in stored bytes; the least recently used world goes first.
 */
export const WORLD_CACHE_LIMITS = { maxWorlds: 16, maxBytes: 64 * 1024 * 1024, revalidateMs: 5_000 };

interface Cached {
  world: World;
  etag: string;
  bytes: number;
  checkedAt: number;
}

// A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
const cache = new Map<string, Cached>();

function remember(name: string, entry: Cached): void {
  cache.delete(name);
  cache.set(name, entry);
  let bytes = 0;
  for (const cached of cache.values()) bytes += cached.bytes;
  for (const [oldest, cached] of cache) {
    if (cache.size <= WORLD_CACHE_LIMITS.maxWorlds && bytes <= WORLD_CACHE_LIMITS.maxBytes) break;
    if (oldest === name) break;
    cache.delete(oldest);
    bytes -= cached.bytes;
  }
}

/** A crafting world by name: built-in ones first, then those uploaded to R2 (PUT /v1/worlds/:name). */
export async function loadWorld(env: CoreBindings, name: string): Promise<World | null> {
  const builtIn = getBuiltInWorld(name);
  if (builtIn) return builtIn;
  const cached = cache.get(name);
  const now = Date.now();
  if (cached && now - cached.checkedAt < WORLD_CACHE_LIMITS.revalidateMs) {
    remember(name, cached);
    return cached.world;
  }
  // A conditional read: no body when the cached version is still the current one.
  const object = await env.BUCKET.get(
    worldKey(name),
    cached ? { onlyIf: { etagDoesNotMatch: cached.etag } } : undefined,
  );
  if (!object) {
    cache.delete(name);
    return null;
  }
  if (cached && !('body' in object)) {
    remember(name, { ...cached, checkedAt: now });
    return cached.world;
  }
  const world = worldSchema.parse(await (object as R2ObjectBody).json());
  remember(name, { world, etag: object.etag, bytes: object.size, checkedAt: now });
  return world;
}

/** Drops a cached world after it was replaced (other isolates notice by its etag). */
export function forgetWorld(name: string): void {
  cache.delete(name);
}

/** What the cache holds, oldest first (for tests and diagnostics). */
export function cachedWorlds(): { name: string; etag: string; bytes: number }[] {
  return [...cache].map(([name, c]) => ({ name, etag: c.etag, bytes: c.bytes }));
}
