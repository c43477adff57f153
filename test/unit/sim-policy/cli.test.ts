import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimPolicyArgs } from '../../../cli/sim-policy/cli-args';

const root = path.resolve(import.meta.dirname, '../../..');

describe('sim-policy command line', () => {
  it('maps flags onto options and rejects bad ones', () => {
    expect(
      parseSimPolicyArgs([
        '--port',
        '0',
        '--latency-ms',
        '0',
        '--capacity',
        '4',
        '--fault-429',
        '0.1',
        '--mistakes',
        'repeat,wrong-count',
      ]),
    ).toMatchObject({
      port: 0,
      latencyMs: 0,
      capacity: 4,
      faults: { '429': 0.1 },
      mistakes: ['repeat', 'wrong-count'],
    });
    expect(parseSimPolicyArgs(['--help'])).toBe('help');
    expect(() => parseSimPolicyArgs(['--capacity', '0'])).toThrow();
    expect(() => parseSimPolicyArgs(['--mistakes', 'typo'])).toThrow();
    expect(() => parseSimPolicyArgs(['--bogus'])).toThrow();
  });

  it('prints SIM_POLICY_URL once listening and stops on SIGTERM', async () => {
    const child = spawn(
      path.join(root, 'node_modules/.bin/tsx'),
      ['cli/sim-policy/main.ts', '--port', '0', '--latency-ms', '0'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed; got: ${out}`)), 20_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /^SIM_POLICY_URL=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
      });
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data[0]?.id).toBe('sim-policy');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
