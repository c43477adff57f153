import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { CraftingEngine, DEFAULT_CRAFTING_SEED } from '../../shared/env/crafting/engine';
import { findGoalIndex } from '../../shared/env/crafting/world-index';
import type { StepResult } from '../../shared/env/types';
import { UnknownWorldError, loadWorld } from '../world-store';

export const playCommand: CliCommand = {
  name: 'play',
  summary: 'play a crafting task by hand (or from a script): actions on stdin',
  help: `Usage: agent-r play [--env crafting] [--world NAME] (--goal "ITEM" | --task N) [--seed N] [--jsonl]

Plays one task of the built-in crafting engine (TextCraft's rules). Reads one action per line
from stdin (blank lines are skipped) and stops when the goal is crafted or stdin ends.
Actions: get N ITEM | craft N ITEM using N ITEM, N ITEM... | inventory

Options:
  --env crafting   the environment (only the built-in crafting engine can be played here)
  --world NAME     a built-in world ("default") or an imported one (default: default)
  --goal ITEM      the item to craft, e.g. "oak planks", oak_planks or minecraft:oak_planks
  --task N         the task index instead (goal N modulo the number of goals)
  --seed N         seed of the command-list shuffle (default ${DEFAULT_CRAFTING_SEED})
  --jsonl          print every result as one JSON line {"observation","reward","done"},
                   the first being the reset observation
  -h, --help       this text`,

  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        env: { type: 'string', default: 'crafting' },
        world: { type: 'string', default: 'default' },
        goal: { type: 'string' },
        task: { type: 'string' },
        seed: { type: 'string' },
        jsonl: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.env !== 'crafting') {
      throw new UsageError(
        `play drives the built-in crafting engine only (--env crafting), got --env ${values.env}`,
      );
    }
    if (values.goal !== undefined && values.task !== undefined)
      throw new UsageError('give --goal or --task, not both');
    const seed = values.seed === undefined ? DEFAULT_CRAFTING_SEED : integerFlag('--seed', values.seed);

    let world: Awaited<ReturnType<typeof loadWorld>>;
    try {
      world = await loadWorld(values.world, io.cwd);
    } catch (error) {
      if (error instanceof UnknownWorldError) return usageFailure(io, error.message);
      throw error;
    }
    let task = 0;
    if (values.task !== undefined) task = integerFlag('--task', values.task);
    if (values.goal !== undefined) {
      const found = findGoalIndex(world, values.goal);
      if (found === undefined) {
        return usageFailure(
          io,
          `"${values.goal}" is not a goal of world ${world.name} (see: agent-r world show ${world.name})`,
        );
      }
      task = found;
    }

    const engine = new CraftingEngine(world, { seed });
    const print = values.jsonl ? printJsonLine(io) : printForHumans(io);
    print(engine.reset(task));
    await playFromStdin(io, engine, print, !values.jsonl);
    return 0;
  },
};

/** Steps one action per stdin line until the goal is crafted or stdin ends. */
async function playFromStdin(
  io: CliIo,
  engine: CraftingEngine,
  print: (result: StepResult) => void,
  human: boolean,
): Promise<void> {
  // Piped input is not echoed by a terminal, so human mode echoes it to read like a session log.
  const echo = human && (io.stdin as { isTTY?: boolean }).isTTY !== true;
  const prompt = (): void => {
    if (human) io.stdout.write('> ');
  };
  const lines = createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  try {
    prompt();
    for await (const line of lines) {
      if (echo) io.stdout.write(`${line}\n`);
      if (line.trim() !== '') {
        const result = engine.step(line);
        print(result);
        if (result.done) return;
      }
      prompt();
    }
    if (human) io.stdout.write('\n');
  } finally {
    lines.close();
  }
}

function printJsonLine(io: CliIo): (result: StepResult) => void {
  return ({ observation, reward, done }) => {
    io.stdout.write(`${JSON.stringify({ observation, reward, done })}\n`);
  };
}

function printForHumans(io: CliIo): (result: StepResult) => void {
  return ({ observation, reward, done }) => {
    io.stdout.write(`${observation}\n`);
    if (done) io.stdout.write(`\n*** Goal crafted: reward ${reward} ***\n`);
  };
}

function integerFlag(flag: string, text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value))
    throw new UsageError(`${flag} must be an integer, got "${text}"`);
  if (flag === '--task' && value < 0) throw new UsageError('--task must be 0 or more');
  return value;
}

function usageFailure(io: CliIo, message: string): number {
  io.stderr.write(`agent-r play: ${message}\n`);
  return 2;
}
