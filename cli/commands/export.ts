import { parseArgs } from 'node:util';
import type { RunManifest } from '../../shared/contracts/manifest';
import { ApiError } from '../../shared/contracts/api-error';
import { ApiClient } from '../api-client';
import { dataCardSchema } from '../../shared/contracts/datacard';
import { type CliCommand, type CliIo, UsageError } from '../command';
import { saveResponseBody } from '../download';
import {
  type ExportResult,
  type ExportTarget,
  exportTargetFromFlags,
  exportTargetOptions,
  reportExport,
  writeExport,
} from '../export-file';
import { checkOutputFile } from '../output-guard';
import { interruptExitCode, noteInterrupt } from '../interrupt';
import { agentRHome } from '../project';
import { buildProvenance } from '../provenance';
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
  // The handlers are in place before anything starts and stay until the stack is stopped: a
  // Ctrl-C during the start, or a second one while stopping, must not kill the process with
  // wrangler's workerd children still running (wrangler runs in its own process group).
  const aborter = new AbortController();
  let stack: LocalStack | null = null;
  let closing: Promise<void> | null = null;
  const removeHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const close = () => {
    closing ??= (async () => {
      const running = stack;
      stack = null;
      await running?.stop();
      removeHandlers();
    })();
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (aborter.signal.aborted) return; // already stopping
    noteInterrupt(signal);
    const resumes = options.resumable ? ' (the run resumes when the stack starts again)' : '';
    io.stderr.write(`\ninterrupted: stopping the local stack${resumes}\n`);
    aborter.abort(new Error('interrupted'));
    // A start in progress stops what it started itself. Otherwise the command's own work fails
    // against the stopped stack and main() returns 128 + the signal's number; should that work
    // hang, the process ends anyway a while after the stack is down.
    if (stack)
      void close().then(() => setTimeout(() => process.exit(interruptExitCode() ?? 130), 10_000).unref());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    stack = await startLocalStack({
      sim,
      log: (line) => io.stderr.write(`  ${line}\n`),
      signal: aborter.signal,
    });
  } catch (error) {
    removeHandlers();
    throw error;
  }
  if (aborter.signal.aborted) {
    await close();
    throw new Error('interrupted while the local stack started');
  }
  const { apiUrl, token } = stack;
  return { api: new ApiClient(apiUrl, token), local: true, close };
}

export class RunNotFoundError extends Error {}

/** The export itself, against any API; the file appears only once complete. */
export async function exportRun(
  api: ApiClient,
  runId: string,
  options: ExportTarget,
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
  // Counts after the run's curation (the data card's): the file holds the records it keeps.
  // A stack from before data cards has none: its records are the reference's, counted by the run.
  const kept = await api.json('GET', `/v1/runs/${id}/datacard`).then(
    (card) => dataCardSchema.parse(card).after,
    (error) => {
      if (error instanceof ApiError && error.status === 404) return run.counts;
      throw error;
    },
  );
  return writeExport(
    async (path) => {
      const response = await api.request(
        'GET',
        `/v1/runs/${id}/dataset?format=${options.format}&kind=${options.kind}`,
        undefined,
        0,
      );
      return saveResponseBody(response, path);
    },
    run,
    options,
    io,
    () => ({ runIds: [run.run_id], models: [], envs: [], revision: kept.revision, good: kept.good }),
    (await buildProvenance(api, run)) ?? undefined,
  );
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: "write a run's records in a trainer format (openai, xtuner, sharegpt, trl, ...) with a manifest",
  help: exportHelp,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...exportTargetOptions, api: { type: 'string' }, token: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1)
      throw new UsageError('export takes one run id: export RUN --format F --out FILE');
    const runId = positionals[0] as string;
    const target = exportTargetFromFlags(values);
    const out = target.out;
    if (values.api && !(values.token ?? process.env.AGENT_R_TOKEN)) {
      throw new UsageError('--api needs a token: --token T or AGENT_R_TOKEN');
    }

    await checkOutputFile(out, values.overwrite);
    const connection = await connectApi(values, io);
    try {
      const result = await exportRun(connection.api, runId, target, io);
      reportExport(result, target, io, values.json);
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
