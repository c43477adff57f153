import type { MetaStore } from './sql';

/**
 * The splice's write permit: what makes "cancel is final" hold while records are being written.
 * A splice asks for it before each of its write steps (R2 record files, the tree file, the D1
 * index rows) and is refused once the task is cancelled. The mark stays (in storage, so a restart
 * keeps it) from the first write until the records are accepted, in the same transaction as the
 * splice result, or taken back. A cancel that finds a mark waits, bounded, until the writer has
 * stopped (it was refused between two steps, or its result was refused), or its lease ran out (it
 * died mid-write), then removes what it wrote before it answers: nothing of the task appears
 * after the answer, and nothing half-written stays.
 */
export interface WriteMark {
  /** The splice attempt that writes. */
  attempt: number;
  /** Whether that attempt may still be writing (false once it was told to stop, or reported). */
  live: boolean;
  /** A live writer renews this while it writes; past it, the writer counts as dead. */
  until: number;
}

/** How long a write permit lasts without a renewal (the splicer renews every third of it). */
export const WRITE_LEASE_MS = 10_000;
/** A cancel waits at most this long for a live writer (one that keeps renewing but never stops). */
export const CANCEL_WAIT_MAX_MS = 30_000;
/** How often a waiting cancel looks at the mark again. */
const CANCEL_POLL_MS = 25;

const KEY = 'writeMark';

export class WriteMarks {
  private cached: WriteMark | null | undefined;

  constructor(private readonly meta: MetaStore) {}

  get mark(): WriteMark | null {
    if (this.cached === undefined) this.cached = this.meta.get<WriteMark>(KEY);
    return this.cached;
  }

  private save(mark: WriteMark | null): void {
    this.meta.set(KEY, mark);
    this.cached = mark;
  }

  /**
   * A permit for the next write step of `attempt` when `current` (the attempt is current and a
   * splice); a refusal also tells a waiting cancel that this writer stopped (it asks between
   * steps, so no step of it is running).
   */
  ask(attempt: number, current: boolean, now = Date.now()): boolean {
    if (current) this.save({ attempt, live: true, until: now + WRITE_LEASE_MS });
    else this.stopped(attempt);
    return current;
  }

  /** The writer of `attempt` is still at work (a renewal while one step runs, even after a cancel). */
  renew(attempt: number, now = Date.now()): boolean {
    const mark = this.mark;
    if (!mark || mark.attempt !== attempt || !mark.live) return false;
    this.save({ ...mark, until: now + WRITE_LEASE_MS });
    return true;
  }

  /** The writer of `attempt` stopped writing (refused between steps, or it reported). */
  stopped(attempt: number | undefined): void {
    const mark = this.mark;
    if (mark?.live && (attempt === undefined || mark.attempt === attempt))
      this.save({ ...mark, live: false });
  }

  /** The records were accepted (inside the result's transaction), or taken back. */
  clear(): void {
    if (this.mark) this.save(null);
  }

  /** When the alarm of a final task should take back unaccepted records (null: none). */
  takeBackAt(now = Date.now()): number | null {
    const mark = this.mark;
    return mark ? (mark.live ? Math.max(now, mark.until) : now) : null;
  }

  /** Whether a writer may still be at work at `now`. */
  busy(now = Date.now()): boolean {
    const mark = this.mark;
    return mark?.live === true && now < mark.until;
  }

  /** Waits (bounded) until no writer is at work; true when one was waited for. */
  async settle(): Promise<boolean> {
    const start = Date.now();
    if (!this.busy(start)) return false;
    while (this.busy() && Date.now() - start < CANCEL_WAIT_MAX_MS) {
      await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
    }
    return true;
  }

  /**
   * A final task with records of a splice that was never accepted (refused by a cancel, or it
   * failed or died mid-write): once no writer is at work (waited for, bounded), they are removed
   * with `remove` and the mark cleared. False when they are still there (the caller retries).
   */
  async takeBack(remove: () => Promise<void>): Promise<boolean> {
    if (!this.mark) return true;
    await this.settle();
    if (!this.mark) return true;
    if (this.busy()) return false;
    try {
      await remove();
    } catch (error) {
      console.error('could not take back records of a splice that was not accepted yet', error);
      return false;
    }
    this.clear();
    return true;
  }
}
