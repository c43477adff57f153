import type { RetryPolicy } from '../../common/durable-objects';
import { all } from './sql';

/** A unit of work a TaskTree hands to a queue consumer and waits for. */
export interface JobRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: 'root' | 'expand' | 'judge' | 'splice';
  node_id: string;
  attempt: number;
  deadline: number;
  status: 'pending' | 'done' | 'failed';
  reason: string | null;
  /** 1 once the current attempt's queue message went out (an outbox: the alarm sends the rest). */
  sent: number;
  /** When the current attempt was handed out (ms), for "waiting since" in the run view. */
  since: number;
}

export type { RetryPolicy };

export const defaultRetryPolicy: RetryPolicy = { timeoutMs: 120_000, maxAttempts: 4, backoffMs: 1_000 };

/**
 * The jobs table of one Durable Object: every job is pending until it is completed exactly once,
 * re-sent after its deadline, or failed after its last attempt with the reason kept. Rows are
 * mirrored in memory (a tree has a few hundred jobs), so reads cost no query; every change is
 * written through to SQLite.
 */
export class JobTable {
  private readonly rows = new Map<string, JobRow>();

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, node_id TEXT NOT NULL, attempt INTEGER NOT NULL,
      deadline INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT)`);
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (status, deadline)');
    // Tables made before the outbox existed get its columns (their messages all went out).
    const columns = all<{ name: string }>(sql, 'PRAGMA table_info(jobs)').map((c) => c.name);
    if (!columns.includes('sent')) sql.exec('ALTER TABLE jobs ADD COLUMN sent INTEGER NOT NULL DEFAULT 1');
    if (!columns.includes('since')) sql.exec('ALTER TABLE jobs ADD COLUMN since INTEGER NOT NULL DEFAULT 0');
    this.reload();
  }

  /** Re-reads the rows (after a rolled-back transaction left the mirror ahead of storage). */
  reload(): void {
    this.rows.clear();
    for (const row of all<JobRow>(this.sql, 'SELECT * FROM jobs')) this.rows.set(row.id, row);
  }

  get(id: string): JobRow | null {
    const row = this.rows.get(id);
    return row ? { ...row } : null;
  }

  /**
   * Inserts a new pending job, not yet sent; returns false when the id exists already
   * (idempotent dispatch).
   */
  add(id: string, kind: JobRow['kind'], nodeId: string, deadline: number, now: number): boolean {
    if (this.rows.has(id)) return false;
    this.sql.exec(
      "INSERT INTO jobs (id, kind, node_id, attempt, deadline, status, sent, since) VALUES (?, ?, ?, 1, ?, 'pending', 0, ?)",
      id,
      kind,
      nodeId,
      deadline,
      now,
    );
    this.rows.set(id, {
      id,
      kind,
      node_id: nodeId,
      attempt: 1,
      deadline,
      status: 'pending',
      reason: null,
      sent: 0,
      since: now,
    });
    return true;
  }

  /** The next attempt (its message not sent yet); earlier attempts are superseded. */
  retry(id: string, attempt: number, deadline: number, reason: string, now: number): void {
    this.sql.exec(
      'UPDATE jobs SET attempt = ?, deadline = ?, reason = ?, sent = 0, since = ? WHERE id = ?',
      attempt,
      deadline,
      reason,
      now,
      id,
    );
    const row = this.rows.get(id);
    if (row) Object.assign(row, { attempt, deadline, reason, sent: 0, since: now });
  }

  /** The attempt's message went out. */
  markSent(id: string, attempt: number): void {
    this.sql.exec('UPDATE jobs SET sent = 1 WHERE id = ? AND attempt = ?', id, attempt);
    const row = this.rows.get(id);
    if (row && row.attempt === attempt) row.sent = 1;
  }

  /** A consumer still works on the current attempt: its deadline moves (a heartbeat). */
  extend(id: string, deadline: number): void {
    this.sql.exec('UPDATE jobs SET deadline = ? WHERE id = ?', deadline, id);
    const row = this.rows.get(id);
    if (row) row.deadline = deadline;
  }

  /** Pending jobs whose current attempt was never sent (a queue.send that failed). */
  unsent(): JobRow[] {
    return this.pending()
      .filter((row) => row.sent === 0)
      .map((row) => ({ ...row }));
  }

  /** Pending jobs, oldest first (what an unfinished task waits for). */
  open(): JobRow[] {
    return this.pending()
      .sort((a, b) => a.since - b.since)
      .map((row) => ({ ...row }));
  }

  finish(id: string, status: 'done' | 'failed', reason: string | null = null): void {
    this.sql.exec('UPDATE jobs SET status = ?, reason = ? WHERE id = ?', status, reason, id);
    const row = this.rows.get(id);
    if (row) Object.assign(row, { status, reason });
  }

  overdue(now: number): JobRow[] {
    return this.pending()
      .filter((row) => row.deadline <= now)
      .map((row) => ({ ...row }));
  }

  nextDeadline(): number | null {
    let next: number | null = null;
    for (const row of this.pending()) if (next === null || row.deadline < next) next = row.deadline;
    return next;
  }

  counts(): { pending: number; done: number; failed: number } {
    const out = { pending: 0, done: 0, failed: 0 };
    for (const row of this.rows.values()) out[row.status] += 1;
    return out;
  }

  failures(): { id: string; node_id: string; reason: string | null }[] {
    return [...this.rows.values()]
      .filter((row) => row.status === 'failed')
      .map((row) => ({ id: row.id, node_id: row.node_id, reason: row.reason }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private pending(): JobRow[] {
    return [...this.rows.values()].filter((row) => row.status === 'pending');
  }
}
