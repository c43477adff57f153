import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildManifest,
  type ExportFormat,
  type ExportManifest,
  exportFormatSchema,
  exportWarnings,
  sharegptDatasetInfo,
} from '../../shared/formats';
import type { RunManifest } from '../../shared/contracts/manifest';
import { ApiClient, ApiError } from '../api-client';
import { type Curation, dataCardSchema } from '../../shared/contracts/datacard';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { saveResponseBody } from '../download';
import { checkOutputFile, stageFile, writeFileAtomically } from '../output-guard';
import { agentRHome } from '../project';
import { type LocalStack, startLocalStack } from '../stack';

export const exportHelp = `Usage: agent-r export RUN --format FORMAT --out FILE [options]

Streams the records of run RUN in a trainer format to FILE and writes FILE.manifest.json next
to it (run, model, thresholds, counts, SHA-256 of FILE, and what the format needs to keep the
Agent-R loss mask). For sharegpt it also registers FILE in dataset_info.json in the same folder
(LLaMA-Factory), keeping the entries already there.

Options:
  --format F     native | openai | xtuner | agentgym | sharegpt | trl (required)
  --out FILE     output file (required), e.g. data/agent-r.openai.jsonl. Written to a temporary
                 sibling and renamed into place when complete. An existing FILE that is not an
                 earlier agent-r export (no FILE.manifest.json next to it) is refused
  --overwrite    replace such a FILE anyway
  --kind K       all | revision | good (default all)
  --api URL      a running agent-r API (agent-r serve). Without it a local stack is started on
                 the local state (.agent-r/state or $AGENT_R_HOME/state), where RUN must exist
                 (e.g. made by agent-r build without --api), and stopped afterwards
  --token T      API token for --api (default: $AGENT_R_TOKEN)
  --json         print the manifest as one JSON line on stdout
  -h, --help     this text

Formats: native (our records: the reference's fields + loss flags), openai (messages with
weight 0/1), xtuner (output_with_loss), agentgym (conversations with loss), sharegpt
(LLaMA-Factory; one record per trained turn, train with mask_history: true), trl
(prompt/completion). Exit code 0 on success, 1 on failure, 2 on bad usage.`;

const kinds = ['all', 'revision', 'good'] as const;

export interface ApiConnection {
  api: ApiClient;
  /** Whether a local stack was started for this command. */
  local: boolean;
  /** Stops the local stack if one was started (safe to call twice). */
  close(): Promise<void>;
}

/**
 * The API to talk to: --api (with --token or AGENT_R_TOKEN), or a local stack started on the
 * local state for the duration of the command (stopped on close, Ctrl-C or SIGTERM; `resumable`
 * says on interruption that the command's run goes on when the stack starts again).
 */
export async function connectApi(
  values: { api?: string; token?: string },
  io: CliIo,
  options: { sim?: boolean; resumable?: boolean } = {},
): Promise<ApiConnection> {
  if (values.api) {
    const token = values.token ?? process.env.AGENT_R_TOKEN;
    if (!token) throw new UsageError('--api needs a token: --token T or AGENT_R_TOKEN');
    return { api: new ApiClient(values.api.replace(/\/+$/, ''), token), local: false, close: async () => {} };
  }
  const sim = options.sim ?? false;
  io.stderr.write(
    `starting the local stack on the local state (wrangler dev${sim ? ' + sim-policy' : ''})...\n`,
  );
  let stack: LocalStack | null = await startLocalStack({
    sim,
    log: (line) => io.stderr.write(`  ${line}\n`),
  });
  const close = async () => {
    const running = stack;
    stack = null;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await running?.stop();
  };
  const onSignal = () => {
    const resumes = options.resumable ? ' (the run resumes when the stack starts again)' : '';
    io.stderr.write(`\ninterrupted: stopping the local stack${resumes}\n`);
    void close().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { api: new ApiClient(stack.apiUrl, stack.token), local: true, close };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Adds (or replaces) this file's entry in dataset_info.json, keeping the others. */
async function registerShareGpt(file: string, io: CliIo): Promise<string | null> {
  const infoPath = join(dirname(file), 'dataset_info.json');
  let info: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(await readFile(infoPath, 'utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    info = parsed as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      io.stderr.write(
        `warning: not touching ${infoPath} (${(error as Error).message}); register ${basename(file)} by hand\n`,
      );
      return null;
    }
  }
  const fileName = basename(file);
  const name =
    fileName.slice(0, fileName.length - extname(fileName).length).replace(/\W+/g, '_') || 'agent_r';
  Object.assign(info, sharegptDatasetInfo(name, fileName));
  await writeFileAtomically(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return infoPath;
}

export class RunNotFoundError extends Error {}

export interface ExportResult {
  manifest: ExportManifest;
  manifestPath: string;
  datasetInfoPath: string | null;
}

/** The export itself, against any API; the file appears only once complete. */
export async function exportRun(
  api: ApiClient,
  runId: string,
  options: { format: ExportFormat; kind: (typeof kinds)[number]; out: string },
  io: CliIo,
): Promise<ExportResult> {
  const id = encodeURIComponent(runId);
  let run: RunManifest;
  try {
    run = await api.json<RunManifest>('GET', `/v1/runs/${id}/manifest`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new RunNotFoundError(`run ${runId} not found at ${api.baseUrl}`);
    }
    throw error;
  }
  if (run.status === 'queued' || run.status === 'running') {
    io.stderr.write(`warning: run ${runId} is still ${run.status}: exporting the records written so far\n`);
  }
  const staged = await stageFile(options.out);
  let saved: { bytes: number; lines: number };
  try {
    const response = await api.request(
      'GET',
      `/v1/runs/${id}/dataset?format=${options.format}&kind=${options.kind}`,
      undefined,
      0,
    );
    saved = await saveResponseBody(response, staged.path);
    await staged.commit();
  } finally {
    await staged.discard();
  }
  const sha256 = await sha256File(options.out);
  const warnings = exportWarnings(options.format);
  if (run.status !== 'completed') {
    warnings.push(
      `run ${runId} is ${run.status}${run.failures.length ? ` (${run.failures.length} tasks failed)` : ''}: the data covers the finished tasks only`,
    );
  }
  const config = run.config as { env?: string; world?: string; flavor?: string; curation?: Curation };
  // Counts after the run's curation (the data card's): the file holds the records it keeps.
  // A stack from before data cards has none: its records are the reference's, counted by the run.
  const kept = await api.json('GET', `/v1/runs/${id}/datacard`).then(
    (card) => dataCardSchema.parse(card).after,
    (error) => {
      if (error instanceof ApiError && error.status === 404) return run.counts;
      throw error;
    },
  );
  const manifest = buildManifest({
    manifest_version: 1,
    run_ids: [run.run_id],
    model: run.model,
    envs: [
      config.env === 'agentgym'
        ? `agentgym:${config.flavor ?? 'textcraft'}`
        : `crafting:${config.world ?? 'default'}`,
    ],
    thresholds: { alpha: run.thresholds.alpha, beta: run.thresholds.beta },
    transition: run.thresholds.transition,
    seed: run.seed,
    format: options.format,
    curation: config.curation ?? 'reference',
    counts: {
      records: saved.lines,
      revision: options.kind === 'good' ? 0 : kept.revision,
      good: options.kind === 'revision' ? 0 : kept.good,
      general: 0,
      tasks: run.counts.tasks,
      tasks_failed: run.counts.tasks_failed,
    },
    created_at: new Date().toISOString(),
    files: [
      { name: basename(options.out), split: options.kind, records: saved.lines, bytes: saved.bytes, sha256 },
    ],
    warnings,
  });
  const manifestPath = `${options.out}.manifest.json`;
  await writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const datasetInfoPath = options.format === 'sharegpt' ? await registerShareGpt(options.out, io) : null;
  return { manifest, manifestPath, datasetInfoPath };
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: "write a run's records in a trainer format (openai, xtuner, sharegpt, trl, ...) with a manifest",
  help: exportHelp,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        kind: { type: 'string' },
        api: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        overwrite: { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1)
      throw new UsageError('export takes one run id: export RUN --format F --out FILE');
    const runId = positionals[0] as string;
    const format = exportFormatSchema.safeParse(values.format);
    if (!values.format)
      throw new UsageError(`--format is required (${exportFormatSchema.options.join(', ')})`);
    if (!format.success) {
      throw new UsageError(`unknown --format "${values.format}" (${exportFormatSchema.options.join(', ')})`);
    }
    if (!values.out) throw new UsageError('--out FILE is required');
    const kind = (values.kind ?? 'all') as (typeof kinds)[number];
    if (!kinds.includes(kind))
      throw new UsageError(`--kind must be all, revision or good, got "${values.kind}"`);
    const out = resolve(process.cwd(), values.out);
    if (values.api && !(values.token ?? process.env.AGENT_R_TOKEN)) {
      throw new UsageError('--api needs a token: --token T or AGENT_R_TOKEN');
    }

    await checkOutputFile(out, values.overwrite);
    const connection = await connectApi(values, io);
    try {
      const { manifest, manifestPath, datasetInfoPath } = await exportRun(
        connection.api,
        runId,
        { format: format.data, kind, out },
        io,
      );
      const file = manifest.files[0];
      io.stderr.write(
        [
          `wrote ${out}: ${file?.records ?? 0} records, ${file?.bytes ?? 0} bytes (${format.data}, ${kind})`,
          `manifest: ${manifestPath}`,
          ...(datasetInfoPath ? [`registered in ${datasetInfoPath}`] : []),
          ...manifest.warnings.map((w) => `note: ${w}`),
          '',
        ].join('\n'),
      );
      if (values.json) io.stdout.write(`${JSON.stringify(manifest)}\n`);
      return 0;
    } catch (error) {
      if (error instanceof RunNotFoundError && !values.api) {
        throw new Error(
          `run ${runId} is not in the local state (${agentRHome()}/state); pass --api URL for another stack`,
        );
      }
      throw error;
    } finally {
      await connection.close();
    }
  },
};
