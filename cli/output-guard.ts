import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, parse, relative, resolve } from 'node:path';
import { UsageError } from './command';

// Outputs never destroy anything: a command writes into a temporary sibling of its target and
// renames it into place at the end, and it replaces an existing target only when that target is
// an earlier agent-r output (its manifest is there) or the user said --overwrite. An interrupted
// command leaves the previous output as it was (plus, at worst, a hidden `.NAME.agent-r-*` sibling).

/** The file that marks a folder as an agent-r output (build and dataset folders both write it). */
export const OUTPUT_MARKER = 'manifest.json';

const STAGE_TAG = '.agent-r-tmp-';
const OLD_TAG = '.agent-r-old-';

function sibling(target: string, tag: string): string {
  return join(dirname(target), `.${basename(target)}${tag}${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function kind(path: string): Promise<'missing' | 'dir' | 'file' | 'other'> {
  try {
    const stat = await lstat(path);
    return stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}

/** Folders no --overwrite may replace: the filesystem root, the home folder, the cwd or one holding it. */
function refuseAlways(target: string, flag: string): void {
  const cwd = process.cwd();
  const fromTarget = relative(target, cwd);
  const holdsCwd = fromTarget === '' || (!fromTarget.startsWith('..') && !fromTarget.startsWith('/'));
  if (target === parse(target).root || target === resolve(homedir()) || holdsCwd) {
    throw new UsageError(
      `${flag} ${target} is the current folder, one holding it, the home folder or the root: choose a folder of its own`,
    );
  }
}

/**
 * Checks that a directory output may be written: missing, empty, an earlier agent-r output
 * (its manifest.json present) or `overwrite`. Throws a UsageError (exit code 2) otherwise,
 * naming a file that would be lost.
 */
export async function checkOutputDir(target: string, overwrite: boolean, flag = '--out'): Promise<void> {
  const what = await kind(target);
  if (what === 'missing') return;
  if (what !== 'dir')
    throw new UsageError(`${flag} ${target} exists and is not a folder; choose a folder path`);
  refuseAlways(target, flag);
  const entries = await readdir(target);
  if (entries.length === 0 || overwrite) return;
  if (entries.includes(OUTPUT_MARKER)) return;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
  throw new UsageError(
    `${flag} ${target} holds files that are not an earlier agent-r output (${shown}; no ${OUTPUT_MARKER}). ` +
      'Nothing was written. Choose another folder, or pass --overwrite to replace it.',
  );
}

/**
 * Checks that a file output may be written: missing, an earlier agent-r output (its
 * `FILE.manifest.json` present, or `isOurs` says so) or `overwrite`.
 */
export async function checkOutputFile(
  target: string,
  overwrite: boolean,
  options: { flag?: string; isOurs?: (text: string) => boolean } = {},
): Promise<void> {
  const flag = options.flag ?? '--out';
  const what = await kind(target);
  if (what === 'missing') return;
  if (what !== 'file') throw new UsageError(`${flag} ${target} exists and is not a file; choose a file path`);
  if (overwrite) return;
  if ((await kind(`${target}.manifest.json`)) === 'file') return;
  if (options.isOurs) {
    const head = await readFile(target, 'utf8').catch(() => '');
    if (options.isOurs(head)) return;
  }
  throw new UsageError(
    `${flag} ${target} already exists and is not an earlier agent-r output (no ${basename(target)}.manifest.json). ` +
      'Nothing was written. Choose another file, or pass --overwrite to replace it.',
  );
}

export interface StagedDir {
  /** Where to write: a temporary sibling of the target. */
  path: string;
  /** Moves the staged folder into place (the previous output is removed only after that). */
  commit(): Promise<void>;
  /** Removes the staged folder; the target is untouched. Safe after commit. */
  discard(): Promise<void>;
}

/** A temporary sibling folder of `target` to write into; `commit` renames it into place. */
export async function stageDir(target: string): Promise<StagedDir> {
  await mkdir(dirname(target), { recursive: true });
  const path = sibling(target, STAGE_TAG);
  await mkdir(path);
  let done = false;
  return {
    path,
    async commit() {
      const previous = (await kind(target)) === 'missing' ? null : sibling(target, OLD_TAG);
      if (previous) await rename(target, previous);
      try {
        await rename(path, target);
      } catch (error) {
        if (previous) await rename(previous, target);
        throw error;
      }
      done = true;
      if (previous) await rm(previous, { recursive: true, force: true });
    },
    async discard() {
      if (!done) await rm(path, { recursive: true, force: true });
    },
  };
}

/** A temporary sibling file name of `target`; `commit` renames it into place, `discard` removes it. */
export async function stageFile(target: string): Promise<StagedDir> {
  await mkdir(dirname(target), { recursive: true });
  const path = sibling(target, STAGE_TAG);
  return {
    path,
    commit: () => rename(path, target),
    discard: () => rm(path, { force: true }),
  };
}

/** Runs `write` against a staged folder and renames it onto `target` only when it succeeds. */
export async function writeDirAtomically<T>(target: string, write: (dir: string) => Promise<T>): Promise<T> {
  const staged = await stageDir(target);
  try {
    const result = await write(staged.path);
    await staged.commit();
    return result;
  } finally {
    await staged.discard();
  }
}

/** Writes a small file through a temporary sibling, so a reader never sees half of it. */
export async function writeFileAtomically(target: string, text: string): Promise<void> {
  const staged = await stageFile(target);
  try {
    await writeFile(staged.path, text);
    await staged.commit();
  } finally {
    await staged.discard();
  }
}
