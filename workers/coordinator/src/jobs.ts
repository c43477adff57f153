import type { RetryPolicy } from '../../common/durable-objects';
import { all, MAX_BOUND_PARAMS, one } from './sql';

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
  /**
   * 1 once a consumer took the current attempt (getJob or a heartbeat). Only a taken attempt that
   * went silent uses up an attempt; one still queued is re-sent for free (see resend).
   */
  picked: number;
  /** Free re-sends of the current attempt so far (a message never picked up: backlog or lost). */
  copies: number;
}

export type { RetryPolicy };

/** Jobs marked sent per statement (two bound parameters each). */
const MARK_SENT_CHUNK = MAX_BOUND_PARAMS / 2;

/** Re-sends of a never-picked-up attempt back off up to this many deadlines apart. */
const MAX_RESEND_FACTOR = 8;

/**
 * How long re-send number `copies` (1, 2, ...) of a never-picked-up attempt is held back: the
 * first goes out at once (a message lost with a restarted local stack), later ones back off
 * (0, T, 3T, 7T, then 7T each: a deadline at T, 2T, 4T, 8T, 16T, 24T...), so a queue backlog of
 * length B adds about log2(B / T) messages per job, not B / T, and never fails the job.
 */
export function resendDelayMs(timeoutMs: number, copies: number): number {
  return timeoutMs * (Math.min(2 ** (copies - 1), MAX_RESEND_FACTOR) - 1);
}

export const defaultRetryPolicy: RetryPolicy = { timeoutMs: 120_000, maxAttempts: 4, backoffMs: 1_000 };

/**
 * The jobs table of one Durable Object: every job is pending until it is completed exactly once,
 * re-sent after its deadline, or failed after its last attempt with the reason kept. Only the
 * pending rows are mirrored in memory (what every event reads: the outbox, deadlines), with the
 * counts by status; finished rows stay in SQLite and are read by id when asked for, so a wake
 * and an event cost what is open, not what the task ever did. Every change is written through.
 */
export class JobTable {
  /** The pending rows. */
  private readonly rows = new Map<string, JobRow>();
  /** Each pending row's deadline as SQLite holds it (a heartbeat moves the mirror's first). */
  private readonly stored = new Map<string, number>();
  private finished = { done: 0, failed: 0 };

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS jobs (
      id TEXT PRIMARY KEY, kind TEXT NOT NULL, node_id TEXT NOT NULL, attempt INTEGER NOT NULL,
      deadline INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT)`);
    // No index on status: every status or deadline change wrote its entry too (2 rows per update
    // instead of 1, measured in workerd); the pending rows are read once per wake, by a scan.
    sql.exec('DROP INDEX IF EXISTS jobs_pending');
    // Tables made before the outbox existed get its columns (their messages all went out).
    const columns = all<{ name: string }>(sql, 'PRAGMA table_info(jobs)').map((c) => c.name);
    if (!columns.includes('sent')) sql.exec('ALTER TABLE jobs ADD COLUMN sent INTEGER NOT NULL DEFAULT 1');
    if (!columns.includes('since')) sql.exec('ALTER TABLE jobs ADD COLUMN since INTEGER NOT NULL DEFAULT 0');
    // Rows from before pickups were recorded count as queued: a missed deadline re-sends them for free.
    if (!columns.includes('picked'))
      sql.exec('ALTER TABLE jobs ADD COLUMN picked INTEGER NOT NULL DEFAULT 0');
    if (!columns.includes('copies'))
      sql.exec('ALTER TABLE jobs ADD COLUMN copies INTEGER NOT NULL DEFAULT 0');
    this.reload();
  }

  /** Re-reads the rows (after a rolled-back transaction left the mirror ahead of storage). */
  reload(): void {
    this.rows.clear();
    this.stored.clear();
    for (const row of all<JobRow>(this.sql, "SELECT * FROM jobs WHERE status = 'pending'")) {
      this.rows.set(row.id, row);
      this.stored.set(row.id, row.deadline);
    }
    this.finished = { done: 0, failed: 0 };
    for (const { status, n } of all<{ status: string; n: number }>(
      this.sql,
      "SELECT status, COUNT(*) AS n FROM jobs WHERE status != 'pending' GROUP BY status",
    )) {
      if (status === 'done' || status === 'failed') this.finished[status] = n;
    }
  }

  get(id: string): JobRow | null {
    const row = this.rows.get(id) ?? one<JobRow>(this.sql, 'SELECT * FROM jobs WHERE id = ?', id);
    return row ? { ...row } : null;
  }

  /**
   * Inserts a new pending job, not yet sent; returns false when the id exists already
   * (idempotent dispatch).
   */
  add(id: string, kind: JobRow['kind'], nodeId: string, deadline: number, now: number): boolean {
    if (this.rows.has(id)) return false;
    const insert = this.sql.exec(
      "INSERT OR IGNORE INTO jobs (id, kind, node_id, attempt, deadline, status, sent, since, picked, copies) VALUES (?, ?, ?, 1, ?, 'pending', 0, ?, 0, 0)",
      id,
      kind,
      nodeId,
      deadline,
      now,
    );
    // A finished job with this id exists already (it is not mirrored): nothing new.
    if (insert.rowsWritten === 0) return false;
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
      picked: 0,
      copies: 0,
    });
    this.stored.set(id, deadline);
    return true;
  }

  /** The next attempt (its message not sent yet); earlier attempts are superseded. */
  retry(id: string, attempt: number, deadline: number, reason: string, now: number): void {
    this.sql.exec(
      'UPDATE jobs SET attempt = ?, deadline = ?, reason = ?, sent = 0, since = ?, picked = 0, copies = 0 WHERE id = ?',
      attempt,
      deadline,
      reason,
      now,
      id,
    );
    const row = this.rows.get(id);
    if (row) Object.assign(row, { attempt, deadline, reason, sent: 0, since: now, picked: 0, copies: 0 });
    if (row) this.stored.set(id, deadline);
  }

  /**
   * A consumer took the current attempt (its work clock is started by `extend`). False when the
   * attempt is not the current one or another copy of its message was taken already.
   */
  take(id: string, attempt: number): boolean {
    const row = this.rows.get(id);
    if (!row || row.attempt !== attempt || row.picked) return false;
    this.sql.exec('UPDATE jobs SET picked = 1 WHERE id = ? AND attempt = ?', id, attempt);
    row.picked = 1;
    return true;
  }

  /**
   * The current attempt was never picked up by its deadline (its message waits in a backlogged
   * queue, or was lost): one more copy of the same attempt goes out (the outbox holds it back by
   * `deadline - timeout - now`), using up no attempt; the first copy taken wins, the others are
   * dropped at pickup.
   */
  resend(id: string, deadline: number): void {
    this.sql.exec('UPDATE jobs SET deadline = ?, sent = 0, copies = copies + 1 WHERE id = ?', deadline, id);
    const row = this.rows.get(id);
    if (row) Object.assign(row, { deadline, sent: 0, copies: row.copies + 1 });
    if (row) this.stored.set(id, deadline);
  }

  /** These attempts' messages went out (one statement per MARK_SENT_CHUNK of them). */
  markSent(sent: readonly { id: string; attempt: number }[]): void {
    for (let at = 0; at < sent.length; at += MARK_SENT_CHUNK) {
      const chunk = sent.slice(at, at + MARK_SENT_CHUNK);
      this.sql.exec(
        `UPDATE jobs SET sent = 1 WHERE (id, attempt) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
        ...chunk.flatMap(({ id, attempt }) => [id, attempt]),
      );
    }
    for (const { id, attempt } of sent) {
      const row = this.rows.get(id);
      if (row && row.attempt === attempt) row.sent = 1;
    }
  }

  /**
   * A consumer still works on the current attempt: its deadline moves (a heartbeat). The mirror
   * moves at once (the alarm and the run view read it); SQLite only when its copy would fall due
   * within `slackMs`, so most heartbeats write nothing. After a restart a job may then look
   * overdue up to `slackMs` early and be re-sent: its running attempt is superseded, never lost.
   */
  extend(id: string, deadline: number, now: number, slackMs: number): void {
    const row = this.rows.get(id);
    if (row) row.deadline = deadline;
    const stored = this.stored.get(id);
    if (row && stored !== undefined && stored - now > slackMs) return;
    this.sql.exec('UPDATE jobs SET deadline = ? WHERE id = ?', deadline, id);
    if (row) this.stored.set(id, deadline);
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
    this.stored.delete(id);
    if (this.rows.delete(id)) this.finished[status] += 1;
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
    return { pending: this.rows.size, ...this.finished };
  }

  /** The failed jobs, by id (read from SQLite only when some failed). */
  failures(): { id: string; node_id: string; reason: string | null }[] {
    if (this.finished.failed === 0) return [];
    return all<{ id: string; node_id: string; reason: string | null }>(
      this.sql,
      "SELECT id, node_id, reason FROM jobs WHERE status = 'failed'",
    ).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private pending(): JobRow[] {
    return [...this.rows.values()];
  }
}
