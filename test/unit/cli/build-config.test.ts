import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpecSchema } from '../../../shared/contracts/run-spec';
import { planFromConfig, printConfig } from '../../../cli/run-config';
import { specFields } from '../../../cli/spec-fields';
import { main } from '../../../cli/main';
import { projectRoot, runCli } from '../../helpers/cli-process';

async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await main(args, { stdout, stderr, stdin: new PassThrough(), cwd: projectRoot });
  return { code, stderr: err };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-r-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CONFIG = `# a whole run spec plus endpoint settings
env: crafting
world: default
tasks: 0-3
iterations: 2
width: 3
maxTokens: 2048
contextTokens: 32768
revisionSentences:
  - "Wait, that was wrong."
policy:
  baseUrl: http://127.0.0.1:8000/v1
  model: Qwen/Qwen2.5-7B-Instruct
  maxConcurrency: 64
  supportsN: false
  timeoutMs: 180000
judge:
  baseUrl: http://127.0.0.1:8001/v1
  model: judge-70b
maxPairsPerTask: 3
`;

describe('agent-r build --config / --print-config (real CLI process)', () => {
  it('prints the effective spec: the file, flags on top, defaults filled; it reads back the same', async () => {
    const file = join(dir, 'run.yaml');
    await writeFile(file, CONFIG);
    const first = await runCli(['build', '--config', file, '--width', '4', '--c', '0.5', '--print-config']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const printed = parseYaml(first.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      tasks: '0-3',
      iterations: 2,
      width: 4, // the flag wins over the file
      c: 0.5,
      maxTokens: 2048,
      contextTokens: 32768,
      maxPairsPerTask: 3,
      depth: 20, // a default, shown
      revisionSentences: ['Wait, that was wrong.'],
      policy: {
        baseUrl: 'http://127.0.0.1:8000/v1',
        model: 'Qwen/Qwen2.5-7B-Instruct',
        maxConcurrency: 64,
        supportsN: false,
        timeoutMs: 180000,
      },
      judge: { baseUrl: 'http://127.0.0.1:8001/v1', model: 'judge-70b' },
    });
    const again = join(dir, 'printed.yaml');
    await writeFile(again, first.stdout);
    const second = await runCli(['build', '--config', again, '--print-config']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  it('refuses mistakes before anything starts: exit 2, a clear message, no stack, no output', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'tasks: 0-3\nwidht: 3\n');
    const cases: [string[], RegExp][] = [
      [['--config', bad], /unknown key "widht" \(did you mean "width"\?\)/],
      [['--widht', '3'], /unknown option --widht \(did you mean --width\?\)/],
      [['--width', '2.5'], /--width must be a whole number, got 2\.5/],
      [['--depth', '-1'], /--depth must be at least 1, got -1/],
      [['--flavor', 'webshop'], /--flavor is for --env agentgym/],
      [['--world', 'no-such-world'], /unknown world "no-such-world"/],
      [['--tasks', '0-300'], /has 216 goals .*--repeat-goals/],
      [['--policy', 'http://127.0.0.1:9/v1'], /--policy URL needs --model/],
      [['--judge', 'http://127.0.0.1:9/v1'], /--judge URL needs --judge-model/],
      [['--policy', 'sim', '--max-concurrency', '64'], /applies to an endpoint given by URL/],
    ];
    const out = join(dir, 'never');
    // One as a real process (exit code and stderr as a shell sees them), the rest through the
    // same entry point in-process (a process start costs seconds on a loaded machine).
    const real = await runCli(['build', ...cases[0]![0], '--out', out]);
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(cases[0]![1]);
    for (const [args, message] of cases) {
      const result = await runMain(['build', ...args, '--out', out]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr).not.toContain('starting the local stack');
    }
    expect((await readdir(dir)).includes('never')).toBe(false);
  });

  it('iterate start --help shows the start options', async () => {
    const result = await runCli(['iterate', 'start', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: agent-r iterate start');
    expect(result.stdout).toContain('--trainer-url URL');
    expect(result.stdout).not.toContain('iterate status LOOP');
  });
});

describe('run-config', () => {
  it('every run-spec field but policy/judge/tasks has a flag (new fields get one from the schema)', () => {
    const flagged = new Set(specFields.map((f) => f.key));
    for (const key of Object.keys(runSpecSchema.shape)) {
      if (['policy', 'judge', 'tasks'].includes(key)) continue;
      expect(flagged.has(key), key).toBe(true);
    }
  });

  it('--repeat-goals, JSON configs and a registered policy name', async () => {
    const plan = await planFromConfig({ tasks: [0, 1], policy: 'my-vllm', repeatGoals: true }, 'c.json', {
      'no-judge-during-search': true,
      'start-from': '{"0": ["Thought: x\\nAction: inventory"]}',
    });
    expect(plan.policy).toEqual({ name: 'my-vllm' });
    expect(plan.repeatGoals).toBe(true);
    expect(plan.spec.judgeDuringSearch).toBe(false);
    expect(plan.spec.startFrom).toEqual({ '0': ['Thought: x\nAction: inventory'] });
    expect(printConfig(plan)).toContain('policy: my-vllm');
  });

  it('an API key from apiKeyEnv reaches the endpoint and is never printed', async () => {
    process.env.AGENT_R_TEST_KEY = 'sk-secret-123';
    try {
      const plan = await planFromConfig(
        {
          tasks: '0',
          policy: { baseUrl: 'http://127.0.0.1:8000/v1', model: 'm', apiKeyEnv: 'AGENT_R_TEST_KEY' },
        },
        'c.yaml',
        {},
      );
      expect(plan.policy).toMatchObject({
        endpoint: { apiKey: 'sk-secret-123' },
        apiKeyEnv: 'AGENT_R_TEST_KEY',
      });
      expect(printConfig(plan)).not.toContain('sk-secret-123');
      expect(printConfig(plan)).toContain('apiKeyEnv: AGENT_R_TEST_KEY');
    } finally {
      delete process.env.AGENT_R_TEST_KEY;
    }
  });
});
