import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestTrainer, startTestTrainer } from '../../tools/test-trainer/server';
import { type CliResult, runCli, type ServeProcess, startServe } from '../helpers/cli-process';
import type { LoopView as LoopJson } from '../../shared/contracts/loops';

// The whole iterate-train-evaluate loop with real processes: `agent-r serve` (every worker under
// wrangler dev + sim-policy), the CLI (`iterate start --wait`, `iterate status`, `eval`), and the
// test trainer (tools/test-trainer), which verifies the signed webhook, downloads the dataset
// through the signed links and calls back with a "new model" (sim-policy under another name).

const SECRET = 'e2e-trainer-secret-0123456789';

const cli = (args: string[], env: Record<string, string>, timeoutMs = 150_000) =>
  runCli(args, { env, timeoutMs });

const lastJson = <T>(result: CliResult): T => JSON.parse(result.stdout.trim().split('\n').at(-1)!) as T;

describe('the iteration loop end to end (serve + CLI + test trainer)', () => {
  const home = mkdtempSync(join(tmpdir(), 'agent-r-loop-'));
  let serve: ServeProcess | null = null;
  let trainer: TestTrainer | null = null;
  let api: Record<string, string> = {};

  beforeAll(async () => {
    trainer = await startTestTrainer({ secret: SECRET });
    serve = await startServe([], { AGENT_R_HOME: home });
    api = { AGENT_R_TOKEN: serve.token, AGENT_R_HOME: home };
  });

  afterAll(async () => {
    await serve?.stop('SIGTERM');
    await trainer?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('runs two iterations: build, signed dataset webhook, trainer callback, next model, evals', async () => {
    const started = Date.now();
    const result = await cli(
      [
        'iterate',
        'start',
        '--api',
        serve!.apiUrl,
        '--name',
        'e2e',
        '--tasks',
        '0,1',
        '--iterations',
        '2',
        '--search-iterations',
        '2',
        '--width',
        '2',
        '--depth',
        '5',
        '--trainer-url',
        trainer!.url,
        '--trainer-secret',
        SECRET,
        '--eval-tasks',
        '4,9',
        '--eval-rounds',
        '20',
        '--wait',
        '--json',
      ],
      api,
    );
    expect(result.code, result.stderr).toBe(0);
    const loop = lastJson<LoopJson>(result);
    expect(loop.status).toBe('completed');
    expect(loop.publicUrl).toBe(serve!.apiUrl);

    // The trainer got both datasets through the signed links, matching their manifests.
    const jobs = trainer!.jobs();
    expect(jobs.map((j) => [j.index, j.alpha, j.error, j.callbackStatus])).toEqual([
      [1, 0.5, null, 200],
      [2, 0.7, null, 200],
    ]);
    for (const job of jobs) {
      expect(job.nativeLines).toBe(job.manifestCounts.revision + job.manifestCounts.good);
      expect(job.openaiLines).toBe(job.nativeLines);
      expect(job.nativeLines).toBeGreaterThan(0);
    }
    expect(trainer!.rejected()).toBe(0);

    // Lineage: each iteration's policy is the model the previous training produced.
    expect(loop.iterations.map((it) => [it.index, it.status, it.alpha, it.policy.model])).toEqual([
      [1, 'completed', 0.5, 'sim-policy'],
      [2, 'completed', 0.7, 'sim-policy-it1'],
    ]);
    for (const it of loop.iterations) {
      expect(it.run?.status).toBe('completed');
      expect(it.trainerDelivery?.status).toBe('delivered');
      expect(it.eval).toMatchObject({ status: 'completed', successRate: 1 });
      expect(it.notes?.examples).toBe((it.run?.counts?.revision ?? 0) + (it.run?.counts?.good ?? 0));
    }
    expect(loop.final?.eval).toMatchObject({ status: 'completed', successRate: 1 });
    expect(Date.now() - started).toBeLessThan(120_000);

    // `iterate status` shows the same lineage as a table.
    const status = await cli(['iterate', 'status', loop.id, '--api', serve!.apiUrl], api);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`loop ${loop.id} "e2e": completed (2/2 iterations)`);
    expect(status.stdout).toMatch(/\n2\s+completed\s+0\.7\s+sim-policy-it1/);

    // `agent-r eval` on the final model, with the recovery test on deep goals cut short.
    const evaluated = await cli(
      [
        'eval',
        '--api',
        serve!.apiUrl,
        '--policy',
        loop.final!.endpoint,
        '--tasks',
        '204,209',
        '--rounds',
        '2',
        '--recovery',
        '--recovery-rounds',
        '30',
        '--json',
      ],
      api,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const view = lastJson<{
      status: string;
      metrics: { successRate: number; recovery: { tasks: number; scored: number } };
    }>(evaluated);
    expect(view.status).toBe('completed');
    expect(view.metrics.successRate).toBe(0);
    expect(view.metrics.recovery).toMatchObject({ tasks: 2, scored: 2 });
    expect(evaluated.stderr).toContain('recovery test');
  });
});
