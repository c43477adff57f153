import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as stringifyYaml } from 'yaml';
import {
  type DatasetCreateInput,
  type DatasetView,
  datasetCreateSchema,
} from '../../shared/contracts/datasets';
import type { ExportManifest } from '../../shared/formats';
import type { ApiClient } from '../api-client';
import { type CliCommand, UsageError } from '../command';
import { saveResponseBody } from '../download';
import { describeIssue } from '../flag-errors';
import { checkOutputDir, writeDirAtomically } from '../output-guard';
import { connectApi } from './export';

export const datasetHelp = `Usage: agent-r dataset create --runs A,B --out DIR [options]

Assembles a training dataset from finished runs through the API (POST /v1/datasets): revision
and good records pooled, de-duplicated, optionally mixed with general chat data so the agent
data is a share eta of the whole (the paper: 0.2), shuffled and split with a seed. Writes DIR
as a Hugging Face dataset folder: the split files, manifest.json (counts, SHA-256 per file) and
README.md whose YAML header declares the splits, so datasets.load_dataset("DIR") loads it.

Options:
  --runs A,B            run ids (finished runs; required)
  --out DIR             output folder (required); written to a temporary sibling and renamed
                        into place. A non-empty DIR that is not an agent-r output is refused
  --overwrite           replace such a DIR anyway
  --name NAME           the dataset's name (default: agent-r over the run ids)
  --format F            openai | sharegpt | xtuner | agentgym | trl | native (default openai)
  --kinds LIST          revision,good (default both)
  --general FILE        general chat data to mix in (JSONL of {"messages"} or {"conversations"})
  --eta X               agent share with --general (default 0.2)
  --eta-basis B         records | tokens: what the share counts (default records)
  --split X             train fraction, the rest is the validation split (0.5-1; default 1)
  --seed N              shuffle/split seed (default 0)
  --no-dedupe           keep duplicate examples
  --curation C          reference | clean: curation of the pooled agent records (default reference;
                        see README: Curation)
  --api URL --token T   a running stack; without it a local stack is started on the local state
  --json                print the dataset's manifest as one JSON line on stdout

Exit code 0 on success, 1 on failure, 2 on bad usage.`;

const options = {
  runs: { type: 'string' },
  out: { type: 'string' },
  overwrite: { type: 'boolean' },
  name: { type: 'string' },
  format: { type: 'string' },
  kinds: { type: 'string' },
  general: { type: 'string' },
  eta: { type: 'string' },
  'eta-basis': { type: 'string' },
  split: { type: 'string' },
  seed: { type: 'string' },
  'no-dedupe': { type: 'boolean' },
  curation: { type: 'string' },
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options }>>['values'];

const FLAG_OF: Record<string, string> = {
  runIds: '--runs',
  validationFraction: '--split',
  generalChatKey: '--general',
  etaBasis: '--eta-basis',
};

function numberFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${flag} must be a number, got "${text}"`);
  return value;
}

/** The POST /v1/datasets body from the flags, checked with the API's own schema. */
export function datasetRequest(values: Values, generalName: string | null): DatasetCreateInput {
  if (!values.runs) throw new UsageError('--runs A,B is required (finished run ids)');
  const runIds = values.runs
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const split = numberFlag(values.split, 'split');
  if (split !== undefined && (split < 0.5 || split > 1))
    throw new UsageError(`--split is the train fraction, from 0.5 to 1, got ${split}`);
  const eta = numberFlag(values.eta, 'eta');
  if (eta !== undefined && !values.general)
    throw new UsageError('--eta is the agent share of a mix: it needs --general FILE');
  const curation = values.curation ?? 'reference';
  if (curation !== 'reference' && !('curation' in datasetCreateSchema.shape))
    throw new UsageError(
      `--curation ${curation}: the dataset service takes the runs' records as built; build the runs with --curation ${curation}`,
    );
  const request: Record<string, unknown> = {
    name: values.name ?? `agent-r ${runIds.join('+')}`.slice(0, 200),
    runIds,
    ...(values.format ? { format: values.format } : {}),
    ...(values.kinds ? { kinds: values.kinds.split(',').map((k) => k.trim()) } : {}),
    ...(eta !== undefined ? { eta } : {}),
    ...(values['eta-basis'] ? { etaBasis: values['eta-basis'] } : {}),
    ...(generalName ? { generalChatKey: `general-chat/${generalName}.jsonl` } : {}),
    ...(values['no-dedupe'] ? { dedupe: false } : {}),
    ...(values.seed !== undefined ? { seed: numberFlag(values.seed, 'seed') } : {}),
    ...(split !== undefined ? { validationFraction: Number((1 - split).toFixed(6)) } : {}),
    ...('curation' in datasetCreateSchema.shape && values.curation ? { curation } : {}),
  };
  const checked = datasetCreateSchema.safeParse(request);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    if (issue) throw new UsageError(describeIssue(issue, FLAG_OF[key] ?? `--${key}`, request[key]));
  }
  return request as DatasetCreateInput;
}

/** README.md of a dataset folder: the YAML header Hugging Face `datasets` reads, then a short card. */
export function datasetReadme(manifest: ExportManifest, id: string): string {
  const header = {
    configs: [
      {
        config_name: 'default',
        data_files: manifest.files.map((f) => ({ split: f.split, path: f.name })),
      },
    ],
    tags: ['agent-r', 'agents', 'self-reflection'],
  };
  const c = manifest.counts;
  const lines = [
    `# ${id}`,
    '',
    `Agent-R training data (format \`${manifest.format}\`) from run(s) ${manifest.run_ids.join(', ')}.`,
    '',
    `- records: ${c.records} (revision ${c.revision}, good ${c.good}, general ${c.general})`,
    ...(manifest.mixing
      ? [
          `- agent share eta ${manifest.mixing.eta} (reached ${manifest.mixing.achieved_eta}), validation fraction ${manifest.mixing.validation_fraction}, duplicates removed ${manifest.mixing.duplicates_removed}`,
        ]
      : []),
    `- thresholds alpha ${manifest.thresholds.alpha}, beta ${manifest.thresholds.beta}; transition ${manifest.transition}; seed ${manifest.seed}`,
    ...manifest.files.map((f) => `- \`${f.name}\` (${f.split}): ${f.records} lines, sha256 ${f.sha256}`),
    ...manifest.warnings.map((w) => `- note: ${w}`),
    '',
    '```python',
    'from datasets import load_dataset',
    'ds = load_dataset("path/to/this/folder")',
    '```',
    '',
  ];
  return `---\n${stringifyYaml(header)}---\n\n${lines.join('\n')}`;
}

async function download(api: ApiClient, path: string, file: string, sha256?: string): Promise<void> {
  await saveResponseBody(await api.request('GET', path, undefined, 0), file);
  if (sha256) {
    const got = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    if (got !== sha256) throw new Error(`${basename(file)}: SHA-256 ${got} is not the manifest's ${sha256}`);
  }
}

async function create(args: string[], io: Parameters<CliCommand['run']>[1]): Promise<number> {
  const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
  const general = values.general ? resolve(values.general) : null;
  const generalName = general
    ? basename(general)
        .replace(/\.jsonl?$/, '')
        .replace(/[^A-Za-z0-9._-]+/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '')
        .slice(0, 100) || 'general'
    : null;
  const request = datasetRequest(values, generalName);
  if (!values.out) throw new UsageError('--out DIR is required');
  const out = resolve(values.out);
  await checkOutputDir(out, values.overwrite === true);
  let generalText: string | null = null;
  if (general) {
    try {
      generalText = await readFile(general, 'utf8');
    } catch (error) {
      throw new UsageError(`--general: cannot read ${values.general}: ${(error as Error).message}`);
    }
  }
  const connection = await connectApi(values, io);
  try {
    const { api } = connection;
    if (generalText !== null && generalName)
      await api.request(
        'PUT',
        `/v1/datasets/general-chat/${generalName}`,
        generalText,
        120_000,
        'application/x-ndjson',
      );
    const view = await api.json<DatasetView>('POST', '/v1/datasets', request);
    const manifest = view.manifest;
    if (view.status !== 'ready' || !manifest) throw new Error(`dataset ${view.id} is ${view.status}`);
    await writeDirAtomically(out, async (dir) => {
      for (const file of manifest.files)
        await download(api, view.links.files[file.split] as string, join(dir, file.name), file.sha256);
      await writeFile(join(dir, 'README.md'), datasetReadme(manifest, view.id));
      await writeFile(
        join(dir, 'manifest.json'),
        `${JSON.stringify({ dataset_id: view.id, ...manifest }, null, 2)}\n`,
      );
    });
    io.stderr.write(
      [
        `dataset ${view.id}: ${manifest.counts.records} records (revision ${manifest.counts.revision}, good ${manifest.counts.good}, general ${manifest.counts.general})`,
        ...manifest.files.map((f) => `  ${f.split}: ${join(out, f.name)} (${f.records} lines)`),
        `  load it: datasets.load_dataset(${JSON.stringify(out)})`,
        ...manifest.warnings.map((w) => `  note: ${w}`),
        '',
      ].join('\n'),
    );
    if (values.json) io.stdout.write(`${JSON.stringify({ dataset_id: view.id, ...manifest })}\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

export const datasetCommand: CliCommand = {
  name: 'dataset',
  summary:
    'assemble runs into a training dataset folder (mix, dedupe, split) that Hugging Face datasets loads',
  help: datasetHelp,
  subHelp: { create: datasetHelp },
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === 'create') return create(rest, io);
    throw new UsageError(sub ? `unknown dataset subcommand "${sub}" (create)` : 'missing subcommand: create');
  },
};
