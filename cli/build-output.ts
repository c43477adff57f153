import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Curation, type DataSummary, dataCardSchema } from '../shared/contracts/datacard';
import type { RunManifest } from '../shared/contracts/manifest';
import type { RunCounters, RunView } from '../shared/contracts/run-view';
import { dataCardMarkdown, dataSummaryLine } from '../shared/datacard';
import type { ApiClient } from './api-client';
import type { CliIo } from './command';
import { saveResponseBody } from './download';
import { writeDirAtomically } from './output-guard';
import { buildProvenance, type Provenance } from './provenance';
import { formatSeconds, ProgressBar } from './progress';

/** What `build` (and `build --resume`) writes into DIR, in the Contract's layout. */
export type BuildManifest = RunManifest & {
  wall_s: number;
  /** The run's curation and the data card's headline numbers after it (datacard.json has the rest). */
  curation: Curation;
  data: DataSummary;
} & Record<string, unknown>;

async function download(api: ApiClient, path: string, file: string, expectedLines?: number): Promise<void> {
  const response = await api.request('GET', path, undefined, 0);
  const { lines } = await saveResponseBody(response, file);
  // A stream cut short must never pass as a complete dataset.
  if (expectedLines !== undefined && lines !== expectedLines) {
    throw new Error(
      `download of ${path} ended early: ${lines} of ${expectedLines} records; run the build's export again`,
    );
  }
}

/**
 * Writes a finished run's folder into `dir`: trees/<task>.json, revision.native.jsonl,
 * good.native.jsonl, dataset.openai.jsonl, datacard.json, datacard.md and manifest.json (last: the folder's marker).
 * `extra` is merged into the manifest (wall time, provenance).
 */
export async function writeBuildFolder(
  api: ApiClient,
  runId: string,
  dir: string,
  extra: { wall_s: number } & Record<string, unknown>,
  keys: { policy?: string; judge?: string } = {},
): Promise<BuildManifest> {
  const id = encodeURIComponent(runId);
  const manifest = await api.json<RunManifest>('GET', `/v1/runs/${id}/manifest`);
  await mkdir(join(dir, 'trees'), { recursive: true });
  for (const task of manifest.config.tasks as number[]) {
    // A task that failed before its tree existed has no tree file.
    await download(api, `/v1/runs/${id}/tasks/${task}/tree`, join(dir, 'trees', `${task}.json`)).catch(
      () => {},
    );
  }
  // The data card first: it says how many records the run's curation keeps.
  const card = dataCardSchema.parse(await api.json('GET', `/v1/runs/${id}/datacard`));
  await writeFile(join(dir, 'datacard.json'), `${JSON.stringify(card, null, 2)}\n`);
  await writeFile(join(dir, 'datacard.md'), dataCardMarkdown(card));
  await download(
    api,
    `/v1/runs/${id}/dataset?format=native&kind=revision`,
    join(dir, 'revision.native.jsonl'),
    card.after.revision,
  );
  await download(
    api,
    `/v1/runs/${id}/dataset?format=native&kind=good`,
    join(dir, 'good.native.jsonl'),
    card.after.good,
  );
  await download(api, `/v1/runs/${id}/dataset?format=openai&kind=all`, join(dir, 'dataset.openai.jsonl'));
  const provenance = await buildProvenance(api, manifest, keys);
  const full: BuildManifest = {
    ...manifest,
    curation: card.curation,
    data: card.after,
    ...extra,
    ...(provenance ? { provenance } : {}),
  };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Follows a run with a progress bar until it is no longer queued or running. */
async function followRun(api: ApiClient, runId: string, taskCount: number, io: CliIo): Promise<void> {
  const bar = new ProgressBar(io.stderr as NodeJS.WritableStream & { isTTY?: boolean });
  for (;;) {
    const view = await api.json<RunView>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
    const k: Partial<RunCounters> = view.counters ?? {};
    const finished = (k.tasksDone ?? 0) + (k.tasksFailed ?? 0);
    bar.update(
      finished,
      taskCount,
      `nodes ${k.nodes ?? 0}  policy ${k.policyCalls ?? 0}  judge ${k.judgeCalls ?? 0}`,
    );
    if (!['queued', 'running'].includes(view.status)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.finish();
}

/** Which model made the data, as the server reports it. */
function modelLine(manifest: BuildManifest): string[] {
  const p = manifest.provenance as Provenance | undefined;
  if (!p) return [];
  const answered = (d: Provenance['policy']) => d.model ?? d.served_models?.join(', ') ?? 'not reported';
  const judge = p.judge ? `; judge ${p.judge.endpoint}: ${answered(p.judge)}` : '';
  return [
    `  policy ${p.policy.endpoint}: model ${answered(p.policy)} (as the server reported it; requested ${p.policy.requested_model})${judge}`,
  ];
}

/** Said plainly in the summary when the data came from the embedded simulator. */
export function simulatorNote(manifest: BuildManifest): string[] {
  const policy = (manifest.provenance as Provenance | undefined)?.policy;
  const sim = policy?.endpoint === 'sim' || policy?.served_models?.includes('sim-policy') === true;
  if (!sim) return [];
  return [
    '  policy: sim, the embedded simulator (cli/sim-policy), NOT a language model: this data is for',
    '  demos and tests; pass --policy URL --model NAME (or --config) to build from your model',
  ];
}

/**
 * Waits for the run, writes its folder (staged, renamed into place) and prints the summary;
 * the exit code: 0 when every task finished, else 1. Shared by build and build --resume.
 */
export async function finishBuild(
  api: ApiClient,
  runId: string,
  taskCount: number,
  outDir: string,
  started: number,
  local: boolean,
  values: { json?: boolean },
  io: CliIo,
  keys: { policy?: string; judge?: string } = {},
): Promise<number> {
  await followRun(api, runId, taskCount, io);
  const manifest = await writeDirAtomically(outDir, (dir) =>
    writeBuildFolder(api, runId, dir, { wall_s: (Date.now() - started) / 1000 }, keys),
  );
  const c = manifest.counts;
  io.stderr.write(
    [
      `run ${manifest.run_id}: ${manifest.status} in ${formatSeconds(manifest.wall_s)}`,
      `  tasks ${c.tasks} (${c.tasks_failed} failed)  nodes ${c.nodes}  revision ${c.revision}  good ${c.good}`,
      `  policy calls ${c.policy_calls}  judge calls ${c.judge_calls} (the reference would make ${c.reference_judge_calls})  failed jobs ${c.failed_jobs}`,
      `  prompts counted by ${manifest.tokenizer ?? 'estimate'}  context retries ${c.context_retries}  judge failures ${c.judge_failures}`,
      ...manifest.warnings.map((w) => `  warning: ${w}`),
      `  ${dataSummaryLine({ curation: manifest.curation, after: manifest.data })} (datacard.md)`,
      ...modelLine(manifest),
      ...simulatorNote(manifest),
      `  files: ${outDir}`,
      local
        ? '  dashboard: run `npx agent-r serve` and open the printed URL'
        : `  dashboard: ${api.baseUrl}/`,
      ...manifest.failures.slice(0, 5).map((f) => `  task ${f.task} failed: ${f.reason}`),
      '',
    ].join('\n'),
  );
  if (values.json) io.stdout.write(`${JSON.stringify(manifest)}\n`);
  return manifest.status === 'completed' ? 0 : 1;
}
