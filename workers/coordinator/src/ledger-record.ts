import type { RunSpec } from '../../../shared/contracts/run-spec';
import type { RunStatus } from '../../../shared/contracts/run-view';
import { type MetaStore, one } from './sql';
import { taskSpec } from './tree-meta';

/**
 * 'finished': the run.finished message to the gateway (which runs the webhooks, loops and evals;
 * the coordinator knows nothing of them). 'event' and 'loops' are what ledgers made before that
 * message existed may still owe: both send it (the gateway's handling is idempotent).
 */
export type RunEffect = 'drain' | 'finished' | 'event' | 'loops';

/** The ledger's status row: small, rewritten on every status change (never carries the spec). */
export interface RunMeta {
  runId: string;
  status: RunStatus;
  startedAt: number;
  completedAt: number | null;
  /** Why the run is not clean (null when it is, or while it runs). */
  error?: string | null;
  /**
   * Effects of the run's end still to do (an outbox the alarm drains): each is removed once done,
   * so a D1 hiccup delays them but never loses them, and none runs twice.
   */
  outbox?: RunEffect[];
  /** D1's run row agrees with this one (checked and repaired by the alarm until it does). */
  d1Synced?: boolean;
}

/** The spec as the ledger keeps it: everything but `startFrom`, which goes to the task rows. */
export type LedgerSpec = Omit<RunSpec, 'startFrom'>;

/** Ledgers written before the spec had its own key carried it in the status row. */
type StoredRunMeta = RunMeta & { spec?: RunSpec };

/**
 * A RunLedger's record: the status row (rewritten with every status change), the spec without
 * `startFrom` (written once, at start, under its own key) and each task's `startFrom` history in
 * its task row (handed to its tree at start, then cleared: the tree keeps its own). So a status
 * change writes ~200 bytes whatever the size of the spec, and the alarm can start and finish the
 * run from this storage alone (no D1, no gateway).
 */
export class LedgerRecord {
  private specCache: LedgerSpec | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly sql: SqlStorage,
  ) {}

  get run(): RunMeta | null {
    return this.meta.get<RunMeta>('run');
  }

  save(run: RunMeta): void {
    this.meta.set('run', run);
  }

  /** The run's first write: its status row, its spec and its task rows (call inside a transaction). */
  create(run: RunMeta, spec: RunSpec): void {
    this.save(run);
    this.setSpec(spec);
    for (const task of spec.tasks) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tasks (task, status, updated_at, d1_synced) VALUES (?, 'pending', ?, 0)",
        task,
        run.startedAt,
      );
      const steps = startFromOf(spec, task);
      if (steps) this.sql.exec('INSERT OR IGNORE INTO start_from (task, steps) VALUES (?, ?)', task, steps);
    }
  }

  get spec(): LedgerSpec {
    if (this.specCache === undefined) {
      const spec = this.meta.get<LedgerSpec>('spec');
      if (!spec) throw new Error('run ledger: no spec stored');
      this.specCache = spec;
    }
    return this.specCache;
  }

  /** What `task`'s tree is started with: the spec as `taskSpec` cuts it, with the task's own history. */
  taskSpec(task: number): RunSpec {
    const row = one<{ steps: string }>(this.sql, 'SELECT steps FROM start_from WHERE task = ?', task);
    const own = row ? (JSON.parse(row.steps) as string[]) : null;
    return taskSpec({ ...this.spec, ...(own ? { startFrom: { [String(task)]: own } } : {}) }, task);
  }

  /** Marks `task`'s tree started; its history goes with the mark (the tree keeps its own copy). */
  markStarted(task: number): void {
    this.sql.exec(
      "UPDATE tasks SET started = 1, status = CASE WHEN status = 'pending' THEN 'searching' ELSE status END WHERE task = ?",
      task,
    );
    this.sql.exec('DELETE FROM start_from WHERE task = ?', task);
  }

  /**
   * A ledger written before the spec had its own key: the spec moves out of the status row, its
   * `startFrom` to the rows of the tasks not started yet (a started tree has its own). Idempotent,
   * in one transaction; a no-op on current ledgers.
   */
  migrate(storage: DurableObjectStorage): void {
    const stored = this.meta.get<StoredRunMeta>('run');
    if (!stored?.spec) return;
    const { spec, ...run } = stored;
    storage.transactionSync(() => {
      if (!this.meta.get<LedgerSpec>('spec')) this.setSpec(spec);
      for (const task of spec.tasks) {
        const steps = startFromOf(spec, task);
        const pending = one(this.sql, 'SELECT task FROM tasks WHERE task = ? AND started = 0', task);
        if (steps && pending)
          this.sql.exec('INSERT OR IGNORE INTO start_from (task, steps) VALUES (?, ?)', task, steps);
      }
      this.save(run);
    });
  }

  /** Written once: the spec without `startFrom`. */
  private setSpec(spec: RunSpec): void {
    const { startFrom: _histories, ...rest } = spec;
    this.meta.set('spec', rest);
    this.specCache = rest;
  }
}

/** A task's `startFrom` history as its row stores it (JSON), or null. */
function startFromOf(spec: RunSpec, task: number): string | null {
  const own = spec.startFrom?.[String(task)];
  return own ? JSON.stringify(own) : null;
}

/** What a run owes once it reached its final status, in order. */
export function endEffects(spec: LedgerSpec): RunEffect[] {
  return spec.env === 'agentgym' && spec.envServer ? ['drain', 'finished'] : ['finished'];
}
