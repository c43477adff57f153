import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RunManifest, runManifestSchema } from '../../shared/contracts/manifest';
import { exportRecords, parseJsonl } from '../../shared/formats';
import { type NativeRecord, nativeRecordSchema } from '../../shared/revision/native-record';
import { type CliCommand, UsageError } from '../command';
import {
  type ExportKind,
  exportTargetFromFlags,
  exportTargetOptions,
  type RecordTally,
  reportExport,
  writeExport,
} from '../export-file';
import { checkOutputFile } from '../output-guard';

export const convertHelp = `Usage: agent-r convert IN --format FORMAT --out FILE [options]

Converts native records to a trainer format offline, without a stack: the same code as
agent-r export, so the output is byte for byte what export writes for the same records.
IN is a build folder (agent-r build --out DIR: revision + good records, task by task, as
export's --kind all) or a native JSONL file (revision.native.jsonl, good.native.jsonl, or a copy).
Writes FILE and FILE.manifest.json (and dataset_info.json for sharegpt), like export.

Options:
  --format F     native | openai | xtuner | agentgym | sharegpt | trl (required)
  --out FILE     output file (required); written to a temporary sibling and renamed into place.
                 An existing FILE that is not an earlier agent-r export is refused
  --overwrite    replace such a FILE anyway
  --kind K       all | revision | good (default all)
  --json         print the manifest as one JSON line on stdout
  -h, --help     this text

The run's thresholds, seed and model in the manifest come from the build folder's manifest.json
(or one beside IN). Exit code 0 on success, 1 on failure, 2 on bad usage.`;

/** The folder's manifest, with the provenance block as the build wrote it (endpoint details included). */
type FolderManifest = RunManifest & { folderProvenance?: Record<string, unknown> };

async function readRunManifest(path: string): Promise<FolderManifest | null> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as { provenance?: Record<string, unknown> };
    const parsed = runManifestSchema.safeParse(json);
    const { provenance } = json;
    return parsed.success
      ? { ...parsed.data, ...(provenance ? { folderProvenance: provenance } : {}) }
      : null;
  } catch {
    return null;
  }
}

function readNative(path: string): AsyncGenerator<NativeRecord> {
  return parseJsonl(createReadStream(path), nativeRecordSchema);
}

/** A build folder's records in export's `kind=all` order: per task, its revision records, then its good ones. */
async function* byTask(
  revisionFile: string,
  goodFile: string,
  tasks: number[],
): AsyncGenerator<NativeRecord> {
  const sources = [readNative(revisionFile), readNative(goodFile)];
  const heads: (NativeRecord | null)[] = [];
  for (const source of sources) heads.push((await source.next()).value ?? null);
  for (const task of tasks) {
    for (let i = 0; i < sources.length; i++) {
      while (heads[i] && (heads[i] as NativeRecord).task === task) {
        yield heads[i] as NativeRecord;
        heads[i] = (await (sources[i] as AsyncGenerator<NativeRecord>).next()).value ?? null;
      }
    }
  }
  const left = heads.find((h) => h !== null);
  if (left)
    throw new Error(
      `record ${left.id} is of task ${left.task}, out of the run's task order: the folder was changed`,
    );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The records of IN for `kind`, and the run's manifest when one is there. */
async function openInput(
  input: string,
  kind: ExportKind,
): Promise<{ records: AsyncIterable<NativeRecord>; run: FolderManifest | null }> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(input);
  } catch {
    throw new UsageError(`cannot read ${input}: no such file or folder`);
  }
  if (info.isDirectory()) {
    const revision = join(input, 'revision.native.jsonl');
    const good = join(input, 'good.native.jsonl');
    if (!(await exists(revision)) || !(await exists(good)))
      throw new UsageError(`${input} is not a build folder (revision.native.jsonl and good.native.jsonl)`);
    const run = await readRunManifest(join(input, 'manifest.json'));
    if (kind === 'revision') return { records: readNative(revision), run };
    if (kind === 'good') return { records: readNative(good), run };
    const tasks = (run?.config.tasks as number[] | undefined) ?? null;
    if (!tasks)
      throw new UsageError(`${input}/manifest.json is missing or not a build manifest: give a file as IN`);
    return { records: byTask(revision, good, tasks), run };
  }
  const run = await readRunManifest(join(dirname(input), 'manifest.json'));
  const all = readNative(input);
  if (kind === 'all') return { records: all, run };
  return {
    records: (async function* () {
      for await (const record of all) if (record.kind === kind) yield record;
    })(),
    run,
  };
}

/** Passes records through, tallying what the manifest needs. */
function tallied(records: AsyncIterable<NativeRecord>): {
  records: AsyncGenerator<NativeRecord>;
  tally: () => RecordTally;
} {
  const runIds = new Set<string>();
  const models = new Set<string>();
  const envs = new Set<string>();
  const counts = { revision: 0, good: 0 };
  return {
    records: (async function* () {
      for await (const record of records) {
        runIds.add(record.run_id);
        if (record.model) models.add(record.model);
        if (record.env) envs.add(record.env);
        counts[record.kind]++;
        yield record;
      }
    })(),
    tally: () => ({ runIds: [...runIds], models: [...models], envs: [...envs], ...counts }),
  };
}

/** Writes JSONL lines to a file, counting lines and bytes. */
async function writeLines(
  lines: AsyncIterable<string>,
  path: string,
): Promise<{ bytes: number; lines: number }> {
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  let bytes = 0;
  let count = 0;
  try {
    for await (const line of lines) {
      bytes += Buffer.byteLength(line);
      count++;
      if (!out.write(line))
        await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
    }
  } finally {
    await Promise.race([new Promise<void>((r) => out.end(() => r())), failed]);
  }
  return { bytes, lines: count };
}

export const convertCommand: CliCommand = {
  name: 'convert',
  summary: 'convert native records (a build folder or a .native.jsonl file) to a trainer format, offline',
  help: convertHelp,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: exportTargetOptions,
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1)
      throw new UsageError('convert takes one input: convert IN --format F --out FILE');
    const target = exportTargetFromFlags(values);
    const { kind, out } = target;
    const input = resolve(positionals[0] as string);
    if (out === input) throw new UsageError('--out must not be the input file');
    await checkOutputFile(out, values.overwrite);
    const { records, run } = await openInput(input, kind);
    const counted = tallied(records);
    const result = await writeExport(
      (path) => writeLines(exportRecords(counted.records, target.format), path),
      run,
      target,
      io,
      counted.tally,
      run?.folderProvenance,
    );
    reportExport(result, target, io, values.json);
    return 0;
  },
};
