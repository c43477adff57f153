import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { evalRequestFromFlags, formatMetrics } from '../../../cli/commands/eval';
import { formatLineage, type LoopJson } from '../../../cli/commands/iterate-lineage';
import { loopRequestFromFlags } from '../../../cli/commands/iterate-start';
import { main } from '../../../cli/main';
import { computeEvalMetrics } from '../../../shared/eval';
import { chain, treesOf } from './chain';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(args, { stdout, stderr, stdin: new PassThrough(), cwd: process.cwd() });
  return { code, stdout: out, stderr: err };
}

describe('agent-r eval flags', () => {
  it('build the POST /v1/evals body', async () => {
    expect(
      await evalRequestFromFlags({ tasks: '4,9', rounds: '20', recovery: true, 'cut-seed': '3' }, 'sim'),
    ).toEqual({
      policy: 'sim',
      env: 'crafting',
      world: 'default',
      tasks: [4, 9],
      rounds: 20,
      recovery: { cutSeed: 3 },
    });
    expect(
      await evalRequestFromFlags({ split: 'heldout', 'max-tasks': '5', 'recovery-from': 'run_1' }, 'p'),
    ).toMatchObject({
      split: 'heldout',
      maxTasks: 5,
      recovery: { fromRun: 'run_1' },
    });
  });

  it('read an AgentGym split file and check it against the flavour', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'split-'));
    const file = join(dir, 'webshop_test.json');
    writeFileSync(file, JSON.stringify([{ item_id: 'webshop_12' }, { item_id: 'webshop_3' }]));
    const body = await evalRequestFromFlags(
      { env: 'agentgym', flavor: 'webshop', 'env-url': 'http://127.0.0.1:36001', split: file },
      'llama',
    );
    expect(body).toMatchObject({
      env: 'agentgym',
      flavor: 'webshop',
      envServer: 'http://127.0.0.1:36001',
      tasks: [12, 3],
    });
    await expect(
      evalRequestFromFlags({ env: 'agentgym', flavor: 'textcraft', 'env-url': 'http://x', split: file }, 'p'),
    ).rejects.toThrow(/webshop's but --flavor is textcraft/);
    await expect(evalRequestFromFlags({ split: file }, 'p')).rejects.toThrow(/--env agentgym/);
  });

  it('exit with code 2 and a hint on bad usage, before starting anything', async () => {
    for (const args of [
      ['eval', '--tasks', '1', '--split', 'heldout'],
      ['eval', '--env', 'agentgym', '--env-url', 'http://x'],
      ['eval', '--rounds', 'many'],
      ['eval', '--rounds', '1'],
      ['eval', '--split', '/no/such/file.json'],
      ['iterate'],
      ['iterate', 'start', '--alphas', 'a,b'],
      ['iterate', 'start', '--api', 'http://x', '--token', 't', '--trainer-url', 'http://t'],
      ['iterate', 'start'],
      ['iterate', 'status'],
      ['iterate', 'next', 'itr_1', '--base-url', 'http://m/v1'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/see agent-r (eval|iterate) --help/);
    }
  });

  it('print help texts', async () => {
    expect((await run(['eval', '--help'])).stdout).toContain('--recovery-from RUN');
    expect((await run(['iterate', '--help'])).stdout).toContain('agent-r iterate next ITERATION');
  });
});

describe('agent-r iterate start flags', () => {
  it('build the POST /v1/loops body', async () => {
    const body = await loopRequestFromFlags(
      {
        name: 'l',
        tasks: '0-3',
        iterations: '2',
        'search-iterations': '2',
        width: '2',
        depth: '5',
        alphas: '0.5,0.8',
        'trainer-url': 'http://127.0.0.1:9/hook',
        'trainer-secret': 'secret-secret-0000',
        'eval-tasks': '4,9',
        recovery: true,
      },
      'sim',
    );
    expect(body).toEqual({
      name: 'l',
      policy: 'sim',
      build: { env: 'crafting', world: 'default', tasks: [0, 1, 2, 3], iterations: 2, width: 2, depth: 5 },
      auto: true,
      alphas: [0.5, 0.8],
      iterations: 2,
      trainerUrl: 'http://127.0.0.1:9/hook',
      trainerSecret: 'secret-secret-0000',
      eval: { tasks: [4, 9], recovery: true },
    });
  });

  it('take builds and dataset from --mix FILE, and refuse a file with other fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-r-mix-'));
    const mix = {
      builds: [
        { tasks: [0, 1] },
        { env: 'agentgym', flavor: 'textcraft', envServer: 'http://127.0.0.1:9', tasks: [3] },
      ],
      dataset: { curation: 'clean', generalChatKey: 'general-chat/a.jsonl', eta: 0.2, etaBasis: 'tokens' },
    };
    writeFileSync(join(dir, 'mix.json'), JSON.stringify(mix));
    const body = await loopRequestFromFlags({ 'search-iterations': '2', mix: join(dir, 'mix.json') }, 'sim');
    expect(body).toMatchObject({ build: { env: 'crafting', iterations: 2 }, ...mix });
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...mix, policy: 'x' }));
    await expect(loopRequestFromFlags({ mix: join(dir, 'bad.json') }, 'sim')).rejects.toThrow(
      /"builds" and\/or "dataset" only \(not policy\)/,
    );
    writeFileSync(join(dir, 'eta.json'), JSON.stringify({ dataset: { eta: 2 } }));
    await expect(loopRequestFromFlags({ mix: join(dir, 'eta.json') }, 'sim')).rejects.toThrow(/dataset\.eta/);
  });
});

describe('printing', () => {
  it('formats metrics and lineage readably', () => {
    const metrics = computeEvalMetrics([0, 1], treesOf(chain(0, ['a'], 1), chain(1, ['b', 'b'], 0)));
    const text = formatMetrics(metrics).join('\n');
    expect(text).toContain('success rate     50.0%  (1/2)');
    expect(text).toContain('action loops     50.0% of trajectories');
    const loop: LoopJson = {
      id: 'loop_1',
      name: 'demo',
      status: 'running',
      error: null,
      config: { iterations: 3 },
      trainer: null,
      publicUrl: 'http://127.0.0.1:8787',
      createdAt: 1,
      updatedAt: 2,
      completedAt: null,
      iterations: [
        {
          id: 'itr_1',
          loopId: 'loop_1',
          index: 1,
          status: 'completed',
          alpha: 0.5,
          parentId: null,
          policy: { endpoint: 'sim', baseUrl: null, model: 'sim-policy' },
          runId: 'run_1',
          runIds: ['run_1'],
          datasetId: null,
          run: {
            status: 'completed',
            counts: {
              tasks: 2,
              tasksDone: 2,
              tasksFailed: 0,
              nodes: 40,
              revision: 12,
              good: 3,
              policyCalls: 30,
              judgeCalls: 20,
            },
            firstErrorStep: 2.5,
          },
          evalId: 'eval_1',
          eval: {
            id: 'eval_1',
            status: 'completed',
            phase: 'done',
            tasks: 4,
            scored: 4,
            successRate: 0.75,
            averageReward: 0.8,
            loopShare: 0.1,
            revisionShare: 0,
            firstErrorStep: 3,
            recoverySuccessRate: null,
          },
          resultEndpoint: 'loop_1-m2',
          trainerDelivery: { id: 'dlv_1', status: 'delivered', attempts: 1, lastError: null },
          notes: null,
          error: null,
          createdAt: 1,
          completedAt: 2,
        },
      ],
      final: null,
    };
    const table = formatLineage(loop);
    expect(table).toContain('loop loop_1 "demo": running (1/3 iterations)');
    expect(table).toMatch(/1\s+completed\s+0\.5\s+sim-policy\s+12\/3\s+2\.5\s+75%\s+0\.80\s+10%\s+0%\s+-/);
  });
});
