import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  parseTaskList,
  type RunSpecInput,
  runSpecSchema,
  searchDefaults,
} from '../../shared/contracts/run-spec';
import { getBuiltInWorld } from '../../shared/worlds';
import type { ApiClient } from '../api-client';
import { writeBuildFolder } from '../build-output';
import { type CliCommand, UsageError } from '../command';
import { checkOutputDir, writeDirAtomically } from '../output-guard';
import { formatSeconds, ProgressBar } from '../progress';
import { connectApi } from './export';
import { loadWorld } from '../world-store';

export const buildHelp = `Usage: agent-r build [options]

Runs one build (MCTS over the policy's own actions, first-error critique, splicing) and writes
the data to --out. Without --api it starts a local stack (wrangler dev + sim-policy) for the
duration of the build.

Environment:
  --env crafting|agentgym      environment kind (default crafting)
  --world NAME                 crafting world (default "default"; see agent-r world list)
  --flavor textcraft|webshop|sciworld   AgentGym flavour (with --env agentgym)
  --env-url URL                AgentGym server URL (with --env agentgym)
  --tasks LIST                 task ids, e.g. 0-19 or 0,3,7 (default 0-19)
Policy:
  --policy sim|URL|NAME        sim (the embedded simulator), an OpenAI-compatible base URL
                               (e.g. http://gpu:8000/v1) or a registered endpoint name (default sim)
  --model NAME                 model name at --policy URL
  --api-key KEY                API key for --policy URL (stored encrypted, never shown)
Search (defaults are the reference's):
  --iterations N (8)  --width N (4)  --depth N (20)  --parallelism N (1: reference-exact)
  --alpha X (0.5)  --beta X (0.2)  --transition model|end (model)  --seed N (0)
  --temperature X (1)
Output:
  --out DIR                    output folder (default out/latest). Written to a temporary sibling
                               and renamed into place when complete: an interrupted build leaves
                               the previous output as it was. A non-empty DIR that is not an
                               earlier agent-r output (no manifest.json) is refused
  --overwrite                  replace such a DIR anyway (never the current folder, home or /)
  --json                       print the manifest as one JSON line last on stdout
  --api URL                    use a running stack (agent-r serve) instead of starting one
  --token T                    its API token (or AGENT_R_TOKEN)

Writes DIR/manifest.json, revision.native.jsonl, good.native.jsonl, dataset.openai.jsonl and
trees/<task>.json. Exit code 0 when every task finished, 1 when the run failed or some tasks
failed (see manifest.failures), 2 on bad usage.`;

const options = {
  env: { type: 'string' },
  flavor: { type: 'string' },
  'env-url': { type: 'string' },
  world: { type: 'string' },
  tasks: { type: 'string' },
  policy: { type: 'string' },
  model: { type: 'string' },
  'api-key': { type: 'string' },
  iterations: { type: 'string' },
  width: { type: 'string' },
  depth: { type: 'string' },
  alpha: { type: 'string' },
  beta: { type: 'string' },
  transition: { type: 'string' },
  parallelism: { type: 'string' },
  seed: { type: 'string' },
  temperature: { type: 'string' },
  out: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  label: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

function numberFlag(values: Values, name: keyof Values): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} must be a number, got "${text}"`);
  return value;
}

/** The run spec from the flags, validated with the API's own schema so errors show before any work. */
export function specFromFlags(values: Values, policyName: string): RunSpecInput {
  const env = values.env ?? 'crafting';
  if (env !== 'crafting' && env !== 'agentgym')
    throw new UsageError(`--env must be crafting or agentgym, got "${env}"`);
  let tasks: number[];
  try {
    tasks = parseTaskList(values.tasks ?? '0-19');
  } catch (error) {
    throw new UsageError(`--tasks: ${(error as Error).message}`);
  }
  const spec: RunSpecInput = {
    env,
    tasks,
    policy: policyName,
    world: values.world ?? 'default',
    iterations: numberFlag(values, 'iterations') ?? searchDefaults.iterations,
    width: numberFlag(values, 'width') ?? searchDefaults.width,
    depth: numberFlag(values, 'depth') ?? searchDefaults.depth,
    alpha: numberFlag(values, 'alpha') ?? searchDefaults.alpha,
    beta: numberFlag(values, 'beta') ?? searchDefaults.beta,
    parallelism: numberFlag(values, 'parallelism') ?? searchDefaults.parallelism,
    seed: numberFlag(values, 'seed') ?? searchDefaults.seed,
    transition: (values.transition ?? searchDefaults.transition) as 'model' | 'end',
    ...(values.temperature !== undefined ? { temperature: numberFlag(values, 'temperature') } : {}),
    ...(values.label ? { label: values.label } : {}),
  };
  if (env === 'agentgym') {
    if (!values['env-url']) throw new UsageError('--env agentgym needs --env-url URL (the AgentGym server)');
    spec.envServer = values['env-url'];
    spec.flavor = (values.flavor ?? 'textcraft') as 'textcraft';
  }
  const checked = runSpecSchema.safeParse(spec);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] ?? 'spec')}: ${issue.message}`);
  }
  return spec;
}

async function registerPolicy(api: ApiClient, values: Values): Promise<string> {
  const policy = values.policy ?? 'sim';
  if (!/^https?:\/\//.test(policy)) return policy;
  if (!values.model)
    throw new UsageError('--policy URL needs --model NAME (the model name the server serves)');
  const name = `url-${createHash('sha256').update(`${policy} ${values.model}`).digest('hex').slice(0, 10)}`;
  await api.json('PUT', `/v1/endpoints/${name}`, {
    baseUrl: policy,
    model: values.model,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
  });
  return name;
}

async function uploadWorldIfNeeded(api: ApiClient, name: string): Promise<void> {
  if (getBuiltInWorld(name)) return;
  const world = await loadWorld(name);
  await api.json('PUT', `/v1/worlds/${name}`, world);
}

interface RunView {
  status: string;
  counters: Record<string, number> | null;
}

export const buildCommand: CliCommand = {
  name: 'build',
  summary: 'run one build and write manifest, revision/good records, dataset and trees',
  help: buildHelp,
  async run(args, io) {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    specFromFlags(values, 'check'); // usage errors before starting anything
    const outDir = resolve(values.out ?? 'out/latest');
    await checkOutputDir(outDir, values.overwrite === true);
    const started = Date.now();
    const connection = await connectApi(values, io, { sim: true, resumable: true });
    const { api } = connection;
    try {
      const policy = await registerPolicy(api, values);
      const spec = specFromFlags(values, policy);
      if (spec.env === 'crafting') await uploadWorldIfNeeded(api, spec.world ?? 'default');
      const run = await api.json<{ id: string }>('POST', '/v1/runs', spec);
      io.stderr.write(
        `run ${run.id}: ${spec.tasks.length} tasks, ${spec.iterations} iterations x width ${spec.width}, depth ${spec.depth}\n`,
      );

      const bar = new ProgressBar(io.stderr as NodeJS.WritableStream & { isTTY?: boolean });
      let view: RunView;
      for (;;) {
        view = await api.json<RunView>('GET', `/v1/runs/${run.id}`);
        const k = view.counters ?? {};
        const finished = (k.tasksDone ?? 0) + (k.tasksFailed ?? 0);
        bar.update(
          finished,
          spec.tasks.length,
          `nodes ${k.nodes ?? 0}  policy ${k.policyCalls ?? 0}  judge ${k.judgeCalls ?? 0}`,
        );
        if (!['queued', 'running'].includes(view.status)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      bar.finish();

      const manifest = await writeDirAtomically(outDir, (dir) =>
        writeBuildFolder(api, run.id, spec.tasks, dir, { wall_s: (Date.now() - started) / 1000 }),
      );
      const wallSeconds = manifest.wall_s;
      const c = manifest.counts;
      io.stderr.write(
        [
          `run ${manifest.run_id}: ${manifest.status} in ${formatSeconds(wallSeconds)}`,
          `  tasks ${c.tasks} (${c.tasks_failed} failed)  nodes ${c.nodes}  revision ${c.revision}  good ${c.good}`,
          `  policy calls ${c.policy_calls}  judge calls ${c.judge_calls} (the reference would make ${c.reference_judge_calls})  failed jobs ${c.failed_jobs}`,
          `  files: ${outDir}`,
          connection.local
            ? '  dashboard: run `npx agent-r serve` and open the printed URL'
            : `  dashboard: ${api.baseUrl}/`,
          ...manifest.failures.slice(0, 5).map((f) => `  task ${f.task} failed: ${f.reason}`),
          '',
        ].join('\n'),
      );
      if (values.json) io.stdout.write(`${JSON.stringify(manifest)}\n`);
      return manifest.status === 'completed' ? 0 : 1;
    } finally {
      await connection.close();
    }
  },
};
