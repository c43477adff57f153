import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../cli/command';
import { playCommand } from '../../../cli/commands/play';
import { saveWorld } from '../../../cli/world-store';
import { solveGoal } from '../../../shared/env/crafting/solver';
import { defaultWorld } from '../../../shared/worlds/default';
import { runCommand } from './cli-io';
import { toyWorld } from './toy-world';

let root: string;
beforeAll(async () => {
  vi.stubEnv('AGENT_R_HOME', undefined);
  root = mkdtempSync(path.join(tmpdir(), 'agent-r-play-'));
  await saveWorld(toyWorld, root);
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(root, { recursive: true, force: true });
});

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { observation: string; reward: number; done: boolean });

describe('agent-r play', () => {
  it('--jsonl prints the reset observation, then one line per action, and stops at done', async () => {
    const plan = solveGoal(defaultWorld, 'workshop:oak_stool');
    const stdin = `inventory\n\n${plan.join('\n')}\ninventory\nget 1 oak log\n`;
    const run = await runCommand(
      playCommand,
      ['--env', 'crafting', '--world', 'default', '--goal', 'oak stool', '--jsonl'],
      { stdin, cwd: root },
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = jsonLines(run.stdout);
    expect(lines).toHaveLength(1 + 1 + plan.length);
    expect(Object.keys(lines[0] ?? {})).toEqual(['observation', 'reward', 'done']);
    expect(lines[0]).toMatchObject({ reward: 0, done: false });
    expect(lines[0]?.observation).toMatch(/^Crafting commands:\n[\s\S]*\n\nGoal: craft oak stool\.$/);
    expect(lines[1]).toEqual({
      observation: 'Inventory: You are not carrying anything.',
      reward: 0,
      done: false,
    });
    expect(lines.at(-1)).toEqual({ observation: 'Crafted 1 workshop:oak_stool', reward: 1, done: true });
  });

  it('stops at EOF when the goal is not reached; goal spelled with underscores and prefix', async () => {
    const run = await runCommand(playCommand, ['--world', 'toy', '--goal', 'toy:oak_planks', '--jsonl'], {
      stdin: 'get 1 oak log\r\nlook around',
      cwd: root,
    });
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout).slice(1)).toEqual([
      { observation: 'Got 1 oak log', reward: 0, done: false },
      { observation: 'Could not execute look around', reward: 0, done: false },
    ]);
  });

  it('human mode shows a prompt, echoes piped actions and announces the goal', async () => {
    const run = await runCommand(playCommand, ['--world', 'toy', '--goal', 'paper'], {
      stdin: 'get 3 reed\ncraft 3 paper using 3 reed\n',
      cwd: root,
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Crafting commands:\n/);
    expect(run.stdout).toContain(
      '\n> get 3 reed\nGot 3 reed\n> craft 3 paper using 3 reed\nCrafted 3 toy:paper\n\n*** Goal crafted: reward 1 ***\n',
    );
  });

  it('--task picks goal task % goals, --seed changes the command order reproducibly', async () => {
    const first = async (args: string[]) =>
      jsonLines((await runCommand(playCommand, [...args, '--jsonl'], { cwd: root })).stdout)[0]?.observation;
    const task3 = await first(['--world', 'default', '--task', '3']);
    expect(task3).toContain(
      `Goal: craft ${defaultWorld.goals[3]?.slice('workshop:'.length).replaceAll('_', ' ')}.`,
    );
    expect(await first(['--world', 'default', '--task', String(3 + defaultWorld.goals.length)])).toBe(task3);
    const lantern = defaultWorld.goals.indexOf('workshop:lantern');
    const seeded = await first(['--task', String(lantern), '--seed', '11']);
    expect(await first(['--task', String(lantern), '--seed', '11'])).toBe(seeded);
    expect(await first(['--task', String(lantern), '--seed', '12'])).not.toBe(seeded);
  });

  it('unknown world or goal: a clear message and exit 2', async () => {
    const noWorld = await runCommand(playCommand, ['--world', 'atlantis', '--goal', 'x'], { cwd: root });
    expect(noWorld.code).toBe(2);
    expect(noWorld.stderr).toMatch(/unknown world "atlantis" \(known: default, toy/);
    const noGoal = await runCommand(playCommand, ['--world', 'toy', '--goal', 'reed'], { cwd: root });
    expect(noGoal.code).toBe(2);
    expect(noGoal.stderr).toContain('"reed" is not a goal of world toy');
    expect(noGoal.stdout).toBe('');
  });

  it('bad flags are usage errors', async () => {
    await expect(runCommand(playCommand, ['--env', 'agentgym'], { cwd: root })).rejects.toThrow(UsageError);
    await expect(runCommand(playCommand, ['--task', 'x'], { cwd: root })).rejects.toThrow(
      /--task must be an integer/,
    );
    await expect(runCommand(playCommand, ['--task', '1', '--goal', 'paper'], { cwd: root })).rejects.toThrow(
      /not both/,
    );
    await expect(runCommand(playCommand, ['--bogus'], { cwd: root })).rejects.toThrow();
  });
});
