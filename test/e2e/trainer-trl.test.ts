import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureVenv, venvPython, venvReady, wheelDirs } from '../../trainers/trl/venv';
import { runCli, runProcess, type ServeProcess, startProcess, startServe } from '../helpers/cli-process';
import type { LoopView as LoopJson } from '../../shared/contracts/loops';

// A real trainer in the loop (trainers/trl): `npm run trainer -- --tiny` trains TRL's SFTTrainer
// on each iteration's dataset with Agent-R's mask (checked token by token against the native
// records before training), serves the checkpoint as an OpenAI-compatible endpoint and calls back;
// iteration 2 builds and evaluates with that tiny model as policy and judge. Also runs the
// companion's own pytest suite. Needs the trainer's Python environment: made from local wheels
// (/opt/wheels, /opt/pypi/files or AGENT_R_WHEELS) when it is missing; skipped without either.

const SECRET = 'e2e-trl-trainer-secret-0123';
const canRun = venvReady() || wheelDirs().length > 0;
if (!canRun)
  console.warn(
    'skipping the TRL trainer tests: no trainer venv (.agent-r/trainer-venv) and no local wheels ' +
      '(/opt/wheels, /opt/pypi/files or AGENT_R_WHEELS) to make one; run `npm run trainer -- --setup`',
  );

/** `npm run trainer -- ARGS` (the launcher's own process), ready on its one TRAINER_URL line. */
async function startTrainer(args: string[]) {
  const started = await startProcess(
    process.execPath,
    ['--import', 'tsx', 'trainers/trl/launch.ts', ...args],
    {
      ready: /TRAINER_URL=\S+\n/,
      what: 'the trainer',
      timeoutMs: 120_000,
    },
  );
  expect(started.stdout().trim().split('\n')).toHaveLength(1);
  return { ...started, url: /TRAINER_URL=(\S+)/.exec(started.stdout())![1]! };
}

interface Job {
  status: string;
  index: number;
  model: string;
  checkpoint: string;
  continuesFrom: string | null;
  examples: number;
  mask: { records: number; mismatches: number; trainedTurns: number; endMarker: string };
  train: { steps: number; seconds: number };
  error: string | null;
}

describe.skipIf(!canRun)('the TRL trainer companion (trainers/trl)', () => {
  const home = mkdtempSync(join(tmpdir(), 'agent-r-trl-'));
  let trainer: Awaited<ReturnType<typeof startTrainer>> | null = null;
  let serve: ServeProcess | null = null;

  beforeAll(async () => {
    await ensureVenv((line) => process.stderr.write(`trainer venv: ${line}\n`));
  }, 900_000);

  afterAll(async () => {
    trainer?.child.kill('SIGKILL');
    await serve?.stop('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  });

  it('passes its own pytest suite (the mask proof, continuation, serving, signatures)', async () => {
    const result = await runProcess(
      venvPython(),
      ['-m', 'pytest', 'trainers/trl/tests', '-q', '-p', 'no:cacheprovider'],
      {
        env: { TOKENIZERS_PARALLELISM: 'false', HF_HUB_OFFLINE: '1' },
        timeoutMs: 600_000,
      },
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/\d+ passed/);
    expect(result.stdout).not.toMatch(/skipped|failed/);
  }, 600_000);

  it('trains, serves and calls back in a two-iteration loop; iteration 2 runs on the tiny model', async () => {
    const started = Date.now();
    const workDir = join(home, 'trainer');
    [trainer, serve] = await Promise.all([
      startTrainer(['--tiny', '--secret', SECRET, '--work-dir', workDir, '--threads', '1']),
      startServe([], { AGENT_R_HOME: home }),
    ]);
    const loopStarted = Date.now();
    const loopFlags = '--name trl --tasks 0,1 --iterations 2 --search-iterations 2 --width 2 --depth 4';
    const evalFlags = '--eval-tasks 4 --eval-rounds 3 --wait --json';
    const result = await runCli(
      [
        ...['iterate', 'start', '--api', serve.apiUrl, ...loopFlags.split(' ')],
        ...['--trainer-url', trainer.url, '--trainer-secret', SECRET, ...evalFlags.split(' ')],
      ],
      { env: { AGENT_R_TOKEN: serve.token, AGENT_R_HOME: home }, timeoutMs: 240_000 },
    );
    expect(result.code, `${result.stderr}\n${trainer.output()}`).toBe(0);
    const loop = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as LoopJson;
    const jobs = ((await (await fetch(trainer.url.replace(/\/webhook$/, '/jobs'))).json()) as { jobs: Job[] })
      .jobs;
    const [first, second] = loop.iterations;
    expect(loop.status, JSON.stringify(loop, null, 1)).toBe('completed');

    // Iteration 1: sim-policy's data, trained with the mask checked on every record.
    expect(first).toMatchObject({ status: 'completed', policy: { model: 'sim-policy' } });
    const examples = (first!.run!.counts!.revision ?? 0) + (first!.run!.counts!.good ?? 0);
    expect(jobs[0]).toMatchObject({ status: 'done', index: 1, error: null, continuesFrom: null });
    expect(jobs[0]!.mask).toMatchObject({ records: jobs[0]!.examples, mismatches: 0, endMarker: '<|end|>' });
    expect(jobs[0]!.examples).toBeGreaterThan(0);
    expect(jobs[0]!.examples).toBeLessThanOrEqual(examples);
    expect(first!.notes?.mask).toMatchObject({ mismatches: 0, records: jobs[0]!.examples });
    const manifest = JSON.parse(readFileSync(join(jobs[0]!.checkpoint, 'agent-r-checkpoint.json'), 'utf8'));
    expect(manifest.hyperParams).toMatchObject({
      epochs: 3,
      lr_scheduler_type: 'cosine',
      warmup_ratio: 0.03,
    });
    const { revision, good } = first!.run!.counts!;
    expect(manifest.dataset.manifest.counts).toMatchObject({ revision, good });
    expect(manifest.dataset.files.native.records).toBe(examples);

    // Iteration 2: the tiny model from the companion is the policy (and so the judge).
    expect(second!.policy).toMatchObject({
      model: jobs[0]!.model,
      baseUrl: trainer.url.replace(/webhook$/, 'v1'),
    });
    expect(second!.run?.status).toBe('completed');
    const evalView = await (
      await fetch(`${serve.apiUrl}/v1/evals/${second!.evalId}`, {
        headers: { authorization: `Bearer ${serve.token}` },
      })
    ).text();
    expect(second!.eval?.status, evalView).toBe('completed');
    if (second!.status === 'no_data') {
      // Its poor actions found no pair: a clear end, not an error, and no second training.
      expect(second!.error).toMatch(/^no revision data: /);
      expect(jobs).toHaveLength(1);
      expect(loop.final?.endpoint).toBe(second!.policy.endpoint);
    } else {
      expect(second!.status).toBe('completed');
      expect(jobs[1]).toMatchObject({ status: 'done', index: 2, continuesFrom: jobs[0]!.checkpoint });
    }
    const seconds = (Date.now() - loopStarted) / 1000;
    console.log(
      `TRL loop: ${seconds.toFixed(0)} s (${((Date.now() - started) / 1000).toFixed(0)} s with the stack's start); iteration 2 ${second!.status}; trainings: ${jobs
        .map(
          (j) =>
            `it${j.index} ${j.examples} examples, ${j.train.steps} steps, ${j.train.seconds} s, mask ${j.mask.mismatches} mismatches`,
        )
        .join('; ')}`,
    );
    expect(seconds).toBeLessThan(180);

    // SIGTERM stops the companion and the model it serves.
    const base = trainer.url.replace(/\/webhook$/, '');
    expect((await fetch(`${base}/v1/models`)).ok).toBe(true);
    expect(await trainer.stop('SIGTERM')).toBe(0);
    await expect(fetch(`${base}/v1/models`)).rejects.toThrow();
    expect(existsSync(jobs[0]!.checkpoint)).toBe(true);
  }, 300_000);
});
