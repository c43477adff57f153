import { PassThrough } from 'node:stream';
import type { CliCommand } from '../../../cli/command';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command in-process with fake streams; `stdin` is the whole input (then EOF). */
export async function runCommand(
  command: CliCommand,
  args: string[],
  options: { stdin?: string; cwd: string },
): Promise<CliRun> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  stdin.end(options.stdin ?? '');
  const code = await command.run(args, { stdin, stdout, stderr, cwd: options.cwd });
  return { code, stdout: out, stderr: err };
}
