/** What every `agent-r <command>` module exports; cli/main.ts dispatches on `name`. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** Project root (where package.json is); relative paths resolve from the caller's cwd. */
  cwd: string;
}

export interface CliCommand {
  name: string;
  /** One line for `agent-r --help`. */
  summary: string;
  /** The full `--help` text of this command. */
  help: string;
  /** `--help` texts of subcommands (e.g. `iterate start --help`), by subcommand name. */
  subHelp?: Record<string, string>;
  /** Returns the process exit code: 0 ok, 1 failure, 2 bad usage. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad flags or arguments: main prints the message and exits with code 2. */
export class UsageError extends Error {}
