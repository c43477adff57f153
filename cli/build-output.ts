import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Curation, type DataSummary, dataCardSchema } from '../shared/contracts/datacard';
import type { RunManifest } from '../shared/contracts/manifest';
import { dataCardMarkdown } from '../shared/datacard';
import type { ApiClient } from './api-client';
import { saveResponseBody } from './download';

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
  tasks: number[],
  dir: string,
  extra: { wall_s: number } & Record<string, unknown>,
): Promise<BuildManifest> {
  const id = encodeURIComponent(runId);
  await mkdir(join(dir, 'trees'), { recursive: true });
  for (const task of tasks) {
    // A task that failed before its tree existed has no tree file.
    await download(api, `/v1/runs/${id}/tasks/${task}/tree`, join(dir, 'trees', `${task}.json`)).catch(
      () => {},
    );
  }
  const manifest = await api.json<RunManifest>('GET', `/v1/runs/${id}/manifest`);
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
  const full: BuildManifest = { ...manifest, curation: card.curation, data: card.after, ...extra };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
