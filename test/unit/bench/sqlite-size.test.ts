import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDatabaseBytes } from '../../../cli/bench/sqlite-size';

// Real SQLite files from Debian's sqlite3 shell (apt-get install sqlite3): a database whose
// latest commits are still in its write-ahead log, copied while the writer holds it open (as the
// bench finds a local D1 or Durable Object database).
const hasSqlite = spawnSync('sqlite3', ['-version']).status === 0;
if (!hasSqlite) console.warn('sqlite3 shell not found (apt-get install sqlite3): sqlite-size tests skipped');

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs SQL in a sqlite3 shell that stays open; resolves once it printed `marker`. */
function shellUntil(shell: ChildProcessWithoutNullStreams, sql: string, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sqlite3 did not print ${marker}: ${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(marker)) {
        clearTimeout(timer);
        shell.stdout.off('data', onData);
        resolve();
      }
    };
    shell.stdout.on('data', onData);
    shell.stdin.write(`${sql}\nSELECT '${marker}';\n`);
  });
}

const pragma = (path: string, name: string) =>
  Number(
    execFileSync('sqlite3', [path, `PRAGMA ${name}`])
      .toString()
      .trim(),
  );

describe.skipIf(!hasSqlite)('sqliteDatabaseBytes', () => {
  it('counts the pages of the last commit in the WAL, not the log file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sqlite-size-'));
    dirs.push(dir);
    const db = join(dir, 'live.sqlite');
    const shell = spawn('sqlite3', [db]);
    try {
      await shellUntil(
        shell,
        `PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
         CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
           INSERT INTO t SELECT i, printf('%.300c', 'x') FROM n;
         DELETE FROM t WHERE id > 1000;`,
        'written',
      );
      const copy = join(dir, 'copy.sqlite');
      await copyFile(db, copy);
      await copyFile(`${db}-wal`, `${copy}-wal`);
      const walBytes = (await stat(`${copy}-wal`)).size;
      const fileBytes = (await stat(copy)).size;
      const measured = await sqliteDatabaseBytes(copy);
      // The writer's view, from a second copy that sqlite3 opens (it replays the WAL).
      const check = join(dir, 'check.sqlite');
      await copyFile(copy, check);
      await copyFile(`${copy}-wal`, `${check}-wal`);
      const expected = pragma(check, 'page_count') * pragma(check, 'page_size');
      expect(measured).toBe(expected);
      expect(walBytes).toBeGreaterThan(expected); // the log is larger than the data it holds
      expect(fileBytes).toBeLessThan(expected); // the main file has not seen the commits yet

      // A torn last frame (bytes changed after its commit) is not counted: the size before it.
      await shellUntil(
        shell,
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
           INSERT INTO t SELECT i + 10000, printf('%.300c', 'z') FROM n;`,
        'more',
      );
      const torn = join(dir, 'torn.sqlite');
      await copyFile(db, torn);
      await copyFile(`${db}-wal`, `${torn}-wal`);
      const full = await sqliteDatabaseBytes(torn);
      expect(full).toBeGreaterThan(measured);
      const wal = await open(`${torn}-wal`, 'r+');
      const size = (await wal.stat()).size;
      await wal.write(Buffer.from([0xff, 0xee]), 0, 2, size - 100);
      await wal.close();
      expect(await sqliteDatabaseBytes(torn)).toBe(measured);
    } finally {
      shell.kill();
    }
  });

  it('reads a checkpointed database (no WAL) from its header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sqlite-size-'));
    dirs.push(dir);
    const db = join(dir, 'plain.sqlite');
    execFileSync('sqlite3', [db, "CREATE TABLE t (x); INSERT INTO t VALUES (printf('%.9000c', 'y'));"]);
    expect(await sqliteDatabaseBytes(db)).toBe((await stat(db)).size);
    expect(await sqliteDatabaseBytes(db)).toBe(pragma(db, 'page_count') * pragma(db, 'page_size'));
  });
});
