import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type LoopCreateInput, loopCreateSchema } from '../../shared/iterations';
import { defaultBuildTasks } from '../../shared/env/task-lists';
import { resolveTaskArg } from '../task-lists';
import { type CliIo, UsageError } from '../command';
import { numberOption, readSplitOption, registerPolicyOption, uploadWorldIfNeeded, withApi } from './eval';
import { finish, follow, type LoopJson } from './iterate-lineage';

// `agent-r iterate start`: its options, the POST /v1/loops body they make (checked with the API's
// schema before any work) and the start itself.

export const iterateStartOptions = `start options:
  --name NAME                  loop name (default "loop")
  --policy sim|URL|NAME        the starting model (default sim); --model, --api-key as for build
  --iterations N               training iterations (default: one per alpha)
  --alphas LIST                alpha per iteration (default 0.5,0.7,1.0; the last repeats)
  --trainer-url URL            where the signed dataset webhook goes
  --trainer-secret S           its signing secret (16+ characters; also verifies the callback)
  --manual                     wait for "iterate next" between iterations (default: automatic)
  --public-url URL             this API's address as the trainer reaches it (default: as called)
 build settings of every iteration (as for build):
  --env, --world, --flavor, --env-url, --tasks LIST (as for build: split ids, @FILE, boil:0-4;
  crafting default: the first 20 goals outside the held-out set; SciWorld: the reference's 115), --search-iterations N (MCTS descents, build's --iterations), --width N,
  --depth N, --beta X, --transition model|end, --parallelism N, --seed N
  --mix FILE                   JSON with "builds" (several build specs, each on top of the settings
                               above) and/or "dataset" (curation, generalChatKey, eta, etaBasis, ...):
                               each iteration assembles ONE dataset from all its builds (README)
 evaluation of every iteration's policy (and the final model):
  --eval-tasks LIST | --eval-split FILE|heldout   (crafting: heldout = every 5th goal)
  --eval-max-tasks N  --eval-rounds N  --recovery (the recovery test on the first eval's failures)
`;

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
  mix: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

type StartValues = ReturnType<typeof parseArgs<{ options: typeof startOptions }>>['values'];

/** `--mix FILE`: the loop spec's `builds` and `dataset` fields from a JSON file. */
async function readMix(file: string): Promise<Pick<LoopCreateInput, 'builds' | 'dataset'>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--mix ${file}: ${(error as Error).message}`);
  }
  const keys = parsed && typeof parsed === 'object' ? Object.keys(parsed) : [];
  const extra = keys.filter((k) => k !== 'builds' && k !== 'dataset');
  if (keys.length === 0 || extra.length > 0)
    throw new UsageError(
      `--mix ${file}: a JSON object with "builds" and/or "dataset" only${extra.length ? ` (not ${extra.join(', ')})` : ''}`,
    );
  return parsed as Pick<LoopCreateInput, 'builds' | 'dataset'>;
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
    build.flavor = (values.flavor ?? 'textcraft') as NonNullable<typeof build.flavor>;
    if (!values.tasks && build.flavor !== 'sciworld')
      throw new UsageError('--env agentgym needs --tasks LIST (the build tasks)');
  } else {
    build.world = values.world ?? 'default';
  }
  const context = { env, flavor: build.flavor } as const;
  if (values.tasks) build.tasks = await resolveTaskArg(values.tasks, context, '--tasks');
  else if (build.flavor === 'sciworld') build.tasks = defaultBuildTasks(context); // the reference's
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
  const evalTasks = values['eval-tasks']
    ? await resolveTaskArg(values['eval-tasks'], context, '--eval-tasks')
    : undefined;
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
  if (values.mix) Object.assign(request, await readMix(values.mix));
  const checked = loopCreateSchema.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`${issue.path.join('.') || 'loop'}: ${issue.message}`);
  }
  return request;
}

export async function start(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: startOptions, strict: true, allowPositionals: false });
  await loopRequestFromFlags(values, 'check');
  if (!values.api && !values['trainer-url'])
    throw new UsageError('a loop on a local stack needs --trainer-url (or run agent-r serve and pass --api)');
  return withApi(values, io, async (api, local) => {
    const policy = await registerPolicyOption(api, values.policy ?? 'sim', values.model, values['api-key']);
    const request = await loopRequestFromFlags(values, policy);
    for (const build of request.builds ?? [{}]) {
      const merged = { ...request.build, ...build };
      if ((merged.env ?? 'crafting') === 'crafting')
        await uploadWorldIfNeeded(api, merged.world ?? 'default');
    }
    const created = await api.json<LoopJson>('POST', '/v1/loops', request);
    io.stderr.write(`loop ${created.id}: iteration 1 is building\n`);
    const loop = local || values.wait ? await follow(api, created.id, io) : created;
    return finish(loop, io, values.json);
  });
}
