import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// The trainer companion's Python environment: a venv with trainers/trl/requirements.txt, created
// once and reused while the requirements file is unchanged (its SHA-256 is stamped in the venv).
// Wheels come from local directories when there are any (AGENT_R_WHEELS, a ':'-separated list,
// else /opt/wheels and /opt/pypi/files where they exist; pip runs with --no-index then), else
// from pip's configured index.

export const trainerDir = resolve(import.meta.dirname);
export const projectRoot = resolve(trainerDir, '../..');
export const requirementsFile = join(trainerDir, 'requirements.txt');
const STAMP = 'agent-r-requirements.sha256';

export const venvDir = (): string =>
  resolve(process.env.AGENT_R_TRAINER_VENV ?? join(projectRoot, '.agent-r', 'trainer-venv'));
export const venvPython = (dir = venvDir()): string => join(dir, 'bin', 'python');

/** Local wheel directories to install from (none: pip's index). */
export function wheelDirs(): string[] {
  const configured = process.env.AGENT_R_WHEELS;
  const dirs = configured ? configured.split(':').filter(Boolean) : ['/opt/wheels', '/opt/pypi/files'];
  return dirs.filter((d) => existsSync(d));
}

const requirementsHash = () => createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');

/** True when the venv exists and was made from the current requirements. */
export function venvReady(dir = venvDir()): boolean {
  const stamp = join(dir, STAMP);
  return (
    existsSync(venvPython(dir)) &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8').trim() === requirementsHash()
  );
}

function run(command: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    log(`$ ${command} ${args.join(' ')}`);
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} exited with ${code}:\n${tail}`)),
    );
  });
}

/** Creates (or reuses) the venv; returns its python. Progress goes to `log`, never to stdout. */
export async function ensureVenv(log: (line: string) => void = () => {}): Promise<string> {
  const dir = venvDir();
  if (venvReady(dir)) return venvPython(dir);
  rmSync(dir, { recursive: true, force: true });
  const python = process.env.AGENT_R_PYTHON ?? 'python3';
  const started = Date.now();
  log(`creating the trainer's venv in ${dir} (a minute or two)`);
  await run(python, ['-m', 'venv', dir], log);
  const wheels = wheelDirs();
  const source = wheels.length > 0 ? ['--no-index', ...wheels.flatMap((d) => ['-f', d])] : [];
  await run(
    venvPython(dir),
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...source, '-r', requirementsFile],
    log,
  );
  writeFileSync(join(dir, STAMP), `${requirementsHash()}\n`);
  log(`trainer venv ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return venvPython(dir);
}
