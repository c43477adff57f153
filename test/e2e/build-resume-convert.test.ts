import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  processesMatching,
  projectRoot,
  removeHome,
  runCli,
  type ServeProcess,
  startServe,
} from '../helpers/cli-process';
import { datasetsPython, datasetsUnavailable, runPython } from '../helpers/python-datasets';

// `agent-r build` interrupted with Ctrl-C (a real process on a real local stack), then
// `agent-r serve` on the same state (the run goes on), `build --resume RUN` writing the folder,
// then `convert` (offline) against `export` (through the stack) on the same run.

describe('build -> Ctrl-C -> build --resume -> convert equals export', () => {
  let home = '';
  let serve: ServeProcess | null = null;
  afterAll(async () => {
    await serve?.stop('SIGTERM'); // serve stops its whole stack (workerd included)
    if (home) await removeHome(home);
  });

  it('an interrupted build leaves the previous output intact; --resume finishes it; convert == export', async () => {
    home = await mkdtemp(join(tmpdir(), 'agent-r-resume-cli-'));
    const skipHf = datasetsUnavailable();
    // Made in parallel with the builds (first time: a minute or two; reused afterwards).
    const python = skipHf ? null : datasetsPython();
    python?.catch(() => {});
    const env = { AGENT_R_HOME: home };
    const out = join(home, 'out');
    await mkdir(out);
    await writeFile(join(out, 'manifest.json'), '{"run_id":"earlier"}\n');

    const child = spawn(
      process.execPath,
      [
        join(projectRoot, 'cli/bin.js'),
        'build',
        '--tasks',
        '0-1',
        '--iterations',
        '2',
        '--width',
        '2',
        '--depth',
        '5',
        '--job-timeout-ms',
        '5000',
        '--out',
        out,
      ],
      {
        cwd: home,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = Date.now();
    while (!/run (run_\w+):/.test(stderr) && child.exitCode === null && Date.now() - started < 150_000)
      await new Promise((r) => setTimeout(r, 100));
    const runId = /run (run_\w+):/.exec(stderr)?.[1];
    expect(runId, stderr).toBeDefined();
    child.kill('SIGINT');
    // Ctrl-C ends the build with the shell's code for SIGINT, its stack (workerd included) gone.
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('the run resumes when the stack starts again');
    expect(await processesMatching(home)).toEqual([]);
    // The earlier output is untouched and no temporary folder is left.
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe('{"run_id":"earlier"}\n');
    expect((await readdir(home)).filter((n) => n.includes('.agent-r-'))).toEqual([]);

    // The sim-policy port the run's endpoint was stored with is taken: the restarted stack's
    // sim-policy comes up on another port, and the run must still complete (no job lost to the old one).
    const oldPort = Number(await readFile(join(home, 'state', 'agent-r-sim-port'), 'utf8'));
    const blocker = createServer(() => {});
    await new Promise<void>((r) => blocker.listen(oldPort, '127.0.0.1', () => r()));
    serve = await startServe([], env).finally(() => blocker.close());
    expect(serve.output()).toContain('pointing the stored sim endpoint at the new sim-policy port');
    const api = { ...env, AGENT_R_TOKEN: serve.token };
    const resumed = await runCli(
      ['build', '--resume', runId as string, '--api', serve.apiUrl, '--out', out, '--json'],
      {
        cwd: home,
        env: api,
        timeoutMs: 200_000,
      },
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('NOT a language model');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      run_id: string;
      status: string;
      counts: { revision: number; good: number };
      provenance: Record<string, unknown> & { git_commit: string };
    };
    expect(manifest.run_id).toBe(runId);
    expect(manifest.status).toBe('completed');
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1) as string)).toMatchObject({ run_id: runId });
    expect((await readdir(join(out, 'trees'))).sort()).toEqual(['0.json', '1.json']);
    const revisionLines = (await readFile(join(out, 'revision.native.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean);
    expect(revisionLines.length).toBe(manifest.counts.revision);
    expect(manifest.counts.revision + manifest.counts.good).toBeGreaterThan(0);
    // No task lost or doubled by the interruption: every record once, of tasks 0 and 1 only.
    const goodLines = (await readFile(join(out, 'good.native.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const records = [...revisionLines, ...goodLines].map(
      (l) => JSON.parse(l) as { id: string; task: number },
    );
    expect(new Set(records.map((r) => r.id)).size).toBe(records.length);
    expect(new Set(records.map((r) => r.task))).toEqual(new Set([0, 1]));
    // Provenance: version and commit, the model the server reports, the world's content hash.
    expect(manifest.provenance).toMatchObject({
      agent_r_version: expect.any(String),
      policy: {
        endpoint: 'sim',
        model: 'sim-policy',
        requested_model: 'sim-policy',
        served_models: ['sim-policy'],
      },
      environment: {
        env: 'crafting',
        world: 'default',
        world_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      sampling: { temperature: 1, max_tokens: 500, width: 2, seed: 0 },
    });
    expect(manifest.provenance.git_commit).toMatch(/^[0-9a-f]{40}/);

    // convert (offline) writes what export (through the stack) writes, byte for byte.
    const converted = await runCli(
      ['convert', out, '--format', 'sharegpt', '--out', join(home, 'c.sharegpt.jsonl')],
      {
        cwd: home,
        env,
      },
    );
    expect(converted.code, converted.stderr).toBe(0);
    const exported = await runCli(
      [
        'export',
        runId as string,
        '--api',
        serve.apiUrl,
        '--format',
        'sharegpt',
        '--out',
        join(home, 'e.sharegpt.jsonl'),
      ],
      { cwd: home, env: api, timeoutMs: 150_000 },
    );
    expect(exported.code, exported.stderr).toBe(0);
    const a = await readFile(join(home, 'c.sharegpt.jsonl'), 'utf8');
    expect(a.length).toBeGreaterThan(0);
    expect(a).toBe(await readFile(join(home, 'e.sharegpt.jsonl'), 'utf8'));
    const convertedOpenai = await runCli(
      ['convert', out, '--format', 'openai', '--out', join(home, 'c.openai.jsonl')],
      {
        cwd: home,
        env,
      },
    );
    expect(convertedOpenai.code).toBe(0);
    expect(await readFile(join(home, 'c.openai.jsonl'), 'utf8')).toBe(
      await readFile(join(out, 'dataset.openai.jsonl'), 'utf8'),
    );

    // dataset create: a folder the Hugging Face datasets library loads, splits as declared.
    const general = join(home, 'general.jsonl');
    const chat = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `What is ${i} + ${i}?` },
          { role: 'assistant', content: String(i + i) },
        ],
      }),
    );
    await writeFile(general, `${chat.join('\n')}\n`);
    const datasetDir = join(home, 'hf-dataset');
    const created = await runCli(
      [
        'dataset',
        'create',
        '--runs',
        runId as string,
        '--api',
        serve.apiUrl,
        '--general',
        general,
        '--eta',
        '0.5',
        '--split',
        '0.5',
        '--seed',
        '3',
        '--out',
        datasetDir,
        '--json',
      ],
      { cwd: home, env: api, timeoutMs: 120_000 },
    );
    expect(created.code, created.stderr).toBe(0);
    const dsManifest = JSON.parse(created.stdout.trim().split('\n').at(-1) as string) as {
      files: { name: string; split: string; records: number }[];
      counts: { general: number };
    };
    expect(dsManifest.counts.general).toBeGreaterThan(0);
    expect((await readdir(datasetDir)).sort()).toEqual(
      ['README.md', 'manifest.json', ...dsManifest.files.map((f) => f.name)].sort(),
    );
    if (skipHf) {
      console.warn(skipHf);
      return;
    }
    const loaded = await runPython(
      (await python) as string,
      [
        'import json, sys',
        'from datasets import load_dataset',
        `ds = load_dataset(${JSON.stringify(datasetDir)})`,
        'print(json.dumps({"splits": {k: ds[k].num_rows for k in ds}, "role": ds["train"][0]["messages"][0]["role"]}))',
      ].join('\n'),
    );
    expect(loaded.code, loaded.output).toBe(0);
    const result = JSON.parse(loaded.output.trim().split('\n').at(-1) as string) as {
      splits: Record<string, number>;
      role: string;
    };
    expect(result.splits).toEqual(Object.fromEntries(dsManifest.files.map((f) => [f.split, f.records])));
    expect(Object.keys(result.splits).sort()).toEqual(['train', 'validation']);
    expect(['system', 'user']).toContain(result.role);
  });
});

describe('Ctrl-C while the local stack starts', () => {
  let home = '';
  afterAll(async () => {
    if (home) await removeHome(home);
  });

  it('exits 130 and leaves no wrangler or workerd behind', async () => {
    home = await mkdtemp(join(tmpdir(), 'agent-r-sigint-start-'));
    const child = spawn(
      process.execPath,
      [join(projectRoot, 'cli/bin.js'), 'build', '--tasks', '0', '--out', join(home, 'out')],
      {
        cwd: home,
        env: { ...process.env, WRANGLER_SEND_METRICS: 'false', AGENT_R_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = Date.now();
    // wrangler dev is spawned (its own process group) and not yet answering.
    while (
      !stderr.includes('starting wrangler dev') &&
      child.exitCode === null &&
      Date.now() - started < 120_000
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toContain('starting wrangler dev');
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('interrupted: stopping the local stack');
    expect(await processesMatching(home)).toEqual([]);
  });
});
