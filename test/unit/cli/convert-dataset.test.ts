import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetReadme, datasetRequest } from '../../../cli/commands/dataset';
import { main } from '../../../cli/main';
import { exportRecords } from '../../../shared/formats';
import { buildManifest } from '../../../shared/formats';
import type { NativeRecord } from '../../../shared/revision/native-record';
import { projectRoot, runCli } from '../../helpers/cli-process';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-r-convert-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(task: number, kind: 'revision' | 'good', n: number): NativeRecord {
  const bad = kind === 'revision';
  return {
    task_num: String(task),
    revise_log: [
      { role: 'user', content: `craft item ${task}`, loss: false },
      { role: 'assistant', content: `Thought: try ${n}\nAction: get ${n} planks`, loss: !bad },
      ...(bad
        ? [
            { role: 'user' as const, content: 'Observation: Could not find enough items.', loss: false },
            {
              role: 'assistant' as const,
              content: 'Assistant: I made a mistake. Action: inventory',
              loss: true,
            },
          ]
        : []),
    ],
    high_log: [],
    low_log: [],
    task_description: `craft item ${task}`,
    revise: bad,
    revise_feedback: [],
    id: `${kind}-${task}-${n}`,
    kind,
    run_id: 'run_unit',
    task,
    first_error_step: bad ? 1 : null,
    branch_step: bad ? 1 : null,
    reward_good: 1,
    reward_bad: bad ? 0 : null,
    good_leaf: `g${n}`,
    bad_leaf: bad ? `b${n}` : null,
  } as NativeRecord;
}

async function lines(records: NativeRecord[], format: 'openai' | 'sharegpt' | 'native'): Promise<string> {
  let text = '';
  for await (const line of exportRecords(records, format)) text += line;
  return text;
}

describe('agent-r convert (real CLI process, no stack)', () => {
  it('a build folder converts in export kind=all order; a lone native file converts as is', async () => {
    const folder = join(dir, 'build');
    const revision = [record(0, 'revision', 1), record(0, 'revision', 2), record(2, 'revision', 3)];
    const good = [record(0, 'good', 4), record(1, 'good', 5), record(2, 'good', 6)];
    const { mkdir } = await import('node:fs/promises');
    await mkdir(folder);
    await writeFile(join(folder, 'revision.native.jsonl'), await lines(revision, 'native'));
    await writeFile(join(folder, 'good.native.jsonl'), await lines(good, 'native'));
    await writeFile(
      join(folder, 'manifest.json'),
      JSON.stringify({
        run_id: 'run_unit',
        status: 'completed',
        config: { env: 'crafting', world: 'default', tasks: [0, 1, 2] },
        counts: Object.fromEntries(
          [
            'tasks',
            'nodes',
            'revision',
            'good',
            'policy_calls',
            'judge_calls',
            'failed_jobs',
            'tasks_failed',
            'prompt_tokens',
            'completion_tokens',
            'reference_judge_calls',
          ].map((k) => [k, 0]),
        ),
        model: 'sim',
        thresholds: { alpha: 0.6, beta: 0.3, transition: 'model' },
        seed: 7,
        created_at: new Date(0).toISOString(),
        completed_at: null,
        failures: [],
      }),
    );
    const out = join(dir, 'all.sharegpt.jsonl');
    const result = await runCli(['convert', folder, '--format', 'sharegpt', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    // The export endpoint's order: per task, its revision records then its good ones.
    const byTask = [revision[0], revision[1], good[0], good[1], revision[2], good[2]] as NativeRecord[];
    expect(await readFile(out, 'utf8')).toBe(await lines(byTask, 'sharegpt'));
    const manifest = JSON.parse(await readFile(`${out}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({ run_ids: ['run_unit'], seed: 7, thresholds: { alpha: 0.6, beta: 0.3 } });
    expect(manifest.counts).toMatchObject({ revision: 3, good: 3 });
    expect(JSON.parse(await readFile(join(dir, 'dataset_info.json'), 'utf8'))).toHaveProperty('all_sharegpt');

    // A copied file alone, --kind filtering, through the same entry point in-process.
    const copy = join(dir, 'copy.jsonl');
    await writeFile(copy, await lines([...revision, ...good], 'native'));
    const io = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      stdin: new PassThrough(),
      cwd: projectRoot,
    };
    const code = await main(
      ['convert', copy, '--format', 'openai', '--kind', 'good', '--out', join(dir, 'g.jsonl')],
      io,
    );
    expect(code).toBe(0);
    expect(await readFile(join(dir, 'g.jsonl'), 'utf8')).toBe(await lines(good, 'openai'));

    // A non-native file: a clear error, nothing written.
    await writeFile(join(dir, 'bad.jsonl'), '{"hello": 1}\n');
    const bad = await main(
      ['convert', join(dir, 'bad.jsonl'), '--format', 'openai', '--out', join(dir, 'x.jsonl')],
      io,
    );
    expect(bad).toBe(1);
    await expect(readFile(join(dir, 'x.jsonl'))).rejects.toThrow();
  });
});

describe('agent-r dataset create', () => {
  const values = (v: Record<string, string | boolean>) => v as Parameters<typeof datasetRequest>[0];
  it('checks the request with the API schema before anything', () => {
    expect(datasetRequest(values({ runs: 'run_a,run_b', split: '0.95', seed: '3' }), null)).toMatchObject({
      runIds: ['run_a', 'run_b'],
      validationFraction: 0.05,
      seed: 3,
    });
    expect(() => datasetRequest(values({ runs: 'run_a', split: '0.2' }), null)).toThrow(/train fraction/);
    expect(() => datasetRequest(values({ runs: 'run_a', eta: '0.2' }), null)).toThrow(/needs --general/);
    expect(() => datasetRequest(values({ runs: 'run_a', seed: '-1' }), null)).toThrow(
      /--seed must be at least 0/,
    );
    expect(() => datasetRequest(values({ runs: 'run_a,run_a' }), null)).toThrow(/unique/);
    expect(() => datasetRequest(values({ runs: 'run_a', format: 'csv' }), null)).toThrow(/--format/);
    expect(() => datasetRequest(values({}), null)).toThrow(/--runs/);
  });

  it('README.md declares the splits in the YAML header Hugging Face datasets reads', () => {
    const manifest = buildManifest({
      manifest_version: 1,
      run_ids: ['run_a'],
      model: null,
      envs: ['crafting:default'],
      thresholds: { alpha: 0.5, beta: 0.2 },
      transition: 'model',
      seed: 0,
      format: 'openai',
      counts: { records: 3, revision: 2, good: 1, general: 0 },
      created_at: new Date(0).toISOString(),
      files: [
        { name: 'train.openai.jsonl', split: 'train', records: 2, bytes: 10, sha256: 'a'.repeat(64) },
        {
          name: 'validation.openai.jsonl',
          split: 'validation',
          records: 1,
          bytes: 5,
          sha256: 'b'.repeat(64),
        },
      ],
    });
    const readme = datasetReadme(manifest, 'ds_1');
    const header = parseYaml(readme.split('---\n')[1] as string);
    expect(header.configs).toEqual([
      {
        config_name: 'default',
        data_files: [
          { split: 'train', path: 'train.openai.jsonl' },
          { split: 'validation', path: 'validation.openai.jsonl' },
        ],
      },
    ]);
  });
});
