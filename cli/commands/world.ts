import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError } from '../command';
import {
  type RecipeFile,
  RecipeImportError,
  importMinecraftRecipes,
} from '../../shared/env/crafting/import-minecraft';
import { itemIdToName } from '../../shared/env/crafting/names';
import { type World, goalDepthCounts, worldCounts, worldNameSchema } from '../../shared/env/crafting/world';
import { getBuiltInWorld } from '../../shared/worlds';
import { UnknownWorldError, listWorlds, loadWorld, saveWorld } from '../world-store';

export const worldCommand: CliCommand = {
  name: 'world',
  summary: 'import, list and inspect crafting worlds (recipe sets)',
  help: `Usage:
  agent-r world import DIR --name NAME [--api URL] [--token T] [--json]
  agent-r world list
  agent-r world show NAME [--json]

import  reads every *.json recipe file in DIR (Minecraft 1.16.5 data-pack recipes, e.g.
        data/minecraft/recipes), builds a world with TextCraft's rules, prints its counts and
        saves it to .agent-r/worlds/NAME.json (or $AGENT_R_HOME/worlds). With --api it is also
        uploaded: PUT <api>/v1/worlds/NAME with the token (--token or $AGENT_R_TOKEN).
list    the built-in and local worlds with their sizes.
show    a world's counts, tags and goals (task index, depth, name); --json prints the world.

Options:
  --name NAME   world name (letters, digits, "_", "." or "-")
  --api URL     a running agent-r API to upload to
  --token T     API token (default: $AGENT_R_TOKEN)
  --json        machine-readable output
  -h, --help    this text`,

  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'import') return importWorld(rest, io);
    if (sub === 'list') return listAll(rest, io);
    if (sub === 'show') return showWorld(rest, io);
    throw new UsageError(
      sub
        ? `unknown world subcommand "${sub}" (import, list or show)`
        : 'missing subcommand: import, list or show',
    );
  },
};

async function importWorld(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1)
    throw new UsageError('world import takes one directory: world import DIR --name NAME');
  if (!values.name) throw new UsageError('world import needs --name NAME');
  const nameCheck = worldNameSchema.safeParse(values.name);
  if (!nameCheck.success)
    throw new UsageError(`invalid --name "${values.name}": ${nameCheck.error.issues[0]?.message}`);
  if (getBuiltInWorld(values.name))
    throw new UsageError(`"${values.name}" is a built-in world; choose another --name`);
  const token = values.token ?? process.env.AGENT_R_TOKEN;
  if (values.api && !token) throw new UsageError('--api needs a token: --token T or AGENT_R_TOKEN');

  const dir = resolve(process.cwd(), positionals[0] as string);
  let world: World;
  try {
    world = importMinecraftRecipes(await readRecipeDir(dir), values.name);
  } catch (error) {
    if (error instanceof RecipeImportError) return fail(io, error.message);
    throw error;
  }
  const path = await saveWorld(world, io.cwd);
  let uploadedTo: string | undefined;
  if (values.api) uploadedTo = await uploadWorld(world, values.api, token as string);

  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ name: world.name, ...worldCounts(world), depths: goalDepthCounts(world), path, uploadedTo: uploadedTo ?? null })}\n`,
    );
  } else {
    io.stdout.write(`imported world ${world.name} from ${dir}\n${describeCounts(world)}\nsaved to ${path}\n`);
    if (uploadedTo) io.stdout.write(`uploaded to ${uploadedTo}\n`);
  }
  return 0;
}

async function readRecipeDir(dir: string): Promise<RecipeFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json'));
  } catch (error) {
    throw new RecipeImportError(`cannot read directory ${dir}: ${(error as Error).message}`);
  }
  if (names.length === 0) throw new RecipeImportError(`no *.json recipe files in ${dir}`);
  return Promise.all(
    names.map(async (fileName) => {
      const text = await readFile(join(dir, fileName), 'utf8');
      try {
        return { fileName, json: JSON.parse(text) as unknown };
      } catch (error) {
        throw new RecipeImportError(`${fileName}: not valid JSON: ${(error as Error).message}`);
      }
    }),
  );
}

async function uploadWorld(world: World, api: string, token: string): Promise<string> {
  const url = `${api.replace(/\/+$/, '')}/v1/worlds/${encodeURIComponent(world.name)}`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(world),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) {
    const body = (await response.text()).slice(0, 500);
    throw new Error(`upload to ${url} failed: HTTP ${response.status} ${body}`);
  }
  return url;
}

async function listAll(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    strict: true,
  });
  const entries = await listWorlds(io.cwd);
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify(entries.map(({ name, source, world }) => ({ name, source, ...worldCounts(world) })))}\n`,
    );
    return 0;
  }
  const width = Math.max(...entries.map((entry) => entry.name.length));
  for (const { name, source, world } of entries) {
    const counts = worldCounts(world);
    io.stdout.write(
      `${name.padEnd(width)}  ${source.padEnd(8)}  ${counts.recipes} recipes, ${counts.goals} goals, ${counts.baseItems} base items\n`,
    );
  }
  return 0;
}

async function showWorld(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('world show takes one world name');
  let world: World;
  try {
    world = await loadWorld(positionals[0] as string, io.cwd);
  } catch (error) {
    if (error instanceof UnknownWorldError) {
      io.stderr.write(`agent-r world: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(world)}\n`);
    return 0;
  }
  const name = (id: string) => itemIdToName(id, world.namespace);
  const lines = [`world ${world.name} (namespace ${world.namespace})`, describeCounts(world), 'tags:'];
  for (const [tag, members] of Object.entries(world.tags)) {
    lines.push(`  ${name(tag)}: ${members.length ? members.map(name).join(', ') : '(no members)'}`);
  }
  lines.push('goals (task, depth, item):');
  world.goals.forEach((goal, task) => {
    lines.push(`  ${String(task).padStart(4)}  ${world.depths[goal] ?? 0}  ${name(goal)}`);
  });
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function describeCounts(world: World): string {
  const counts = worldCounts(world);
  const depths = Object.entries(goalDepthCounts(world))
    .map(([depth, n]) => `${depth}: ${n}`)
    .join(', ');
  return `${counts.recipes} recipes, ${counts.goals} goals (by depth ${depths}), ${counts.baseItems} base items, ${counts.tags} tags`;
}

function fail(io: CliIo, message: string): number {
  io.stderr.write(`agent-r world: ${message}\n`);
  return 1;
}
