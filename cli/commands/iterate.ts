import { parseArgs } from 'node:util';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { withApi } from './eval';
import { finish, follow, type LoopJson } from './iterate-lineage';
import { iterateStartOptions, start } from './iterate-start';

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
