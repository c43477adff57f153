import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RunSpecInput, searchDefaults } from '../../shared/contracts/run-spec';
import type { World } from '../../shared/env/crafting/world';
import { getBuiltInWorld } from '../../shared/worlds';
import type { ApiClient } from '../api-client';
import { ApiError } from '../../shared/contracts/api-error';
import { finishBuild } from '../build-output';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { agentRHome } from '../project';
import type { EndpointRef } from '../config-endpoint';
import { registerEndpoint } from '../endpoints';
import { checkOutputDir } from '../output-guard';
import { connectApi } from './export';
import { type BuildPlan, planFromConfig, printConfig, readConfigFile } from '../run-config';
import { specFlagHelp, specFlagOptions } from '../spec-fields';
import { loadWorld, UnknownWorldError } from '../world-store';

export const buildHelp = `Usage: agent-r build [--config FILE] [options]
       agent-r build --resume RUN [--out DIR]

Runs one build (MCTS over the policy's own actions, first-error critique, splicing) and writes
the data to --out. Without --api it starts a local stack (wrangler dev + sim-policy) for the
duration of the build. Every setting is checked before anything starts (exit code 2).

Config:
  --config FILE                YAML or JSON holding the run spec (every field below, by its
                               camelCase name) and the policy/judge endpoints with their settings
                               (baseUrl, model, apiKeyEnv, maxConcurrency, supportsN, timeoutMs,
                               retry, defaults); flags override it
  --print-config               print the effective config (YAML, readable by --config) and exit
  --resume RUN                 reattach to run RUN (e.g. after Ctrl-C), wait for it and write the
                               same folder a finished build writes
Environment:
  --env crafting|agentgym      environment kind (default crafting)
  --world NAME                 crafting world (default "default"; see agent-r world list)
  --flavor textcraft|webshop|sciworld   AgentGym flavour (with --env agentgym only)
  --env-url URL                AgentGym server URL (with --env agentgym only)
  --tasks LIST                 task ids, e.g. 0-19 or 0,3,7 (default 0-19; SciWorld: the
                               reference's training tasks); ids beyond the world's goals are
                               refused (they would repeat goals). AgentGym also takes split ids
                               (textcraft_31), @FILE (every id of a split file: AgentGym's
                               [{"item_id": ...}] test lists or the reference's *_train_clean.json),
                               SciWorld task types x variations (boil:0-4, 1-2:3, find-plant:*)
                               and "reference" (SciWorld's 23 task types x variations 1-5)
  --split FILE                 a split file: the build's tasks are the split's, or with --tasks
                               must all be in it (else exit 2)
  --repeat-goals               allow them: task i plays goal i mod (number of goals)
Policy and judge:
  --policy sim|URL|NAME        sim (the embedded simulator), an OpenAI-compatible base URL
                               (e.g. http://gpu:8000/v1) or a registered endpoint name (default sim)
  --model NAME                 model name at --policy URL
  --api-key KEY                API key for --policy URL (stored encrypted, never shown)
  --max-concurrency N          requests in flight at --policy URL (default 8)
  --[no-]supports-n            whether --policy URL returns n choices per request (default yes)
  --request-timeout-ms N       per-request timeout at --policy URL (default 60000)
  --judge sim|URL|NAME         a separate judge (default: the policy judges, as in the paper)
  --judge-model NAME  --judge-api-key KEY   for --judge URL
Search and run spec (defaults are the reference's; every field of the API's run spec):
${specFlagHelp(['env', 'world', 'flavor', 'env-url'])}
Output:
  --out DIR                    output folder (default out/latest). Written to a temporary sibling
                               and renamed into place when complete: an interrupted build leaves
                               the previous output as it was. A non-empty DIR that is not an
                               earlier agent-r output (no manifest.json) is refused
  --overwrite                  replace such a DIR anyway (never the current folder, home or /)
  --json                       print the manifest as one JSON line last on stdout
  --api URL                    use a running stack (agent-r serve) instead of starting one
  --token T                    its API token (or AGENT_R_TOKEN)

Writes DIR/manifest.json, datacard.json, datacard.md (the data card: what the records hold,
before and after --curation), revision.native.jsonl, good.native.jsonl, dataset.openai.jsonl and
trees/<task>.json; the manifest and every record carry the model id the server reported and the
run's provenance (version, commit, world hash, sampling, seed). Exit code 0 when every task
finished, 1 when the run failed or some tasks failed (see manifest.failures), 2 on bad usage,
130 on Ctrl-C (the local stack is stopped, the run resumes with --resume, DIR is untouched).`;

const options = {
  ...specFlagOptions(),
  config: { type: 'string' },
  'print-config': { type: 'boolean' },
  resume: { type: 'string' },
  tasks: { type: 'string' },
  split: { type: 'string' },
  'repeat-goals': { type: 'boolean' },
  policy: { type: 'string' },
  model: { type: 'string' },
  'api-key': { type: 'string' },
  'max-concurrency': { type: 'string' },
  'supports-n': { type: 'boolean' },
  'no-supports-n': { type: 'boolean' },
  'request-timeout-ms': { type: 'string' },
  judge: { type: 'string' },
  'judge-model': { type: 'string' },
  'judge-api-key': { type: 'string' },
  out: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  overwrite: { type: 'boolean' },
} as const;

type Values = { [key: string]: string | boolean | undefined } & {
  out?: string;
  api?: string;
  token?: string;
  json?: boolean;
  overwrite?: boolean;
  config?: string;
  resume?: string;
};

/** The build plan from --config and the flags, every check done (world and goals included). */
export async function planFromFlags(values: Values): Promise<BuildPlan> {
  const config = values.config ? await readConfigFile(values.config) : {};
  const plan = await planFromConfig(config, values.config ?? '', values);
  if ((plan.spec.env ?? 'crafting') === 'crafting') await checkWorldTasks(plan, values.api !== undefined);
  return plan;
}

/** The world exists and every task id names a goal of its own (unless --repeat-goals). */
async function checkWorldTasks(plan: BuildPlan, remote: boolean): Promise<void> {
  const name = plan.spec.world ?? 'default';
  let world: World;
  try {
    world = await loadWorld(name);
  } catch (error) {
    if (error instanceof UnknownWorldError) {
      if (remote) return; // the stack at --api may hold it; creating the run checks
      throw new UsageError(`--world: ${error.message}`);
    }
    throw error;
  }
  const goals = world.goals.length;
  const beyond = plan.spec.tasks.filter((t) => t >= goals);
  if (beyond.length && !plan.repeatGoals) {
    const first = beyond[0] as number;
    throw new UsageError(
      `--tasks: world "${name}" has ${goals} goals (task ids 0-${goals - 1}); ${beyond.length} task id(s) from ${first} on would repeat goals (task ${first} plays goal ${first % goals}). Pass --repeat-goals to allow that.`,
    );
  }
}

async function uploadWorldIfNeeded(api: ApiClient, name: string): Promise<void> {
  if (getBuiltInWorld(name)) return;
  const world = await loadWorld(name);
  await api.json('PUT', `/v1/worlds/${name}`, world);
}

const apiKeyOf = (ref: EndpointRef): string | undefined =>
  'endpoint' in ref ? ref.endpoint.apiKey : undefined;

/** Flags that only make sense for a new build (the run's spec is fixed). */
const RESUME_FLAGS = ['out', 'overwrite', 'json', 'api', 'token', 'resume'];

/** `build --resume RUN`: reattach to a run, wait for it, write the folder a finished build writes. */
async function resumeBuild(values: Values, io: CliIo): Promise<number> {
  const runId = values.resume as string;
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(runId)) throw new UsageError(`--resume: "${runId}" is not a run id`);
  const extra = Object.keys(values).filter((k) => values[k] !== undefined && !RESUME_FLAGS.includes(k));
  if (extra.length)
    throw new UsageError(`--resume takes the run's own settings; --${extra[0]} cannot change them`);
  const outDir = resolve(values.out ?? 'out/latest');
  await checkOutputDir(outDir, values.overwrite === true);
  const started = Date.now();
  const connection = await connectApi(values, io, { sim: true, resumable: true });
  try {
    let view: { status: string; spec?: { tasks?: number[] } };
    try {
      view = await connection.api.json('GET', `/v1/runs/${encodeURIComponent(runId)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404)
        throw new UsageError(
          `run ${runId} is not ${connection.local ? `in the local state (${agentRHome()}/state)` : `at ${connection.api.baseUrl}`}`,
        );
      throw error;
    }
    const manifest = await connection.api.json<{ config: { tasks: number[] } }>(
      'GET',
      `/v1/runs/${encodeURIComponent(runId)}/manifest`,
    );
    io.stderr.write(`run ${runId}: ${view.status}, reattached\n`);
    return await finishBuild(
      connection.api,
      runId,
      manifest.config.tasks.length,
      outDir,
      started,
      connection.local,
      values,
      io,
    );
  } finally {
    await connection.close();
  }
}

export const buildCommand: CliCommand = {
  name: 'build',
  summary: 'run one build and write manifest, revision/good records, dataset and trees',
  help: buildHelp,
  async run(args, io) {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false }) as {
      values: Values;
    };
    if (values.resume !== undefined) return resumeBuild(values, io);
    const plan = await planFromFlags(values); // every usage error before starting anything
    if (values['print-config']) {
      io.stdout.write(printConfig(plan));
      return 0;
    }
    const outDir = resolve(values.out ?? 'out/latest');
    await checkOutputDir(outDir, values.overwrite === true);
    const started = Date.now();
    const connection = await connectApi(values, io, { sim: true, resumable: true });
    const { api } = connection;
    try {
      const policy = await registerEndpoint(api, plan.policy);
      const judge = plan.judge ? await registerEndpoint(api, plan.judge) : undefined;
      const spec: RunSpecInput = { ...plan.spec, policy, ...(judge ? { judge } : {}) };
      if (spec.env === 'crafting') await uploadWorldIfNeeded(api, spec.world ?? 'default');
      const run = await api.json<{ id: string }>('POST', '/v1/runs', spec);
      io.stderr.write(
        `run ${run.id}: ${spec.tasks.length} tasks, ${spec.iterations ?? searchDefaults.iterations} iterations x width ${spec.width ?? searchDefaults.width}, depth ${spec.depth ?? searchDefaults.depth}\n`,
      );

      const keys = { policy: apiKeyOf(plan.policy), judge: plan.judge ? apiKeyOf(plan.judge) : undefined };
      return await finishBuild(
        api,
        run.id,
        spec.tasks.length,
        outDir,
        started,
        connection.local,
        values,
        io,
        keys,
      );
    } finally {
      await connection.close();
    }
  },
};
