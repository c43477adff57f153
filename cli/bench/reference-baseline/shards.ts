import { parseArgs } from 'node:util';
import { parseTaskList } from '../../../shared/contracts/run-spec';
import { startSimPolicy } from '../../sim-policy/server';
import { type BaselineSummary, runBaselineInChild, type ShardedBaseline } from '../baseline-section';
import { shardRanges } from '../metrics';

/**
 * `node --import tsx cli/bench/reference-baseline/shards.ts --tasks 0-39 --shards 32 [--only-shards 8-15]
 *   [--replay-judge-repeats]`:
 * the reference's call pattern the way its users parallelise it: the tasks split into contiguous
 * ranges (`--min/--max`), one OS process per range (main.ts), all side by side against ONE shared
 * sim-policy (32 slots, 150 ms unless told otherwise). Each process runs its tasks one after another,
 * one request at a time. Prints one JSON object: every process's tasks and wall (the sum of its task
 * walls, measured inside the process, so process start-up is not counted), the parallel wall (the
 * slowest process), the sequential wall (all task walls summed: one process doing everything), and
 * what the shared endpoint saw (it never queues while processes <= its slots).
 */
const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '0-39' },
    shards: { type: 'string', default: '32' },
    seed: { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '150' },
    capacity: { type: 'string', default: '32' },
    'replay-judge-repeats': { type: 'boolean', default: false },
    /** Run only these shards (0-based indices, e.g. 8-15); the others are not measured. */
    'only-shards': { type: 'string' },
  },
  strict: true,
});

const sim = await startSimPolicy({
  capacity: Number(values.capacity),
  latencyMs: Number(values['latency-ms']),
  seed: Number(values.seed),
});
const children: ReturnType<typeof runBaselineInChild>[] = [];
try {
  const all = shardRanges(parseTaskList(values.tasks), Number(values.shards));
  const picked = values['only-shards'] ? parseTaskList(values['only-shards']) : all.map((_, i) => i);
  if (picked.some((i) => i >= all.length)) throw new Error(`--only-shards: there are ${all.length} shards`);
  const ranges = picked.map((i) => all[i]!);
  const started = performance.now();
  for (const range of ranges) {
    const args = ['--endpoint', `${sim.url}/v1`, '--seed', values.seed];
    if (values['replay-judge-repeats']) args.push('--replay-judge-repeats');
    children.push(
      runBaselineInChild(`${range[0]}-${range.at(-1)}`, args, (line) => process.stderr.write(`${line}\n`)),
    );
  }
  const results = await Promise.all(children.map((c) => c.result));
  const elapsedMs = performance.now() - started;
  const tasks = results.flatMap((r) => r.tasks).sort((a, b) => a.task - b.task);
  const sum = (pick: (r: BaselineSummary) => number) => results.reduce((t, r) => t + pick(r), 0);
  const first = results[0]!;
  const stats = sim.stats();
  const out: ShardedBaseline = {
    shardsTotal: all.length,
    shards: results.map((r, i) => ({
      index: picked[i]!,
      tasks: ranges[i]!,
      wallMs: r.wallMs,
      elapsedMs: r.elapsedMs,
    })),
    parallelWallMs: Math.max(...results.map((r) => r.wallMs)),
    elapsedMs,
    merged: {
      tasks,
      wallMs: sum((r) => r.wallMs),
      elapsedMs,
      policyCalls: sum((r) => r.policyCalls),
      judgeCalls: sum((r) => r.judgeCalls),
      judgeCallsReplayed: sum((r) => r.judgeCallsReplayed),
      revision: sum((r) => r.revision),
      good: sum((r) => r.good),
      tasksAtOnce: ranges.length,
      judgeRepeats: first.judgeRepeats,
    },
    endpoint: { maxQueued: stats.maxQueued, maxInFlight: stats.maxInFlight, requests: stats.requests },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  for (const child of children) child.kill();
  await sim.close();
}
