import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { benchParts } from '../bench/options';
import { defaultBenchOptions, runBench } from '../bench/run-bench';
import { planInput, scalePlanMarkdown } from '../bench/scale-plan';
import { type CliCommand, UsageError } from '../command';

export const benchHelp = `Usage: agent-r bench [--quick] [options]

Measures a build against the embedded sim-policy set up like a GPU server (32 slots, ~150 ms
per request) and writes out/bench.json: endpoint utilisation during a build of 40 default-world
tasks, the speedup over the reference implementation's call pattern (cli/bench/reference-baseline:
one request at a time, reset + replay, per-pair judging) on the same tasks, seed, endpoint and
budget, run as one process and as 32 processes side by side (one per task range), judge calls per revision record (ours and the reference's, on the same
trees), orchestration CPU per inference call and peak memory of the local stack, export
throughput (100k records), a scaling table, a scale section (100, 300 and 1,000 tasks on a
C=128 / 30 ms endpoint; quick: 50 and 100), the platform operations per call (input of
docs/scale.md), a deep tree (full mode) and (full mode) the fault-tolerance scenarios.

Options:
  --quick              a short run: scaling at 10 and 20 tasks only; the reference baseline on
                       8 of the 32 processes (one task each): extrapolated per task for one
                       process, a lower bound for 32 (said so in the output); scale builds of
                       50 and 100 tasks (full: 100, 300, 1,000); no deep tree; no fault
                       scenarios unless --faults
  --out FILE           where to write the JSON (default out/bench.json)
  --tasks N            tasks of the headline build (default 40)
  --parallelism N      descents in flight per tree in our builds (default 16)
  --scaling LIST       task counts of the scaling table, e.g. 10,20,40,80
  --baseline-tasks N   tasks the reference baseline is measured on (default: all; quick: 8)
  --no-baseline        skip the reference baseline (no speedup figure)
  --faults             run the fault scenarios (default in full mode)
  --no-faults          skip them
  --only LIST          run only these parts, comma-separated: headline (the 40-task build,
                       scaling table, reference baseline, export), scale, platform_ops, deep_tree,
                       faults; a part named here runs even where the mode skips it (e.g.
                       --only scale,deep_tree: the full 100/300/1,000-task scale builds and the
                       deep tree, nothing else)
  --scale-sizes LIST   task counts of the scale section's builds, e.g. 1000 (default 100,300,1000;
                       quick: 50,100); sorted ascending, one stack for all of them
  --scale-plan FILES   measure nothing: print docs/scale.md (the 100,000-task plan) computed from
                       bench.json files (comma-separated, merged left to right: a later file's
                       sections win), e.g. agent-r bench --scale-plan out/bench.json > docs/scale.md

A full run measures the reference baseline on every task (32 processes side by side), sending
every request: the slowest process takes about 20 minutes. --baseline-tasks N measures only N
single-task processes; the extrapolation and the lower bound are then reported.`;

const options = {
  quick: { type: 'boolean' },
  out: { type: 'string' },
  tasks: { type: 'string' },
  parallelism: { type: 'string' },
  scaling: { type: 'string' },
  'baseline-tasks': { type: 'string' },
  'no-baseline': { type: 'boolean' },
  faults: { type: 'boolean' },
  'no-faults': { type: 'boolean' },
  only: { type: 'string' },
  'scale-sizes': { type: 'string' },
  'scale-plan': { type: 'string' },
} as const;

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--${flag} must be a positive integer, got "${text}"`);
  return value;
}

function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((t) => positiveInt(t.trim(), 'scale-sizes') as number);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function parseOnly(text: string): string[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const unknown = parts.filter((p) => !(benchParts as readonly string[]).includes(p));
  if (parts.length === 0 || unknown.length > 0)
    throw new UsageError(`--only takes a comma-separated list of ${benchParts.join(', ')}; got "${text}"`);
  return parts;
}

async function scalePlan(list: string): Promise<string> {
  const files: Record<string, unknown>[] = [];
  for (const file of list.split(',').map((f) => f.trim())) {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new UsageError(`--scale-plan: cannot read ${file}`);
    });
    try {
      files.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      throw new UsageError(`--scale-plan: ${file} is not JSON`);
    }
  }
  try {
    return scalePlanMarkdown(planInput(files));
  } catch (error) {
    const issues = error instanceof z.ZodError ? z.prettifyError(error) : String(error);
    throw new UsageError(
      `--scale-plan: the files lack what the plan needs (a platform_ops section):\n${issues}`,
    );
  }
}

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'benchmark a build: utilisation, speedup over the reference, CPU, memory, export, faults',
  help: benchHelp,
  async run(args, io) {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    if (values['scale-plan'] !== undefined) {
      io.stdout.write(await scalePlan(values['scale-plan']));
      return 0;
    }
    const quick = values.quick === true;
    const bench = defaultBenchOptions(quick, (line) => io.stderr.write(`${line}\n`));
    bench.outFile = resolve(values.out ?? 'out/bench.json');
    bench.tasks = positiveInt(values.tasks, 'tasks') ?? bench.tasks;
    bench.parallelism = positiveInt(values.parallelism, 'parallelism') ?? bench.parallelism;
    if (values.scaling !== undefined) {
      bench.scaling = values.scaling.split(',').map((t) => positiveInt(t.trim(), 'scaling') as number);
    }
    const baselineTasks = positiveInt(values['baseline-tasks'], 'baseline-tasks');
    bench.baselineTasks = Math.min(baselineTasks ?? (quick ? bench.baselineTasks : bench.tasks), bench.tasks);
    bench.skipBaseline = values['no-baseline'] === true;
    if (values.faults && values['no-faults'])
      throw new UsageError('--faults and --no-faults contradict each other');
    if (values.faults) bench.faults = true;
    if (values['no-faults']) bench.faults = false;
    if (values.only !== undefined) bench.only = parseOnly(values.only);
    if (values['scale-sizes'] !== undefined) bench.scaleSizes = parseSizes(values['scale-sizes']);
    const result = await runBench(bench);
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return result.status === 'completed' ? 0 : 1;
  },
};
