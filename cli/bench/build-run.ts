import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../api-client';
import type { RunManifest } from '../../shared/contracts/manifest';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import type { RunView } from '../../shared/contracts/run-view';
import { isFinalRunStatus } from '../../shared/contracts/statuses';

/** One build driven through the HTTP API, the way `agent-r build --api` drives it. */

export type { RunView };

export interface WaitOptions {
  /** Poll interval (default 250 ms): every poll costs the stack a little CPU. */
  pollMs?: number;
  /** Gives up (throws) after this long. */
  timeoutMs: number;
  /** Called after every poll (e.g. to kill the stack at some point, or log progress). */
  onPoll?: (view: RunView) => void | Promise<void>;
}

export const isFinal = isFinalRunStatus;

export async function submitRun(api: ApiClient, spec: RunSpecInput): Promise<string> {
  const run = await api.json<{ id: string }>('POST', '/v1/runs', spec);
  return run.id;
}

/** Polls the run until it is final; bounded by `timeoutMs`. */
export async function waitForRun(api: ApiClient, runId: string, options: WaitOptions): Promise<RunView> {
  const pollMs = options.pollMs ?? 250;
  const started = Date.now();
  const maxPolls = Math.ceil(options.timeoutMs / pollMs) + 1;
  for (let poll = 0; poll < maxPolls && Date.now() - started <= options.timeoutMs; poll++) {
    const view = await api.json<RunView>('GET', `/v1/runs/${runId}`);
    await options.onPoll?.(view);
    if (isFinal(view.status)) return view;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`run ${runId} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
}

export interface TimedRun {
  runId: string;
  view: RunView;
  /** From the POST to the poll that saw the final status. */
  wallMs: number;
  /** When the POST went out (epoch ms). */
  postedAt: number;
  manifest: RunManifest;
}

/** Submits a run, waits for it and fetches its manifest. */
export async function runAndWait(
  api: ApiClient,
  spec: RunSpecInput,
  options: WaitOptions,
): Promise<TimedRun> {
  const started = performance.now();
  const postedAt = Date.now();
  const runId = await submitRun(api, spec);
  const view = await waitForRun(api, runId, options);
  const wallMs = performance.now() - started;
  const manifest = await api.json<RunManifest>('GET', `/v1/runs/${runId}/manifest`);
  return { runId, view, wallMs, postedAt, manifest };
}

async function download(api: ApiClient, path: string, file: string): Promise<void> {
  const response = await api.request('GET', path, undefined, 0);
  await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(file));
}

/** The files `agent-r build` writes: manifest.json, native records, the openai dataset, trees. */
export async function downloadRun(
  api: ApiClient,
  runId: string,
  tasks: readonly number[],
  outDir: string,
  extra: Record<string, unknown> = {},
): Promise<RunManifest> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'trees'), { recursive: true });
  for (const task of tasks) {
    await download(api, `/v1/runs/${runId}/tasks/${task}/tree`, join(outDir, 'trees', `${task}.json`)).catch(
      () => {},
    );
  }
  await download(
    api,
    `/v1/runs/${runId}/dataset?format=native&kind=revision`,
    join(outDir, 'revision.native.jsonl'),
  );
  await download(api, `/v1/runs/${runId}/dataset?format=native&kind=good`, join(outDir, 'good.native.jsonl'));
  await download(
    api,
    `/v1/runs/${runId}/dataset?format=openai&kind=all`,
    join(outDir, 'dataset.openai.jsonl'),
  );
  const manifest = await api.json<RunManifest>('GET', `/v1/runs/${runId}/manifest`);
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify({ ...manifest, ...extra }, null, 2)}\n`);
  return manifest;
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

/** The sim-policy's counters (GET /stats), and a reset (POST /stats/reset). */
export interface SimStats {
  requests: number;
  completions: number;
  byKind: Record<string, number>;
  faults: Record<string, number>;
  busyMs: number;
  wallMs: number;
  capacity: number;
  maxInFlight: number;
  maxQueued: number;
  served: number;
  utilisation: number;
  badRequests: number;
}

export async function simStats(simUrl: string): Promise<SimStats> {
  const response = await fetch(`${simUrl}/stats`, { signal: AbortSignal.timeout(10_000) });
  return (await response.json()) as SimStats;
}

/** The requests the sim-policy served since its last reset: [start, end] in epoch ms. */
export async function simSpans(simUrl: string): Promise<[number, number][]> {
  const response = await fetch(`${simUrl}/stats/spans`, { signal: AbortSignal.timeout(10_000) });
  return ((await response.json()) as { spans: [number, number][] }).spans;
}

export async function resetSimStats(simUrl: string): Promise<void> {
  await fetch(`${simUrl}/stats/reset`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
}
