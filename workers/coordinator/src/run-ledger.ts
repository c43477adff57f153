import { DurableObject } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { runTasks, runs } from '../../../shared/db/schema';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import { type CoordinatorBindings, taskTreeStub } from '../../common/env';
import { emitRunCompleted } from '../../common/events';
import { onRunFinished } from '../../common/iterations';
import { all, MetaStore, one } from './sql';

export type TaskStatus =
  | 'pending'
  | 'searching'
  | 'critiquing'
  | 'splicing'
  | 'done'
  | 'failed'
  | 'cancelled';

/** What a TaskTree reports about itself; counters are totals, so a repeated report is harmless. */
export interface TaskProgress {
  status: TaskStatus;
  nodes: number;
  policyCalls: number;
  judgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
  failedJobs: number;
  referenceJudgeCalls?: number;
  error?: string | null;
}

export interface RunCounters {
  tasks: number;
  tasksDone: number;
  tasksFailed: number;
  nodes: number;
  policyCalls: number;
  judgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
  failedJobs: number;
  referenceJudgeCalls: number;
}

export type RunStatus = 'queued' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';

interface RunMeta {
  runId: string;
  spec: RunSpec;
  status: RunStatus;
  startedAt: number;
  completedAt: number | null;
}

const TREES_STARTED_PER_ALARM = 50;
const FINAL: TaskStatus[] = ['done', 'failed', 'cancelled'];

/** One per run: which tasks exist, how far each is, the run's counters and status. */
export class RunLedger extends DurableObject<CoordinatorBindings> {
  private readonly sql: SqlStorage;
  private readonly meta: MetaStore;

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.meta = new MetaStore(this.sql);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS tasks (
      task INTEGER PRIMARY KEY, started INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL,
      nodes INTEGER NOT NULL DEFAULT 0, policy_calls INTEGER NOT NULL DEFAULT 0,
      judge_calls INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
      completion_tokens INTEGER NOT NULL DEFAULT 0, revision INTEGER NOT NULL DEFAULT 0,
      good INTEGER NOT NULL DEFAULT 0, failed_jobs INTEGER NOT NULL DEFAULT 0, reference_judge_calls INTEGER NOT NULL DEFAULT 0, error TEXT,
      updated_at INTEGER NOT NULL)`);
  }

  /** Idempotent: a second start of the same run changes nothing. */
  async start(runId: string, spec: RunSpec): Promise<void> {
    if (this.meta.get<RunMeta>('run')) return;
    const now = Date.now();
    this.meta.set('run', {
      runId,
      spec,
      status: 'running',
      startedAt: now,
      completedAt: null,
    } satisfies RunMeta);
    for (const task of spec.tasks) {
      this.sql.exec(
        "INSERT OR IGNORE INTO tasks (task, status, updated_at) VALUES (?, 'pending', ?)",
        task,
        now,
      );
    }
    await drizzle(this.env.DB)
      .update(runs)
      .set({ status: 'running', updatedAt: now })
      .where(eq(runs.id, runId));
    // Trees are started from the alarm in chunks so that a run of thousands of tasks starts quickly.
    await this.ctx.storage.setAlarm(now);
  }

  override async alarm(): Promise<void> {
    const run = this.meta.get<RunMeta>('run');
    if (!run || run.status === 'cancelled') return;
    const pending = all<{ task: number }>(
      this.sql,
      'SELECT task FROM tasks WHERE started = 0 ORDER BY task LIMIT ?',
      TREES_STARTED_PER_ALARM,
    );
    await Promise.all(
      pending.map(async ({ task }) => {
        await taskTreeStub(this.env, run.runId, task).start(run.runId, task, run.spec);
        this.sql.exec(
          "UPDATE tasks SET started = 1, status = CASE WHEN status = 'pending' THEN 'searching' ELSE status END WHERE task = ?",
          task,
        );
      }),
    );
    if (pending.length === TREES_STARTED_PER_ALARM) await this.ctx.storage.setAlarm(Date.now());
  }

  async reportTask(task: number, progress: TaskProgress): Promise<void> {
    const run = this.meta.get<RunMeta>('run');
    if (!run) return;
    this.sql.exec(
      `UPDATE tasks SET status = ?, nodes = ?, policy_calls = ?, judge_calls = ?, prompt_tokens = ?,
       completion_tokens = ?, revision = ?, good = ?, failed_jobs = ?, reference_judge_calls = ?, error = ?, updated_at = ? WHERE task = ?`,
      progress.status,
      progress.nodes,
      progress.policyCalls,
      progress.judgeCalls,
      progress.promptTokens,
      progress.completionTokens,
      progress.revision,
      progress.good,
      progress.failedJobs,
      progress.referenceJudgeCalls ?? 0,
      progress.error ?? null,
      Date.now(),
      task,
    );
    if (FINAL.includes(progress.status)) {
      // The task's final counters are copied to D1 (run_tasks) for queries across runs.
      const row = {
        status: progress.status === 'cancelled' ? ('failed' as const) : progress.status,
        nodes: progress.nodes,
        policyCalls: progress.policyCalls,
        judgeCalls: progress.judgeCalls,
        revisionRecords: progress.revision,
        goodRecords: progress.good,
        failedJobs: progress.failedJobs,
        error: progress.error ?? null,
        updatedAt: Date.now(),
      };
      await drizzle(this.env.DB)
        .insert(runTasks)
        .values({ runId: run.runId, task, ...row })
        .onConflictDoUpdate({ target: [runTasks.runId, runTasks.task], set: row });
      await this.maybeComplete(run);
    }
  }

  private async maybeComplete(run: RunMeta): Promise<void> {
    if (run.status !== 'running') return;
    const open = one<{ n: number }>(
      this.sql,
      "SELECT COUNT(*) AS n FROM tasks WHERE status NOT IN ('done', 'failed', 'cancelled')",
    );
    if ((open?.n ?? 0) > 0) return;
    const counters = this.counters();
    // Jobs that failed for good (a dead env server, an endpoint that stayed down) make the run
    // partial even when every task finished: its trees are missing those subtrees.
    const clean = counters.tasksFailed === 0 && counters.failedJobs === 0;
    const status: RunStatus = clean ? 'completed' : counters.tasksDone === 0 ? 'failed' : 'partial';
    const now = Date.now();
    const error = clean
      ? null
      : `${counters.tasksFailed} of ${counters.tasks} tasks failed, ${counters.failedJobs} jobs failed (see the run's failures)`;
    this.meta.set('run', { ...run, status, completedAt: now } satisfies RunMeta);
    await drizzle(this.env.DB)
      .update(runs)
      .set({ status, error, updatedAt: now, completedAt: now })
      .where(eq(runs.id, run.runId));
    // The run's AgentGym env ids are closed (the servers never clean up by themselves).
    if (run.spec.env === 'agentgym' && run.spec.envServer) {
      const server = run.spec.envServer;
      this.ctx.waitUntil(
        this.env.ENV_POOL.get(this.env.ENV_POOL.idFromName(server))
          .drain(server)
          .catch(() => []),
      );
    }
    await emitRunCompleted(this.env, { runId: run.runId, status, counters, completedAt: now });
    // Evals and iteration loops waiting on this run move on (never throws).
    await onRunFinished(this.env, run.runId);
  }

  /** Stops every unfinished task; their records so far stay. Idempotent. */
  async cancel(): Promise<RunStatus | null> {
    const run = this.meta.get<RunMeta>('run');
    if (!run) return null;
    if (run.status !== 'running' && run.status !== 'queued') return run.status;
    const now = Date.now();
    this.meta.set('run', { ...run, status: 'cancelled', completedAt: now } satisfies RunMeta);
    const open = all<{ task: number; started: number }>(
      this.sql,
      "SELECT task, started FROM tasks WHERE status NOT IN ('done', 'failed', 'cancelled')",
    );
    this.sql.exec(
      "UPDATE tasks SET status = 'cancelled', error = 'run cancelled' WHERE status NOT IN ('done', 'failed', 'cancelled')",
    );
    await Promise.all(
      open
        .filter((t) => t.started)
        .map((t) => taskTreeStub(this.env, run.runId, t.task).cancel('run cancelled')),
    );
    await drizzle(this.env.DB)
      .update(runs)
      .set({ status: 'cancelled', updatedAt: now, completedAt: now })
      .where(eq(runs.id, run.runId));
    return 'cancelled';
  }

  counters(): RunCounters {
    const row = one<Record<string, number>>(
      this.sql,
      `SELECT COUNT(*) AS tasks, SUM(status = 'done') AS tasksDone, SUM(status IN ('failed', 'cancelled')) AS tasksFailed,
       SUM(nodes) AS nodes, SUM(policy_calls) AS policyCalls, SUM(judge_calls) AS judgeCalls,
       SUM(prompt_tokens) AS promptTokens, SUM(completion_tokens) AS completionTokens, SUM(revision) AS revision,
       SUM(good) AS good, SUM(failed_jobs) AS failedJobs, SUM(reference_judge_calls) AS referenceJudgeCalls FROM tasks`,
    );
    const n = (k: string) => Number(row?.[k] ?? 0);
    return {
      tasks: n('tasks'),
      tasksDone: n('tasksDone'),
      tasksFailed: n('tasksFailed'),
      nodes: n('nodes'),
      policyCalls: n('policyCalls'),
      judgeCalls: n('judgeCalls'),
      promptTokens: n('promptTokens'),
      completionTokens: n('completionTokens'),
      revision: n('revision'),
      good: n('good'),
      failedJobs: n('failedJobs'),
      referenceJudgeCalls: n('referenceJudgeCalls'),
    };
  }

  async status(): Promise<{
    status: RunStatus;
    counters: RunCounters;
    tasks: { task: number; status: string; error: string | null }[];
  } | null> {
    const run = this.meta.get<RunMeta>('run');
    if (!run) return null;
    const tasks = all<{ task: number; status: string; error: string | null }>(
      this.sql,
      'SELECT task, status, error FROM tasks ORDER BY task',
    );
    return { status: run.status, counters: this.counters(), tasks };
  }
}
