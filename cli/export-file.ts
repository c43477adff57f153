import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Curation } from '../shared/contracts/datacard';
import type { RunManifest } from '../shared/contracts/manifest';
import { searchDefaults } from '../shared/contracts/run-spec';
import {
  buildManifest,
  exportFormatSchema,
  type ExportFormat,
  type ExportManifest,
  exportWarnings,
  sharegptDatasetInfo,
} from '../shared/formats';
import { type CliIo, UsageError } from './command';
import { stageFile, writeFileAtomically } from './output-guard';

// Writing one export file (agent-r export from a stack, agent-r convert from native files): the
// file through a temporary sibling, then FILE.manifest.json, then LLaMA-Factory's
// dataset_info.json entry for sharegpt.

export const exportKinds = ['all', 'revision', 'good'] as const;
export type ExportKind = (typeof exportKinds)[number];

export interface ExportTarget {
  format: ExportFormat;
  kind: ExportKind;
  out: string;
}

export interface ExportResult {
  manifest: ExportManifest;
  manifestPath: string;
  datasetInfoPath: string | null;
}

/** What the records written were, when they were read here (convert) rather than on the stack. */
export interface RecordTally {
  runIds: string[];
  models: string[];
  envs: string[];
  revision: number;
  good: number;
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

function envName(config: Record<string, unknown>): string {
  return config.env === 'agentgym'
    ? `agentgym:${String(config.flavor ?? 'textcraft')}`
    : `crafting:${String(config.world ?? 'default')}`;
}

/**
 * Writes the export file with `write(path)` into a temporary sibling, renames it into place, and
 * writes FILE.manifest.json from the run's manifest (or, without one, from the records' tally).
 */
export async function writeExport(
  write: (path: string) => Promise<{ bytes: number; lines: number }>,
  run: RunManifest | null,
  options: ExportTarget,
  io: CliIo,
  tally?: () => RecordTally,
  provenance?: Record<string, unknown>,
): Promise<ExportResult> {
  const staged = await stageFile(options.out);
  let saved: { bytes: number; lines: number };
  try {
    saved = await write(staged.path);
    await staged.commit();
  } finally {
    await staged.discard();
  }
  const sha256 = await sha256File(options.out);
  const warnings = exportWarnings(options.format);
  const seen = tally?.();
  if (run && run.status !== 'completed') {
    warnings.push(
      `run ${run.run_id} is ${run.status}${run.failures.length ? ` (${run.failures.length} tasks failed)` : ''}: the data covers the finished tasks only`,
    );
  }
  if (!run)
    warnings.push(
      'no manifest.json of the run beside the input: thresholds, transition and seed are the defaults, not read from the run',
    );
  const runIds = run ? [run.run_id] : (seen?.runIds ?? []);
  const manifest = buildManifest({
    manifest_version: 1,
    run_ids: runIds.length ? runIds : ['unknown'],
    model: run ? run.model : seen?.models.length === 1 ? (seen.models[0] as string) : null,
    envs: run ? [envName(run.config)] : (seen?.envs ?? []),
    thresholds: {
      alpha: run?.thresholds.alpha ?? searchDefaults.alpha,
      beta: run?.thresholds.beta ?? searchDefaults.beta,
    },
    transition: run?.thresholds.transition ?? searchDefaults.transition,
    seed: run?.seed ?? searchDefaults.seed,
    format: options.format,
    curation: (run?.config as { curation?: Curation } | undefined)?.curation ?? 'reference',
    counts: {
      records: saved.lines,
      revision: options.kind === 'good' ? 0 : (seen?.revision ?? run?.counts.revision ?? 0),
      good: options.kind === 'revision' ? 0 : (seen?.good ?? run?.counts.good ?? 0),
      general: 0,
      ...(run ? { tasks: run.counts.tasks, tasks_failed: run.counts.tasks_failed } : {}),
    },
    created_at: new Date().toISOString(),
    files: [
      { name: basename(options.out), split: options.kind, records: saved.lines, bytes: saved.bytes, sha256 },
    ],
    warnings,
    ...(provenance ? { provenance } : {}),
  });
  const manifestPath = `${options.out}.manifest.json`;
  await writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const datasetInfoPath = options.format === 'sharegpt' ? await registerShareGpt(options.out, io) : null;
  return { manifest, manifestPath, datasetInfoPath };
}

/** The summary on stderr (and the manifest as one JSON line on stdout with --json). */
export function reportExport(result: ExportResult, target: ExportTarget, io: CliIo, json: boolean): void {
  const file = result.manifest.files[0];
  io.stderr.write(
    [
      `wrote ${target.out}: ${file?.records ?? 0} records, ${file?.bytes ?? 0} bytes (${target.format}, ${target.kind})`,
      `manifest: ${result.manifestPath}`,
      ...(result.datasetInfoPath ? [`registered in ${result.datasetInfoPath}`] : []),
      ...result.manifest.warnings.map((w) => `note: ${w}`),
      '',
    ].join('\n'),
  );
  if (json) io.stdout.write(`${JSON.stringify(result.manifest)}\n`);
}

/** The flags export and convert share (--format, --kind, --out), checked; --out resolved from the cwd. */
export function exportTargetFromFlags(values: {
  format?: string;
  kind?: string;
  out?: string;
}): ExportTarget {
  const formats = exportFormatSchema.options.join(', ');
  if (!values.format) throw new UsageError(`--format is required (${formats})`);
  const format = exportFormatSchema.safeParse(values.format);
  if (!format.success) throw new UsageError(`unknown --format "${values.format}" (${formats})`);
  if (!values.out) throw new UsageError('--out FILE is required');
  const kind = (values.kind ?? 'all') as ExportKind;
  if (!exportKinds.includes(kind))
    throw new UsageError(`--kind must be all, revision or good, got "${values.kind}"`);
  return { format: format.data, kind, out: resolve(values.out) };
}

/** The parseArgs options export and convert share. */
export const exportTargetOptions = {
  format: { type: 'string' },
  out: { type: 'string' },
  kind: { type: 'string' },
  json: { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
} as const;
