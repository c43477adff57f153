import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type World, worldNameSchema, worldSchema } from '../shared/env/crafting/world';
import { builtInWorlds, getBuiltInWorld } from '../shared/worlds';
import { projectRoot as defaultProjectRoot } from './project';

/**
 * Worlds on this machine: the built-in ones (shipped in shared/worlds) and imported ones saved as
 * `<projectRoot>/.agent-r/worlds/<name>.json`, or `$AGENT_R_HOME/worlds/` when that is set.
 * Built-in names win, and cannot be overwritten.
 */

export class UnknownWorldError extends Error {}

export interface WorldEntry {
  name: string;
  source: 'built-in' | 'local';
  world: World;
}

export function worldStoreDir(projectRoot: string = defaultProjectRoot): string {
  const home = process.env.AGENT_R_HOME ? resolve(process.env.AGENT_R_HOME) : join(projectRoot, '.agent-r');
  return join(home, 'worlds');
}

function worldFile(name: string, projectRoot: string): string {
  return join(worldStoreDir(projectRoot), `${worldNameSchema.parse(name)}.json`);
}

export async function loadWorld(name: string, projectRoot: string = defaultProjectRoot): Promise<World> {
  const builtIn = getBuiltInWorld(name);
  if (builtIn) return builtIn;
  if (!worldNameSchema.safeParse(name).success)
    throw new UnknownWorldError(`"${name}" is not a valid world name`);
  const path = worldFile(name, projectRoot);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const known = (await listWorlds(projectRoot)).map((entry) => entry.name);
    throw new UnknownWorldError(
      `unknown world "${name}" (known: ${known.join(', ')}; import one with: agent-r world import DIR --name ${name})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`stored world ${path} is not valid JSON`);
  }
  const parsed = worldSchema.safeParse(json);
  if (!parsed.success) throw new Error(`stored world ${path} is invalid: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.name !== name)
    throw new Error(`stored world ${path} is named "${parsed.data.name}", not "${name}"`);
  return parsed.data;
}

/** Saves an imported world (atomically) and returns its path. */
export async function saveWorld(world: World, projectRoot: string = defaultProjectRoot): Promise<string> {
  if (getBuiltInWorld(world.name))
    throw new Error(`"${world.name}" is a built-in world; choose another name`);
  const path = worldFile(world.name, projectRoot);
  await mkdir(worldStoreDir(projectRoot), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(worldSchema.parse(world))}\n`);
  await rename(temporary, path);
  return path;
}

/** Built-in worlds first, then stored ones by name; unreadable files are skipped. */
export async function listWorlds(projectRoot: string = defaultProjectRoot): Promise<WorldEntry[]> {
  const entries: WorldEntry[] = Object.values(builtInWorlds).map((world) => ({
    name: world.name,
    source: 'built-in',
    world,
  }));
  let files: string[] = [];
  try {
    files = await readdir(worldStoreDir(projectRoot));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const file of files.filter((f) => f.endsWith('.json')).sort()) {
    const name = file.slice(0, -'.json'.length);
    if (getBuiltInWorld(name) || !worldNameSchema.safeParse(name).success) continue;
    try {
      entries.push({ name, source: 'local', world: await loadWorld(name, projectRoot) });
    } catch {
      // A damaged file should not hide the other worlds; `world show NAME` reports the error.
    }
  }
  return entries;
}
