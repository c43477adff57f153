import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { worldCommand } from '../../../cli/commands/world';
import { loadWorld, worldStoreDir } from '../../../cli/world-store';
import { worldSchema } from '../../../shared/env/crafting/world';
import { runCommand } from './cli-io';
import { hasRecipes, recipesDir, warnIfMissing } from './shared-data';

let root: string;
let recipes: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'agent-r-world-'));
  recipes = path.join(root, 'recipes');
  mkdirSync(recipes);
  const write = (name: string, json: unknown) =>
    writeFileSync(path.join(recipes, name), JSON.stringify(json));
  write('paper.json', {
    type: 'minecraft:crafting_shaped',
    pattern: ['###'],
    key: { '#': { item: 'minecraft:sugar_cane' } },
    result: { item: 'minecraft:paper', count: 3 },
  });
  write('book.json', {
    type: 'minecraft:crafting_shapeless',
    ingredients: [
      { item: 'minecraft:paper' },
      { item: 'minecraft:paper' },
      { item: 'minecraft:paper' },
      { item: 'minecraft:leather' },
    ],
    result: { item: 'minecraft:book' },
  });
  write('glass.json', {
    type: 'minecraft:smelting',
    ingredient: { item: 'minecraft:sand' },
    result: 'minecraft:glass',
  });
  writeFileSync(path.join(recipes, 'notes.txt'), 'not a recipe');
});
beforeEach(() => {
  vi.stubEnv('AGENT_R_HOME', undefined);
  vi.stubEnv('AGENT_R_TOKEN', undefined);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

describe('agent-r world', () => {
  it('import reads *.json in DIR, prints counts and saves to the local store', async () => {
    const run = await runCommand(worldCommand, ['import', recipes, '--name', 'books'], { cwd: root });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 recipes, 2 goals (by depth 1: 1, 2: 1), 2 base items, 0 tags');
    const saved = path.join(root, '.agent-r', 'worlds', 'books.json');
    expect(run.stdout).toContain(`saved to ${saved}`);
    const world = await loadWorld('books', root);
    expect(world.goals).toEqual(['minecraft:paper', 'minecraft:book']);

    const list = await runCommand(worldCommand, ['list'], { cwd: root });
    expect(list.stdout).toMatch(/^default\s+built-in\s+\d+ recipes/m);
    expect(list.stdout).toMatch(/^books\s+local\s+2 recipes, 2 goals, 2 base items$/m);

    const show = await runCommand(worldCommand, ['show', 'books'], { cwd: root });
    expect(show.stdout).toContain('goals (task, depth, item):\n     0  1  paper\n     1  2  book\n');
    const json = await runCommand(worldCommand, ['show', 'books', '--json'], { cwd: root });
    expect(worldSchema.parse(JSON.parse(json.stdout))).toEqual(world);
  });

  it('honours AGENT_R_HOME', async () => {
    const home = path.join(root, 'home');
    vi.stubEnv('AGENT_R_HOME', home);
    const run = await runCommand(worldCommand, ['import', recipes, '--name', 'elsewhere', '--json'], {
      cwd: root,
    });
    expect(JSON.parse(run.stdout)).toMatchObject({
      name: 'elsewhere',
      recipes: 2,
      goals: 2,
      baseItems: 2,
      path: path.join(home, 'worlds', 'elsewhere.json'),
    });
    expect(worldStoreDir(root)).toBe(path.join(home, 'worlds'));
  });

  it('uploads with PUT /v1/worlds/NAME and the bearer token', async () => {
    const received: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        received.push({
          method: request.method,
          url: request.url,
          auth: request.headers.authorization,
          body,
        });
        response
          .writeHead(received.length === 1 ? 200 : 403, { 'content-type': 'application/json' })
          .end('{"error":{"message":"nope"}}');
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      vi.stubEnv('AGENT_R_TOKEN', 'secret-token');
      const run = await runCommand(worldCommand, ['import', recipes, '--name', 'up', '--api', api], {
        cwd: root,
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`uploaded to ${api}v1/worlds/up`);
      expect(received[0]).toMatchObject({ method: 'PUT', url: '/v1/worlds/up', auth: 'Bearer secret-token' });
      expect(worldSchema.parse(JSON.parse(received[0]?.body ?? ''))).toEqual(await loadWorld('up', root));

      await expect(
        runCommand(worldCommand, ['import', recipes, '--name', 'up', '--api', api, '--token', 't2'], {
          cwd: root,
        }),
      ).rejects.toThrow(/HTTP 403/);
      expect(received[1]?.auth).toBe('Bearer t2');
    } finally {
      server.close();
    }
  });

  it('reports bad input clearly', async () => {
    const broken = path.join(root, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'a.json'), '{ not json');
    const badJson = await runCommand(worldCommand, ['import', broken, '--name', 'x'], { cwd: root });
    expect(badJson).toMatchObject({ code: 1, stdout: '' });
    expect(badJson.stderr).toMatch(/a\.json: not valid JSON/);
    writeFileSync(path.join(broken, 'a.json'), '{"type":"minecraft:crafting_shaped","pattern":"##"}');
    expect((await runCommand(worldCommand, ['import', broken, '--name', 'x'], { cwd: root })).stderr).toMatch(
      /a\.json: not a valid recipe file/,
    );
    expect(
      (await runCommand(worldCommand, ['import', path.join(root, 'missing'), '--name', 'x'], { cwd: root }))
        .stderr,
    ).toMatch(/cannot read directory/);
    const unknown = await runCommand(worldCommand, ['show', 'nope'], { cwd: root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown world "nope"');
    await expect(runCommand(worldCommand, ['import', recipes], { cwd: root })).rejects.toThrow(/--name/);
    await expect(
      runCommand(worldCommand, ['import', recipes, '--name', 'default'], { cwd: root }),
    ).rejects.toThrow(/built-in/);
    await expect(
      runCommand(worldCommand, ['import', recipes, '--name', '../evil'], { cwd: root }),
    ).rejects.toThrow(/invalid --name/);
    await expect(
      runCommand(worldCommand, ['import', recipes, '--name', 'x', '--api', 'http://localhost:1'], {
        cwd: root,
      }),
    ).rejects.toThrow(/token/);
    await expect(runCommand(worldCommand, ['frobnicate'], { cwd: root })).rejects.toThrow(
      /unknown world subcommand/,
    );
  });
});

warnIfMissing(hasRecipes, 'world import of the Minecraft data');
describe.skipIf(!hasRecipes)('agent-r world import on the Minecraft data', () => {
  it('imports a few copied files', async () => {
    const few = path.join(root, 'few');
    mkdirSync(few);
    for (const name of [
      'oak_planks.json',
      'stick.json',
      'crafting_table.json',
      'iron_nugget.json',
      'iron_ingot_from_nuggets.json',
      'furnace.json',
    ]) {
      copyFileSync(path.join(recipesDir, name), path.join(few, name));
    }
    const run = await runCommand(worldCommand, ['import', few, '--name', 'few', '--json'], { cwd: root });
    // iron_nugget.json loads after iron_ingot_from_nuggets.json, so the nugget recipe is pruned (a cycle).
    expect(JSON.parse(run.stdout)).toMatchObject({ recipes: 5, goals: 5 });
  });

  it('imports the full TextCraft set: 613 recipes, 544 goals, 132 base items', async () => {
    const run = await runCommand(worldCommand, ['import', recipesDir, '--name', 'textcraft'], { cwd: root });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      '613 recipes, 544 goals (by depth 1: 125, 2: 291, 3: 117, 4: 11), 132 base items, 23 tags',
    );
    expect((await loadWorld('textcraft', root)).goals).toHaveLength(544);
  });
});
