import { type CliCommand, type CliIo, UsageError } from './command';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { iterateCommand } from './commands/iterate';
import { playCommand } from './commands/play';
import { serveCommand } from './commands/serve';
import { tokenCommand } from './commands/token';
import { worldCommand } from './commands/world';
import { projectRoot } from './project';

const commands: CliCommand[] = [
  serveCommand,
  buildCommand,
  exportCommand,
  evalCommand,
  iterateCommand,
  playCommand,
  worldCommand,
  tokenCommand,
  benchCommand,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `agent-r: Agent-R revision-trajectory builds on Cloudflare Workers

Usage: agent-r <command> [options]    (agent-r <command> --help for details)

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: projectRoot },
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`agent-r: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`agent-r ${name}: ${message}\n(see agent-r ${name} --help)\n`);
      return 2;
    }
    io.stderr.write(`agent-r ${name}: ${message}\n`);
    return 1;
  }
}
