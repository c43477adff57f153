import { open, readFile } from 'node:fs/promises';

/**
 * The size of a SQLite database as SQLite itself counts it (pages x page size), read from the file
 * header and, where the write-ahead log holds newer commits, from the WAL's last valid commit
 * frame. A local D1 or Durable Object database keeps a WAL of up to ~4 MB beside a file of a few
 * hundred KB; adding file sizes counts that log as data (Cloudflare bills the database, not a log).
 * Formats: https://www.sqlite.org/fileformat2.html (1.3 "The Database Header", 4 "The WAL File
 * Format"): header page size at offset 16 (1 = 65,536), page count at 28 (valid when the change
 * counter at 24 equals offset 92); WAL magic 0x377f0682/3, 32-byte header with the salts at 16
 * and 20, each frame a 24-byte header (page number, database size in pages for a commit frame,
 * salts, cumulative checksum) and one page.
 */
export async function sqliteDatabaseBytes(path: string): Promise<number> {
  const file = await open(path, 'r');
  let pageSize: number;
  let pages: number;
  try {
    const header = Buffer.alloc(100);
    const { bytesRead } = await file.read(header, 0, 100, 0);
    const size = (await file.stat()).size;
    if (bytesRead < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\u0000') return size;
    const raw = header.readUInt16BE(16);
    pageSize = raw === 1 ? 65_536 : raw;
    const valid = header.readUInt32BE(24) === header.readUInt32BE(92);
    pages = valid && header.readUInt32BE(28) > 0 ? header.readUInt32BE(28) : Math.ceil(size / pageSize);
  } finally {
    await file.close();
  }
  const walPages = await lastCommitPages(`${path}-wal`);
  return (walPages ?? pages) * pageSize;
}

/** The database size in pages after the WAL's last valid commit; null when there is none. */
async function lastCommitPages(walPath: string): Promise<number | null> {
  const wal = await readFile(walPath).catch(() => null);
  if (!wal || wal.length < 32) return null;
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return null;
  const bigEndian = magic === 0x377f0683;
  const pageSize = wal.readUInt32BE(8);
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let sum = checksum(wal, 0, 24, bigEndian, [0, 0]);
  if (sum[0] !== wal.readUInt32BE(24) || sum[1] !== wal.readUInt32BE(28)) return null;
  let pages: number | null = null;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    sum = checksum(wal, at, 8, bigEndian, sum);
    sum = checksum(wal, at + 24, pageSize, bigEndian, sum);
    if (sum[0] !== wal.readUInt32BE(at + 16) || sum[1] !== wal.readUInt32BE(at + 20)) break;
    const commitPages = wal.readUInt32BE(at + 4);
    if (commitPages > 0) pages = commitPages;
  }
  return pages;
}

/** SQLite's WAL checksum over `length` bytes (a multiple of 8) from `at`, continuing `seed`. */
function checksum(buf: Buffer, at: number, length: number, bigEndian: boolean, seed: [number, number]) {
  let [s0, s1] = seed;
  for (let i = at; i < at + length; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1] as [number, number];
}
