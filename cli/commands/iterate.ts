import { parseArgs } from 'node:util';
import { type LoopCreateInput, loopCreateSchema } from '../../shared/iterations';
import { parseTaskList } from '../../shared/contracts/run-spec';
import type { ApiClient } from '../api-client';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { numberOption, readSplitOption, registerPolicyOption, uploadWorldIfNeeded, withApi } from './eval';

const iterateStartOptions = `start options:
  --name NAME                  loop name (default "loop")
  --policy sim|URL|NAME        the starting model (default sim); --model, --api-key as for build
  --iterations N               training iterations (default: one per alpha)
  --alphas LIST                alpha per iteration (default 0.5,0.7,1.0; the last repeats)
  --trainer-url URL            where the signed dataset webhook goes
  --trainer-secret S           its signing secret (16+ characters; also verifies the callback)
  --manual                     wait for "iterate next" between iterations (default: automatic)
  --public-url URL             this API's address as the trainer reaches it (default: as called)
 build settings of every iteration (as for build):
  --env, --world, --flavor, --env-url, --tasks LIST (crafting default: the first 20 goals outside
  the held-out set), --search-iterations N (MCTS descents, build's --iterations), --width N,
  --depth N, --beta X, --transition model|end, --parallelism N, --seed N
 evaluation of every iteration's policy (and the final model):
  --eval-tasks LIST | --eval-split FILE|heldout   (crafting: heldout = every 5th goal)
  --eval-max-tasks N  --eval-rounds N  --recovery (the recovery test on the first eval's failures)
`;

const iterateCommon = `Common:
  --api URL --token T          a running stack (agent-r serve); without it a local stack is started
                               and "start" waits for the loop to finish (it needs --trainer-url)
  --wait                       with --api: follow the loop until it completes, fails or waits
  --json                       print the loop (lineage) as one JSON line last on stdout

`;

export const iterateHelp = `Usage:
  agent-r iterate start [options]        start a loop (iteration 1 builds at once)
  agent-r iterate status LOOP [--watch]  the loop's lineage: each iteration's policy, alpha, data, eval
  agent-r iterate next ITERATION [--base-url URL --model NAME [--api-key K]]
                                         register the model trained on ITERATION's data (when no
                                         trainer calls back) and/or start the next iteration
  agent-r iterate list                   loops, newest first

The iterate-train-evaluate loop of Agent-R: iteration k builds revision data with policy M_k and
alpha_k (default 0.5, 0.7, 1.0), sends the trainer a signed "dataset.ready" webhook (download links
that need no token, the manifest, a callback URL), and the trainer calls back with M_{k+1}'s
OpenAI-compatible endpoint (signed POST /v1/iterations/ID/callback), which is iteration k+1's policy.

${iterateStartOptions}${iterateCommon}Exit codes: 0 ok (a finished loop: completed), 1 the loop failed, 2 bad usage.`;

const startOptions = {
  name: { type: 'string' },
  policy: { type: 'string' },
  model: { type: 'string' },
  'api-key': { type: 'string' },
  iterations: { type: 'string' },
  alphas: { type: 'string' },
  'trainer-url': { type: 'string' },
  'trainer-secret': { type: 'string' },
  manual: { type: 'boolean' },
  'public-url': { type: 'string' },
  env: { type: 'string' },
  world: { type: 'string' },
  flavor: { type: 'string' },
  'env-url': { type: 'string' },
  tasks: { type: 'string' },
  'search-iterations': { type: 'string' },
  width: { type: 'string' },
  depth: { type: 'string' },
  beta: { type: 'string' },
  transition: { type: 'string' },
  parallelism: { type: 'string' },
  seed: { type: 'string' },
  'eval-tasks': { type: 'string' },
  'eval-split': { type: 'string' },
  'eval-max-tasks': { type: 'string' },
  'eval-rounds': { type: 'string' },
  recovery: { type: 'boolean' },
  api: { type: 'string' },
  token: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type StartValues = ReturnType<typeof parseArgs<{ options: typeof startOptions }>>['values'];

function taskListOption(text: string, flag: string): number[] {
  try {
    return parseTaskList(text);
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}

/** The POST /v1/loops body from the flags, checked with the API's schema before any work. */
export async function loopRequestFromFlags(values: StartValues, policy: string): Promise<LoopCreateInput> {
  const env = values.env ?? 'crafting';
  if (env !== 'crafting' && env !== 'agentgym')
    throw new UsageError(`--env must be crafting or agentgym, got "${env}"`);
  const build: NonNullable<LoopCreateInput['build']> = { env };
  if (env === 'agentgym') {
    if (!values['env-url']) throw new UsageError('--env agentgym needs --env-url URL');
    build.envServer = values['env-url'];
    build.flavor = (values.flavor ?? 'textcraft') as 'textcraft';
    if (!values.tasks) throw new UsageError('--env agentgym needs --tasks LIST (the build tasks)');
  } else {
    build.world = values.world ?? 'default';
  }
  if (values.tasks) build.tasks = taskListOption(values.tasks, 'tasks');
  const numeric: [keyof typeof build, string][] = [
    ['iterations', 'search-iterations'],
    ['width', 'width'],
    ['depth', 'depth'],
    ['beta', 'beta'],
    ['parallelism', 'parallelism'],
    ['seed', 'seed'],
  ];
  for (const [key, flag] of numeric) {
    const value = numberOption(values, flag);
    if (value !== undefined) (build as Record<string, unknown>)[key] = value;
  }
  if (values.transition) build.transition = values.transition as 'model';
  const request: LoopCreateInput = { name: values.name ?? 'loop', policy, build, auto: !values.manual };
  if (values.alphas) {
    const alphas = values.alphas.split(',').map((a) => Number(a.trim()));
    if (alphas.some((a) => !Number.isFinite(a)))
      throw new UsageError(`--alphas must be numbers, got "${values.alphas}"`);
    request.alphas = alphas;
  }
  const iterations = numberOption(values, 'iterations');
  if (iterations !== undefined) request.iterations = iterations;
  if (values['trainer-url']) request.trainerUrl = values['trainer-url'];
  if (values['trainer-secret']) request.trainerSecret = values['trainer-secret'];
  if (values['public-url']) request.publicUrl = values['public-url'];
  if (values['eval-tasks'] && values['eval-split'])
    throw new UsageError('give --eval-tasks or --eval-split, not both');
  const evalTasks = values['eval-tasks'] ? taskListOption(values['eval-tasks'], 'eval-tasks') : undefined;
  let evalSplit: 'heldout' | undefined;
  let splitTasks: number[] | undefined;
  if (values['eval-split']) {
    const split = await readSplitOption(values['eval-split']);
    if (split === 'heldout') evalSplit = 'heldout';
    else splitTasks = split.tasks;
  }
  const evalMaxTasks = numberOption(values, 'eval-max-tasks');
  const evalRounds = numberOption(values, 'eval-rounds');
  if (evalTasks || evalSplit || splitTasks || evalMaxTasks || evalRounds || values.recovery) {
    request.eval = {
      ...(evalTasks || splitTasks ? { tasks: evalTasks ?? splitTasks } : { split: evalSplit ?? 'heldout' }),
      ...(evalMaxTasks !== undefined ? { maxTasks: evalMaxTasks } : {}),
      ...(evalRounds !== undefined ? { rounds: evalRounds } : {}),
      ...(values.recovery ? { recovery: true } : {}),
    };
  }
  const checked = loopCreateSchema.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`${issue.path.join('.') || 'loop'}: ${issue.message}`);
  }
  return request;
}

interface EvalSummary {
  status: string;
  successRate: number | null;
  averageReward: number | null;
  loopShare: number | null;
  revisionShare: number | null;
  firstErrorStep: number | null;
  recoverySuccessRate: number | null;
}

export interface LoopJson {
  id: string;
  name: string;
  status: string;
  error: string | null;
  config: { iterations: number };
  iterations: {
    id: string;
    index: number;
    status: string;
    alpha: number;
    policy: { endpoint: string; model: string | null };
    runId: string | null;
    run: {
      status: string;
      counts: { revision: number; good: number; tasks: number } | null;
      firstErrorStep: number | null;
    } | null;
    eval: EvalSummary | null;
    resultEndpoint: string | null;
    trainerDelivery: { status: string; attempts: number; lastError: string | null } | null;
    error: string | null;
  }[];
  final: { endpoint: string; eval: EvalSummary | null } | null;
}

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '-' : `${(v * 100).toFixed(0)}%`;
const fixed = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));

/** The lineage as a table. */
export function formatLineage(loop: LoopJson): string {
  const header = [
    'it',
    'status',
    'alpha',
    'policy',
    'revision/good',
    '1st err',
    'success',
    'reward',
    'loops',
    'revises',
    'recovery',
  ];
  const rows = loop.iterations.map((it) => [
    String(it.index),
    it.status,
    String(it.alpha),
    it.policy.model ?? it.policy.endpoint,
    it.run?.counts ? `${it.run.counts.revision}/${it.run.counts.good}` : '-',
    fixed(it.run?.firstErrorStep, 1),
    it.eval ? (it.eval.status === 'running' ? '...' : pct(it.eval.successRate)) : '-',
    fixed(it.eval?.averageReward),
    pct(it.eval?.loopShare),
    pct(it.eval?.revisionShare),
    pct(it.eval?.recoverySuccessRate),
  ]);
  if (loop.final) {
    const e = loop.final.eval;
    rows.push([
      'final',
      '',
      '',
      loop.final.endpoint,
      '',
      '',
      e ? (e.status === 'running' ? '...' : pct(e.successRate)) : '-',
      fixed(e?.averageReward),
      pct(e?.loopShare),
      pct(e?.revisionShare),
      pct(e?.recoverySuccessRate),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const notes = loop.iterations
    .filter((it) => it.error || it.trainerDelivery?.lastError)
    .map(
      (it) => `  iteration ${it.index}: ${it.error ?? `trainer delivery: ${it.trainerDelivery?.lastError}`}`,
    );
  return [
    `loop ${loop.id} "${loop.name}": ${loop.status} (${loop.iterations.length}/${loop.config.iterations} iterations)${loop.error ? ` -- ${loop.error}` : ''}`,
    line(header),
    ...rows.map(line),
    ...notes,
    '',
  ].join('\n');
}

const settled = (loop: LoopJson) =>
  loop.status === 'failed' ||
  loop.status === 'waiting' ||
  (loop.status === 'completed' && loop.final?.eval?.status !== 'running');

/** Follows a loop until it completes (final eval included), fails or waits for `next`. */
async function follow(api: ApiClient, id: string, io: CliIo, maxMinutes = 24 * 60): Promise<LoopJson> {
  let last = '';
  const deadline = Date.now() + maxMinutes * 60_000;
  for (;;) {
    const loop = await api.json<LoopJson>('GET', `/v1/loops/${id}`);
    const text = formatLineage(loop);
    if (text !== last) {
      io.stderr.write(text);
      last = text;
    }
    if (settled(loop) || Date.now() > deadline) return loop;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function finish(loop: LoopJson, io: CliIo, json: boolean | undefined): number {
  if (json) io.stdout.write(`${JSON.stringify(loop)}\n`);
  else io.stdout.write(formatLineage(loop));
  return loop.status === 'failed' ? 1 : 0;
}

async function start(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: startOptions, strict: true, allowPositionals: false });
  await loopRequestFromFlags(values, 'check');
  if (!values.api && !values['trainer-url'])
    throw new UsageError('a loop on a local stack needs --trainer-url (or run agent-r serve and pass --api)');
  return withApi(values, io, async (api, local) => {
    const policy = await registerPolicyOption(api, values.policy ?? 'sim', values.model, values['api-key']);
    const request = await loopRequestFromFlags(values, policy);
    if ((request.build?.env ?? 'crafting') === 'crafting')
      await uploadWorldIfNeeded(api, request.build?.world ?? 'default');
    const created = await api.json<LoopJson>('POST', '/v1/loops', request);
    io.stderr.write(`loop ${created.id}: iteration 1 is building\n`);
    const loop = local || values.wait ? await follow(api, created.id, io) : created;
    return finish(loop, io, values.json);
  });
}

const commonOptions = {
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...commonOptions, watch: { type: 'boolean' } },
    strict: true,
    allowPositionals: true,
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError('usage: agent-r iterate status LOOP');
  return withApi(values, io, async (api) => {
    const loop = values.watch
      ? await follow(api, id, io)
      : await api.json<LoopJson>('GET', `/v1/loops/${id}`);
    return finish(loop, io, values.json);
  });
}

async function next(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...commonOptions,
      'base-url': { type: 'string' },
      model: { type: 'string' },
      'api-key': { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError('usage: agent-r iterate next ITERATION');
  if (Boolean(values['base-url']) !== Boolean(values.model))
    throw new UsageError("--base-url and --model go together (the trained model's endpoint)");
  return withApi(values, io, async (api) => {
    const body = values['base-url']
      ? {
          endpoint: {
            baseUrl: values['base-url'],
            model: values.model,
            ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
          },
        }
      : {};
    const iteration = await api.json<{ id: string; index: number; loopId: string; status: string }>(
      'POST',
      `/v1/iterations/${id}/next`,
      body,
    );
    io.stderr.write(
      `iteration ${iteration.index} (${iteration.id}) of loop ${iteration.loopId}: ${iteration.status}\n`,
    );
    if (values.json) io.stdout.write(`${JSON.stringify(iteration)}\n`);
    return 0;
  });
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: commonOptions, strict: true });
  return withApi(values, io, async (api) => {
    const { loops } = await api.json<{ loops: LoopJson[] }>('GET', '/v1/loops');
    if (values.json) io.stdout.write(`${JSON.stringify(loops)}\n`);
    else
      for (const loop of loops)
        io.stdout.write(
          `${loop.id}  ${loop.status.padEnd(9)}  ${loop.iterations.length}/${loop.config.iterations}  ${loop.name}\n`,
        );
    return 0;
  });
}

export const iterateCommand: CliCommand = {
  name: 'iterate',
  summary: 'the iterate-train-evaluate loop: start, status, next, list',
  help: iterateHelp,
  subHelp: {
    start: `Usage: agent-r iterate start [options]\n\nStarts a loop (iteration 1 builds at once).\n\n${iterateStartOptions}${iterateCommon}`,
  },
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'start') return start(rest, io);
    if (sub === 'status') return status(rest, io);
    if (sub === 'next') return next(rest, io);
    if (sub === 'list') return list(rest, io);
    throw new UsageError(
      sub
        ? `unknown iterate subcommand "${sub}" (start, status, next or list)`
        : 'missing subcommand: start, status, next or list',
    );
  },
};
