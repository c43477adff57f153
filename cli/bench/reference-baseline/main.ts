import { parseArgs } from 'node:util';
import { parseTaskList } from '../../../shared/contracts/run-spec';
import { startSimPolicy } from '../../sim-policy/server';
import { runReferenceBaseline } from './baseline';

/**
 * `node --import tsx cli/bench/reference-baseline/main.ts [--tasks 0-1] [--endpoint URL --model NAME]`:
 * runs the reference's call pattern and prints its wall time and call counts as one JSON object.
 * Without --endpoint it starts its own sim-policy set up like the benchmark's (32 slots, 150 ms).
 */
const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '0' },
    endpoint: { type: 'string' },
    model: { type: 'string', default: 'sim-policy' },
    iterations: { type: 'string', default: '8' },
    width: { type: 'string', default: '4' },
    depth: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '150' },
    capacity: { type: 'string', default: '32' },
    'tasks-at-once': { type: 'string', default: '1' },
    'replay-judge-repeats': { type: 'boolean', default: false },
  },
  strict: true,
});

const sim = values.endpoint
  ? null
  : await startSimPolicy({
      capacity: Number(values.capacity),
      latencyMs: Number(values['latency-ms']),
      seed: Number(values.seed),
    });
try {
  const result = await runReferenceBaseline({
    endpoint: {
      name: 'reference-baseline',
      baseUrl: values.endpoint ?? `${sim!.url}/v1`,
      model: values.model,
    },
    spec: {
      tasks: parseTaskList(values.tasks),
      iterations: Number(values.iterations),
      width: Number(values.width),
      depth: Number(values.depth),
      seed: Number(values.seed),
    },
    judgeRepeats: values['replay-judge-repeats'] ? 'replay-timing' : 'call',
    tasksAtOnce: Number(values['tasks-at-once']),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const { tasks, ...totals } = result;
  const endpoint = sim ? { maxQueued: sim.stats().maxQueued, requests: sim.stats().requests } : null;
  process.stdout.write(
    `${JSON.stringify({ ...totals, endpoint, tasks: tasks.map(({ tree: _tree, ...rest }) => rest) })}\n`,
  );
} finally {
  await sim?.close();
}
