import { env as workerEnv } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreBindings } from '../../workers/common/env';
import { getBuiltInWorld } from '../../shared/worlds';
import {
  cachedWorlds,
  forgetWorld,
  loadWorld,
  WORLD_CACHE_LIMITS,
  worldKey,
} from '../../workers/common/worlds';

const env = workerEnv as unknown as CoreBindings;
const defaults = { ...WORLD_CACHE_LIMITS };

/** A world uploaded straight to R2 (as PUT /v1/worlds/:name does), goals cut to `goals`. */
async function upload(name: string, goals: number): Promise<void> {
  const base = getBuiltInWorld('default')!;
  await env.BUCKET.put(worldKey(name), JSON.stringify({ ...base, name, goals: base.goals.slice(0, goals) }));
}

describe('the per-isolate world cache (real R2 in workerd)', () => {
  afterEach(() => {
    Object.assign(WORLD_CACHE_LIMITS, defaults);
    for (const { name } of cachedWorlds()) forgetWorld(name);
  });

  it('picks up a world replaced behind its back once the revalidation interval passed (by etag)', async () => {
    const name = `wc-${crypto.randomUUID().slice(0, 6)}`;
    await upload(name, 3);
    expect((await loadWorld(env, name))?.goals).toHaveLength(3);
    // Replaced through another isolate: this one's forgetWorld never ran.
    await upload(name, 5);
    expect((await loadWorld(env, name))?.goals).toHaveLength(3);
    WORLD_CACHE_LIMITS.revalidateMs = 0;
    expect((await loadWorld(env, name))?.goals).toHaveLength(5);
    const etag = (await env.BUCKET.head(worldKey(name)))?.etag;
    expect(cachedWorlds().find((c) => c.name === name)?.etag).toBe(etag);
    // Unchanged: the conditional read keeps the parsed world (the same object, not re-parsed).
    const first = await loadWorld(env, name);
    expect(await loadWorld(env, name)).toBe(first);
    // Deleted: gone from the cache too.
    await env.BUCKET.delete(worldKey(name));
    expect(await loadWorld(env, name)).toBeNull();
    expect(cachedWorlds().some((c) => c.name === name)).toBe(false);
  });

  it('holds at most maxWorlds worlds and maxBytes bytes, dropping the least recently used', async () => {
    WORLD_CACHE_LIMITS.maxWorlds = 2;
    const names = ['a', 'b', 'c'].map((x) => `wc-${x}-${crypto.randomUUID().slice(0, 6)}`);
    for (const name of names) await upload(name, 2);
    await loadWorld(env, names[0]!);
    await loadWorld(env, names[1]!);
    await loadWorld(env, names[0]!); // used again: b is now the oldest
    await loadWorld(env, names[2]!);
    expect(cachedWorlds().map((c) => c.name)).toEqual([names[0], names[2]]);

    const size = cachedWorlds()[0]!.bytes;
    expect(size).toBeGreaterThan(1000);
    WORLD_CACHE_LIMITS.maxWorlds = 16;
    WORLD_CACHE_LIMITS.maxBytes = size * 1.5;
    await loadWorld(env, names[1]!);
    expect(cachedWorlds().map((c) => c.name)).toEqual([names[1]]);
  });
});
