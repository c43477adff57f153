import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (where package.json and wrangler.toml are), wherever the CLI is run from. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Local state (D1/R2/DO persistence, worlds, the local admin token): AGENT_R_HOME or .agent-r/. */
export function agentRHome(): string {
  return process.env.AGENT_R_HOME ? resolve(process.env.AGENT_R_HOME) : join(projectRoot, '.agent-r');
}

export function localBin(name: string): string {
  const path = join(projectRoot, 'node_modules', '.bin', name);
  if (!existsSync(path)) throw new Error(`${name} is not installed: run npm install in ${projectRoot}`);
  return path;
}
