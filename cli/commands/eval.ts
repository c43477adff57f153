import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type EvalCreateInput,
  type EvalMetrics,
  type EvalView,
  evalCreateSchema,
  parseSplit,
  type Split,
} from '../../shared/eval';
import { checkTaskIds } from '../../shared/env/task-lists';
import { getBuiltInWorld } from '../../shared/worlds';
import type { ApiClient } from '../api-client';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { connectApi } from './export';
import { registerEndpoint } from '../endpoints';
import { checkOutputFile, writeFileAtomically } from '../output-guard';
import { formatSeconds, ProgressBar } from '../progress';
import { loadWorld } from '../world-store';
import { resolveTaskArg } from '../task-lists';

export const evalHelp = `Usage: agent-r eval [options]

Evaluates a policy the paper's way: greedy (temperature 0, one sample per step, zero-shot) on a
task set, up to --rounds steps per task, then prints success rate, average reward, repeated-action
loops (sequences of 1-4 actions repeated back to back), how often the model revises itself, the
average step of the first error, and -- with --recovery -- the recovery test (failed trajectories
cut at a random step, the policy continues for up to 50 steps). Without --api it starts a local
stack (wrangler dev + sim-policy) for the duration of the eval.

Policy:
  --policy sim|URL|NAME        sim (the embedded simulator), an OpenAI-compatible base URL or a
                               registered endpoint name (default sim)
  --model NAME                 model name at --policy URL
  --api-key KEY                API key for --policy URL (stored encrypted, never shown)
Tasks:
  --env crafting|agentgym      environment (default crafting)
  --world NAME                 crafting world (default "default")
  --flavor textcraft|webshop|sciworld   AgentGym flavour (with --env agentgym)
  --env-url URL                AgentGym server URL (with --env agentgym)
  --tasks LIST                 task ids, e.g. 0-99 or 4,9,14; AgentGym also split ids
                               (textcraft_3), @FILE (a split file's ids) and SciWorld task types x
                               variations (boil:0-4, 1-2:3; see agent-r build --help)
  --split FILE|heldout         a split file (AgentGym's test splits: [{"item_id": "textcraft_3"}, ...],
                               the reference's *_train_clean.json, a JSON list of ids, or "0-19,25" text), or "heldout": the crafting
                               world's held-out goals (every 5th goal; the default for crafting)
  --max-tasks N                only the first N tasks
  --rounds N                   step limit per task (default 100 agentgym, 30 crafting)
Recovery test:
  --recovery                   cut this eval's own failed trajectories
  --recovery-from RUN          cut the failed trajectories of RUN (an earlier eval's or a build's run)
  --cut-seed N                 seeds the cut points (default 0)
  --recovery-rounds N          steps after the cut (default 50)
Other:
  --seed N                     run seed (default 0)
  --iteration ID               attach the eval to a loop's iteration
  --out FILE                   also write the eval (with per-task results) as JSON to FILE; an
                               existing FILE that is not an earlier eval output is refused
  --overwrite                  replace such a FILE anyway
  --json                       print the eval as one JSON line last on stdout
  --api URL                    use a running stack (agent-r serve) instead of starting one
  --token T                    its API token (or AGENT_R_TOKEN)

Exit code 0 when the eval completed, 1 when it failed (its run failed or was cancelled), 2 on
bad usage.`;

const options = {
  policy: { type: 'string' },
  model: { type: 'string' },
  'api-key': { type: 'string' },
  env: { type: 'string' },
  world: { type: 'string' },
  flavor: { type: 'string' },
  'env-url': { type: 'string' },
  tasks: { type: 'string' },
  split: { type: 'string' },
  'max-tasks': { type: 'string' },
  rounds: { type: 'string' },
  recovery: { type: 'boolean' },
  'recovery-from': { type: 'string' },
  'cut-seed': { type: 'string' },
  'recovery-rounds': { type: 'string' },
  seed: { type: 'string' },
  iteration: { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  api: { type: 'string' },
  token: { type: 'string' },
} as const;

/** Whether a file's text is an eval written by --out (so replacing it loses nothing of the user's). */
function isEvalJson(text: string): boolean {
  try {
    const value = JSON.parse(text) as { id?: unknown; runId?: unknown; status?: unknown };
    return typeof value.id === 'string' && 'runId' in value && typeof value.status === 'string';
  } catch {
    return false;
  }
}

/** A numeric flag, or undefined when absent (usage error when not a number). */
export function numberOption(values: Record<string, unknown>, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${name} must be a number, got "${String(text)}"`);
  return value;
}

/** Reads --split: "heldout", or a file (resolved from the caller's directory). */
export async function readSplitOption(value: string): Promise<Split | 'heldout'> {
  if (value === 'heldout') return 'heldout';
  let text: string;
  try {
    text = await readFile(resolve(value), 'utf8');
  } catch (error) {
    throw new UsageError(`--split: cannot read ${value}: ${(error as Error).message}`);
  }
  try {
    return parseSplit(text);
  } catch (error) {
    throw new UsageError(`--split ${value}: ${(error as Error).message}`);
  }
}

/** The API: --api/--token, or a local stack (with sim-policy) started for the duration of `work`. */
export async function withApi<T>(
  values: { api?: string; token?: string },
  io: CliIo,
  work: (api: ApiClient, local: boolean) => Promise<T>,
): Promise<T> {
  const connection = await connectApi(values, io, { sim: true });
  try {
    return await work(connection.api, connection.local);
  } finally {
    await connection.close();
  }
}

/** --policy URL is registered as an endpoint named after its URL and model; names pass through. */
export async function registerPolicyOption(
  api: ApiClient,
  policy: string,
  model: string | undefined,
  apiKey: string | undefined,
): Promise<string> {
  if (!/^https?:\/\//.test(policy)) return policy;
  if (!model) throw new UsageError('--policy URL needs --model NAME (the model name the server serves)');
  return registerEndpoint(api, { endpoint: { baseUrl: policy, model, ...(apiKey ? { apiKey } : {}) } });
}

export async function uploadWorldIfNeeded(api: ApiClient, name: string): Promise<void> {
  if (getBuiltInWorld(name)) return;
  await api.json('PUT', `/v1/worlds/${name}`, await loadWorld(name));
}

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

/** The POST /v1/evals body from the flags, checked with the API's own schema before any work. */
export async function evalRequestFromFlags(values: Values, policy: string): Promise<EvalCreateInput> {
  const env = values.env ?? 'crafting';
  if (env !== 'crafting' && env !== 'agentgym')
    throw new UsageError(`--env must be crafting or agentgym, got "${env}"`);
  if (values.tasks && values.split) throw new UsageError('give --tasks or --split, not both');
  const request: EvalCreateInput = { policy, env };
  if (env === 'agentgym') {
    if (!values['env-url']) throw new UsageError('--env agentgym needs --env-url URL (the AgentGym server)');
    request.envServer = values['env-url'];
    request.flavor = (values.flavor ?? 'textcraft') as 'textcraft';
  } else {
    request.world = values.world ?? 'default';
  }
  if (values.tasks) {
    request.tasks = await resolveTaskArg(values.tasks, { env, flavor: request.flavor }, '--tasks');
  } else if (values.split) {
    const split = await readSplitOption(values.split);
    if (split === 'heldout') {
      if (env !== 'crafting')
        throw new UsageError('--split heldout is for crafting worlds; pass a split file');
      request.split = 'heldout';
    } else {
      if (split.flavor && env !== 'agentgym')
        throw new UsageError(
          `the split is AgentGym's ${split.flavor}: add --env agentgym --flavor ${split.flavor} --env-url URL`,
        );
      if (split.flavor && request.flavor !== split.flavor)
        throw new UsageError(`the split is ${split.flavor}'s but --flavor is ${request.flavor}`);
      try {
        checkTaskIds(split.tasks, { env, flavor: request.flavor });
      } catch (error) {
        throw new UsageError(`--split ${values.split}: ${(error as Error).message}`);
      }
      request.tasks = split.tasks;
    }
  } else if (env === 'agentgym') {
    throw new UsageError('--env agentgym needs --tasks LIST or --split FILE (e.g. textcraft_test.json)');
  }
  const maxTasks = numberOption(values, 'max-tasks');
  const rounds = numberOption(values, 'rounds');
  const seed = numberOption(values, 'seed');
  if (maxTasks !== undefined) request.maxTasks = maxTasks;
  if (rounds !== undefined) request.rounds = rounds;
  if (seed !== undefined) request.seed = seed;
  if (values.iteration) request.iterationId = values.iteration;
  if (values.recovery || values['recovery-from'] || values['cut-seed'] || values['recovery-rounds']) {
    const cutSeed = numberOption(values, 'cut-seed');
    const recoveryRounds = numberOption(values, 'recovery-rounds');
    request.recovery = {
      ...(values['recovery-from'] ? { fromRun: values['recovery-from'] } : {}),
      ...(cutSeed !== undefined ? { cutSeed } : {}),
      ...(recoveryRounds !== undefined ? { rounds: recoveryRounds } : {}),
    };
  }
  const checked = evalCreateSchema.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`--${String(issue.path[0] ?? 'eval')}: ${issue.message}`);
  }
  return request;
}

/** GET /v1/evals/{id} as the CLI reads it (the contract's schema, shared/contracts/eval.ts). */
export type EvalViewJson = EvalView;

const pct = (value: number | null | undefined) =>
  value === null || value === undefined ? '-' : `${(value * 100).toFixed(1)}%`;
const num = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

/** The metrics as a few readable lines. */
export function formatMetrics(m: EvalMetrics): string[] {
  const lines = [
    `  tasks ${m.tasks} (${m.scored} scored${m.unscoredTasks.length ? `; no rollout: ${m.unscoredTasks.slice(0, 10).join(',')}${m.unscoredTasks.length > 10 ? ',...' : ''}` : ''})`,
    `  success rate     ${pct(m.successRate)}  (${m.successes}/${m.scored})`,
    `  average reward   ${num(m.averageReward, 3)}   average steps ${num(m.averageSteps, 1)}`,
    `  average score    ${num(m.averageScore, 2)} / 100 (the paper's scale: SciWorld's score, WebShop's reward x 100)`,
    `  action loops     ${pct(m.loops.share)} of trajectories (${m.loops.occurrences} loops; by unit length ${Object.entries(
      m.loops.byLength,
    )
      .map(([n, count]) => `${n}:${count}`)
      .join(' ')})`,
    `  self-revisions   ${pct(m.revisions.share)} of trajectories, ${pct(m.revisions.responseShare)} of responses`,
    `  first error      step ${num(m.firstError.averageStep, 1)} on average (${m.firstError.count} failed trajectories)`,
  ];
  if (m.recovery) {
    lines.push(
      `  recovery test    ${pct(m.recovery.successRate)} recovered (${m.recovery.successes}/${m.recovery.scored}), average reward ${num(m.recovery.averageReward, 3)}, cut at step ${num(m.recovery.averageCutStep, 1)} on average`,
    );
  }
  return lines;
}

/** Polls an eval until it is no longer running, with a progress bar on stderr. */
export async function waitForEval(api: ApiClient, id: string, io: CliIo): Promise<EvalViewJson> {
  const bar = new ProgressBar(io.stderr as NodeJS.WritableStream & { isTTY?: boolean });
  for (;;) {
    const view = await api.json<EvalViewJson>('GET', `/v1/evals/${id}`);
    const run = view.progress.run;
    const recovery = view.progress.recovery;
    const total = (run?.tasks ?? view.spec.tasks.length) + (recovery?.tasks ?? view.recovery?.tasks ?? 0);
    const done = (run?.finished ?? 0) + (recovery?.finished ?? 0);
    bar.update(done, total, view.phase.replace(/_/g, ' '));
    if (view.status !== 'running') {
      bar.finish();
      return view;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export const evalCommand: CliCommand = {
  name: 'eval',
  summary: 'evaluate a policy greedily on a split: success, reward, loops, revisions, recovery test',
  help: evalHelp,
  async run(args, io) {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    await evalRequestFromFlags(values, 'check'); // usage errors before starting anything
    if (values.out)
      await checkOutputFile(resolve(values.out), values.overwrite === true, { isOurs: isEvalJson });
    const started = Date.now();
    return withApi(values, io, async (api) => {
      const policy = await registerPolicyOption(api, values.policy ?? 'sim', values.model, values['api-key']);
      const request = await evalRequestFromFlags(values, policy);
      if (request.env === 'crafting') await uploadWorldIfNeeded(api, request.world ?? 'default');
      const created = await api.json<EvalViewJson>('POST', '/v1/evals', request);
      io.stderr.write(
        `eval ${created.id}: ${created.spec.tasks.length} tasks, up to ${created.spec.rounds} steps each, policy ${policy} (greedy)${created.recovery ? ', with the recovery test' : ''}\n`,
      );
      const view = await waitForEval(api, created.id, io);
      const seconds = (Date.now() - started) / 1000;
      const lines = [`eval ${view.id}: ${view.status} in ${formatSeconds(seconds)} (run ${view.runId})`];
      if (view.metrics) lines.push(...formatMetrics(view.metrics));
      if (view.recovery?.note) lines.push(`  recovery test: ${view.recovery.note}`);
      if (view.error) lines.push(`  note: ${view.error}`);
      (values.json ? io.stderr : io.stdout).write(`${lines.join('\n')}\n`);
      if (values.out) await writeFileAtomically(resolve(values.out), `${JSON.stringify(view, null, 2)}\n`);
      if (values.json) io.stdout.write(`${JSON.stringify(view)}\n`);
      return view.status === 'completed' ? 0 : 1;
    });
  },
};
