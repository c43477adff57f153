import { type CliCommand, type CliIo, UsageError } from './command';
import { benchCommand } from './commands/bench';
import { buildCommand } from './commands/build';
import { convertCommand } from './commands/convert';
import { datasetCommand } from './commands/dataset';
import { evalCommand } from './commands/eval';
import { exportCommand } from './commands/export';
import { iterateCommand } from './commands/iterate';
import { playCommand } from './commands/play';
import { serveCommand } from './commands/serve';
import { tokenCommand } from './commands/token';
import { worldCommand } from './commands/world';
import { closest, unknownFlagMessage } from './flag-errors';
import { interruptExitCode } from './interrupt';
import { projectRoot } from './project';

const commands: CliCommand[] = [
  serveCommand,
  buildCommand,
  exportCommand,
  convertCommand,
  datasetCommand,
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

/**
 * `--depth -1` would read "-1" as a flag; a negative number after a long option is its value, so
 * it is passed as `--depth=-1` and gets the option's own range message.
 */
function joinNegativeValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (/^--[a-z][a-z0-9-]*$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
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
    const suggestion = closest(
      name,
      commands.map((c) => c.name),
    );
    const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
    io.stderr.write(`agent-r: unknown command "${name}"${hint}\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const sub = rest[0] !== undefined ? command.subHelp?.[rest[0]] : undefined;
    io.stdout.write(`${sub ?? command.help}\n`);
    return 0;
  }
  try {
    const code = await command.run(joinNegativeValues(rest), io);
    return interruptExitCode() ?? code;
  } catch (error) {
    // Interrupted: the work failed because its stack was stopped; the signal is the outcome.
    const interrupted = interruptExitCode();
    if (interrupted !== null) return interrupted;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      const shown = unknownFlagMessage(message, command.help) ?? message;
      io.stderr.write(`agent-r ${name}: ${shown}\n(see agent-r ${name} --help)\n`);
      return 2;
    }
    io.stderr.write(`agent-r ${name}: ${message}\n`);
    return 1;
  }
}
