import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTasks, resolveTaskArg } from '../../../cli/task-lists';
import { loopRequestFromFlags } from '../../../cli/commands/iterate-start';
import { planFromConfig } from '../../../cli/run-config';
import { UsageError } from '../../../cli/command';
import { parseSplit } from '../../../shared/eval/splits';
import {
  referenceSciWorldTraining,
  SCIWORLD_GAME_COUNT,
  sciWorldGame,
  sciWorldIndex,
} from '../../../shared/env/sciworld-tasks';
import { resolveTaskList, TEXTCRAFT_GOAL_COUNT } from '../../../shared/env/task-lists';

const sciworld = { env: 'agentgym', flavor: 'sciworld' } as const;
const textcraft = { env: 'agentgym', flavor: 'textcraft' } as const;
const crafting = { env: 'crafting' } as const;

describe('task lists: ids, split ids and SciWorld task types x variations', () => {
  it('resolve plain ids and ranges as before, for every env', () => {
    expect(resolveTaskList('0-3,7, 2', crafting)).toEqual([0, 1, 2, 3, 7]);
    expect(resolveTaskList('10-12', textcraft)).toEqual([10, 11, 12]);
    expect(() => resolveTaskList('x', crafting)).toThrow(/not a task id/);
    expect(() => resolveTaskList(' , ', crafting)).toThrow(/no tasks/);
  });

  it("take AgentGym's split ids only for the run's own flavour", () => {
    expect(resolveTaskList('textcraft_31,textcraft_2', textcraft)).toEqual([2, 31]);
    expect(() => resolveTaskList('webshop_5', textcraft)).toThrow(/webshop id but the flavour is textcraft/);
    expect(() => resolveTaskList('textcraft_5', crafting)).toThrow(/this run's env is crafting/);
  });

  it('map SciWorld task types x variations to AgentGym data indices (4,639 games, 7 tasks left out)', () => {
    expect(SCIWORLD_GAME_COUNT).toBe(4639);
    expect(resolveTaskList('boil:0-4', sciworld)).toEqual([0, 1, 2, 3, 4]);
    // melt follows boil's 30 variations; "1-2" is melt's ScienceWorld id (not a range: it has a colon).
    expect(resolveTaskList('1-2:3', sciworld)).toEqual([33]);
    expect(resolveTaskList('melt:*', sciworld)).toHaveLength(30);
    // find-animal (4-4) is followed by chemistry-mix (6-1): grow-plant/grow-fruit (5-x) are skipped.
    expect(sciWorldIndex('chemistry-mix', 0)).toBe(sciWorldIndex('find-animal', 299) + 1);
    expect(sciWorldIndex('identify-life-stages-2', 9)).toBe(SCIWORLD_GAME_COUNT - 1);
    expect(sciWorldGame(33)).toMatchObject({ type: { name: 'melt' }, variation: 3 });
    expect(sciWorldGame(SCIWORLD_GAME_COUNT)).toBeNull();
    expect(() => resolveTaskList('grow-plant:0', sciworld)).toThrow(/AgentGym leaves out/);
    expect(() => resolveTaskList('boil:30', sciworld)).toThrow(/boil has variations 0-29, not 30/);
    expect(() => resolveTaskList('boiling:1', sciworld)).toThrow(/not a SciWorld task type/);
    expect(() => resolveTaskList('boil:0', textcraft)).toThrow(/not SciWorld/);
  });

  it('refuse ids outside the environment before anything starts', () => {
    expect(() => resolveTaskList(`${SCIWORLD_GAME_COUNT}`, sciworld)).toThrow(
      /SciWorld has 4639 games.*4639/,
    );
    expect(() => resolveTaskList(`textcraft_${TEXTCRAFT_GOAL_COUNT}`, textcraft)).toThrow(
      /TextCraft has 544 goals.*544/,
    );
    expect(resolveTaskList('9999', { env: 'agentgym', flavor: 'webshop' })).toEqual([9999]);
  });

  it("enumerate the reference's SciWorld training tasks: 23 task types x variations 1-5", () => {
    const tasks = referenceSciWorldTraining();
    expect(tasks).toHaveLength(115);
    expect(new Set(tasks).size).toBe(115);
    const games = tasks.map((t) => sciWorldGame(t)!);
    expect(new Set(games.map((g) => g.type.id)).size).toBe(23);
    expect(games.every((g) => g.variation >= 1 && g.variation <= 5)).toBe(true);
    // Its order: task number 1 of the alphabetical names first (change-the-state-of-matter-of), boil last.
    expect(games[0]!.type.name).toBe('change-the-state-of-matter-of');
    expect(games.at(-1)).toMatchObject({ type: { name: 'boil' }, variation: 5 });
    expect(resolveTaskList('reference', sciworld)).toEqual([...tasks].sort((a, b) => a - b));
    expect(() => resolveTaskList('reference', textcraft)).toThrow(/SciWorld's training enumeration/);
  });
});

// The published splits (../shared/data/splits, never copied into the project) read in place.
const splitsDir = resolve(process.cwd(), '../shared/data/splits');
const haveSplits = existsSync(splitsDir);
if (!haveSplits) console.warn(`SKIPPED: the split-file tests need ${splitsDir}`);
const splitPath = (name: string) => join(splitsDir, `${name}.json`);

describe.skipIf(!haveSplits)("the reference's split files", () => {
  it('read the training maps (374 TextCraft, 3,930 WebShop ids), disjoint from the test splits', () => {
    const read = (name: string) => parseSplit(readFileSync(splitPath(name), 'utf8'));
    const tcTrain = read('textcraft_train_clean');
    const tcTest = read('textcraft_test');
    expect(tcTrain).toMatchObject({ flavor: null });
    expect(tcTrain.tasks).toHaveLength(374);
    expect(tcTrain.tasks.every((t) => t < TEXTCRAFT_GOAL_COUNT)).toBe(true);
    expect(tcTrain.tasks.filter((t) => tcTest.tasks.includes(t))).toEqual([]);
    const wsTrain = read('webshop_train_clean');
    expect(wsTrain.tasks).toHaveLength(3930);
    expect(wsTrain.tasks.filter((t) => read('webshop_test').tasks.includes(t))).toEqual([]);
    const swTest = read('sciworld_test');
    expect(swTest.tasks.every((t) => t < SCIWORLD_GAME_COUNT)).toBe(true);
    // The reference does not hold SciWorld's test ids out of its enumeration: one is in both.
    const overlap = referenceSciWorldTraining().filter((t) => swTest.tasks.includes(t));
    expect(overlap.map((t) => sciWorldGame(t))).toEqual([
      { type: expect.objectContaining({ name: 'chemistry-mix-paint-secondary-color' }), variation: 2 },
    ]);
  });

  it('resolve @FILE items, alone or with ids, and check them against the flavour', async () => {
    const train = await resolveTaskArg(`@${splitPath('textcraft_train_clean')}`, textcraft, '--tasks');
    expect(train).toHaveLength(374);
    const both = await resolveTaskArg(`0-2,@${splitPath('textcraft_test')}`, textcraft, '--tasks');
    expect(both).toHaveLength(100); // 0-2 are test ids already
    await expect(resolveTaskArg(`@${splitPath('webshop_test')}`, textcraft, '--tasks')).rejects.toThrow(
      /holds webshop ids but this run is --flavor textcraft/,
    );
    await expect(resolveTaskArg('@/no/such/split.json', textcraft, '--tasks')).rejects.toThrow(UsageError);
  });

  it('bound a build by --split: all of it, or listed ids that must be in it', async () => {
    const split = splitPath('textcraft_test');
    expect(await buildTasks({ split }, textcraft)).toHaveLength(100);
    expect(await buildTasks({ split, flag: '140-142' }, textcraft)).toEqual([140, 141, 142]);
    await expect(buildTasks({ split, flag: '29-32' }, textcraft)).rejects.toThrow(
      /2 task\(s\) are not in the split: 31, 32/,
    );
  });
});

describe('build plans', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-r-tasks-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const agentgym = (flavor: string) => ({ env: 'agentgym', flavor, 'env-url': 'http://127.0.0.1:1' });

  it("default SciWorld builds to the reference's enumeration and other envs to 0-19", async () => {
    const sci = await planFromConfig({}, '', agentgym('sciworld'));
    expect(sci.spec.tasks).toEqual([...referenceSciWorldTraining()].sort((a, b) => a - b));
    expect((await planFromConfig({}, '', agentgym('textcraft'))).spec.tasks).toHaveLength(20);
    expect((await planFromConfig({}, '', {})).spec.tasks).toHaveLength(20);
  });

  it('read task lists from flags and config files (files relative to the config)', async () => {
    await writeFile(join(dir, 'ids.json'), JSON.stringify(['sciworld_3', 'sciworld_40']));
    const config = join(dir, 'run.yaml');
    const plan = await planFromConfig({ tasks: '@ids.json,boil:0' }, config, agentgym('sciworld'));
    expect(plan.spec.tasks).toEqual([0, 3, 40]);
    const flagged = await planFromConfig({}, '', { ...agentgym('sciworld'), tasks: 'melt:0-1' });
    expect(flagged.spec.tasks).toEqual([30, 31]);
    await expect(planFromConfig({}, '', { ...agentgym('sciworld'), tasks: 'freeze:99' })).rejects.toThrow(
      /--tasks: freeze has variations 0-29, not 99/,
    );
    await expect(planFromConfig({ tasks: [5000] }, config, agentgym('sciworld'))).rejects.toThrow(
      /tasks: SciWorld has 4639 games/,
    );
  });

  it("give loops the same task lists (SciWorld's default: the reference's enumeration)", async () => {
    const body = await loopRequestFromFlags(
      { ...agentgym('sciworld'), 'eval-tasks': 'boil:0-1,sciworld_40' } as Parameters<
        typeof loopRequestFromFlags
      >[0],
      'sim',
    );
    expect(body.build?.tasks).toHaveLength(115);
    expect(body.eval).toMatchObject({ tasks: [0, 1, 40] });
    await expect(
      loopRequestFromFlags({ ...agentgym('textcraft') } as Parameters<typeof loopRequestFromFlags>[0], 'sim'),
    ).rejects.toThrow(/needs --tasks/);
  });
});
