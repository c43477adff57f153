import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../cli/command';
import { checkOutputDir, checkOutputFile, writeDirAtomically } from '../../../cli/output-guard';
import { runCli } from '../../helpers/cli-process';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'agent-r-out-guard-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function userFolder(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'thesis.tex'), 'three years of work\n');
  return dir;
}

describe('agent-r never destroys a folder or file it did not write (real CLI process)', () => {
  it('build --out on a folder holding a user file: exit 2, the file untouched, nothing started', async () => {
    const dir = await userFolder('data');
    const result = await runCli(['build', '--out', dir, '--tasks', '0-1']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('thesis.tex');
    expect(result.stderr).toContain('--overwrite');
    expect(result.stderr).not.toContain('starting the local stack');
    expect(await readFile(join(dir, 'thesis.tex'), 'utf8')).toBe('three years of work\n');
    expect(await readdir(dir)).toEqual(['thesis.tex']);
    expect((await readdir(root)).filter((n) => n.includes('agent-r-'))).toEqual([]);
  });

  it('build --out . from a checkout-like folder is refused even with --overwrite', async () => {
    const dir = await userFolder('checkout');
    const result = await runCli(['build', '--out', '.', '--overwrite'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/current folder/);
    expect(await readdir(dir)).toEqual(['thesis.tex']);
  });

  it('export --out onto an existing user file: exit 2 before any stack, the file untouched', async () => {
    const dir = await userFolder('exports');
    const file = join(dir, 'thesis.tex');
    const result = await runCli(['export', 'run_x', '--format', 'openai', '--out', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not an earlier agent-r output');
    expect(result.stderr).not.toContain('starting the local stack');
    expect(await readFile(file, 'utf8')).toBe('three years of work\n');
  });

  it('eval --out onto an existing user file: exit 2, untouched', async () => {
    const dir = await userFolder('evals');
    const result = await runCli(['eval', '--tasks', '0-1', '--out', join(dir, 'thesis.tex')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not an earlier agent-r output');
    expect(await readFile(join(dir, 'thesis.tex'), 'utf8')).toBe('three years of work\n');
  });
});

describe('output-guard', () => {
  it('accepts a missing, an empty and an earlier agent-r output folder; --overwrite a user folder', async () => {
    await checkOutputDir(join(root, 'missing'), false);
    await mkdir(join(root, 'empty'));
    await checkOutputDir(join(root, 'empty'), false);
    const earlier = join(root, 'earlier');
    await mkdir(earlier);
    await writeFile(join(earlier, 'manifest.json'), '{}');
    await writeFile(join(earlier, 'revision.native.jsonl'), '');
    await checkOutputDir(earlier, false);
    const user = await userFolder('user');
    await expect(checkOutputDir(user, false)).rejects.toBeInstanceOf(UsageError);
    await checkOutputDir(user, true);
    await expect(checkOutputDir(join(user, 'thesis.tex'), true)).rejects.toThrow(/not a folder/);
  });

  it('a file output is ours when FILE.manifest.json is next to it', async () => {
    const dir = await userFolder('files');
    const file = join(dir, 'data.jsonl');
    await writeFile(file, '{}\n');
    await expect(checkOutputFile(file, false)).rejects.toThrow(/--overwrite/);
    await writeFile(`${file}.manifest.json`, '{}');
    await checkOutputFile(file, false);
    await checkOutputFile(join(dir, 'thesis.tex'), true);
  });

  it('a write that fails midway leaves the previous output intact and no temporary folder', async () => {
    const target = join(root, 'previous');
    await mkdir(target);
    await writeFile(join(target, 'manifest.json'), '{"run_id":"old"}');
    await expect(
      writeDirAtomically(target, async (dir) => {
        await writeFile(join(dir, 'manifest.json'), '{"run_id":"new"}');
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    expect(await readFile(join(target, 'manifest.json'), 'utf8')).toBe('{"run_id":"old"}');
    expect((await readdir(root)).filter((n) => n.startsWith('.previous'))).toEqual([]);

    await writeDirAtomically(target, async (dir) => {
      await writeFile(join(dir, 'manifest.json'), '{"run_id":"new"}');
    });
    expect(await readdir(target)).toEqual(['manifest.json']);
    expect(await readFile(join(target, 'manifest.json'), 'utf8')).toBe('{"run_id":"new"}');
    expect((await readdir(root)).filter((n) => n.startsWith('.previous'))).toEqual([]);
  });
});
