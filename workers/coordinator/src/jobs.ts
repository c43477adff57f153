import { all, one } from './sql';

/** A unit of work a TaskTree hands to a queue consumer and waits for. */
export interface JobRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: 'root' | 'expand' | 'judge' | 'splice';
  node_id: string;
  attempt: number;
  deadline: number;
  status: 'pending' | 'done' | 'failed';
  reason: string | null;
}

export interface RetryPolicy {
  /** How long a consumer has before the job is considered lost and re-sent. */
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { timeoutMs: 120_000, maxAttempts: 4, backoffMs: 1_000 };

/**
 * The jobs table of one Durable Object: every job is pending until it is completed exactly once,
 * re-sent after its deadline, or failed after its last attempt with the reason kept.
 */
export class JobTable {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, node_id TEXT NOT NULL, attempt INTEGER NOT NULL,
      deadline INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT)`);
    sql.exec('CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (status, deadline)');
  }

  get(id: string): JobRow | null {
    return one<JobRow>(this.sql, 'SELECT * FROM jobs WHERE id = ?', id);
  }

  /** Inserts a new pending job; returns false when the id exists already (idempotent dispatch). */
  add(id: string, kind: JobRow['kind'], nodeId: string, deadline: number): boolean {
    if (this.get(id)) return false;
    this.sql.exec(
      "INSERT INTO jobs (id, kind, node_id, attempt, deadline, status) VALUES (?, ?, ?, 1, ?, 'pending')",
      id,
      kind,
      nodeId,
      deadline,
    );
    return true;
  }

  retry(id: string, attempt: number, deadline: number, reason: string): void {
    this.sql.exec(
      'UPDATE jobs SET attempt = ?, deadline = ?, reason = ? WHERE id = ?',
      attempt,
      deadline,
      reason,
      id,
    );
  }

  finish(id: string, status: 'done' | 'failed', reason: string | null = null): void {
    this.sql.exec('UPDATE jobs SET status = ?, reason = ? WHERE id = ?', status, reason, id);
  }

  overdue(now: number): JobRow[] {
    return all<JobRow>(this.sql, "SELECT * FROM jobs WHERE status = 'pending' AND deadline <= ?", now);
  }

  nextDeadline(): number | null {
    const row = one<{ d: number | null }>(
      this.sql,
      "SELECT MIN(deadline) AS d FROM jobs WHERE status = 'pending'",
    );
    return row?.d ?? null;
  }

  counts(): { pending: number; done: number; failed: number } {
    const rows = all<{ status: string; n: number }>(
      this.sql,
      'SELECT status, COUNT(*) AS n FROM jobs GROUP BY status',
    );
    const out = { pending: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.status as keyof typeof out] = r.n;
    return out;
  }

  failures(): { id: string; node_id: string; reason: string | null }[] {
    return all(this.sql, "SELECT id, node_id, reason FROM jobs WHERE status = 'failed' ORDER BY id");
  }
}
