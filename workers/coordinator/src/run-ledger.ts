import { DurableObject } from 'cloudflare:workers';
import type { RunLedgerApi } from '../../common/durable-objects';
import type { RunFinishedMessage } from '../../../shared/contracts/messages';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import type {
  LedgerStatus,
  RunCounters,
  RunStatus,
  TaskProgress,
  TaskStatus,
  TaskWait,
} from '../../../shared/contracts/run-view';
import { type CoordinatorBindings, taskTreeStub } from '../../common/env';
import { envPoolStub, revokeRunAtGates } from '../../common/durable-objects';
import { copyRunToD1, copyTaskToD1, type TaskRowCopy } from './ledger-d1';
import { endEffects, LedgerRecord, type RunEffect, type RunMeta } from './ledger-record';
import { createLedgerTables, ledgerCounters } from './ledger-tables';
import { all, MetaStore, one } from './sql';
import { WaitCache } from './waits';

export type { RunCounters, RunStatus, TaskProgress, TaskStatus } from '../../../shared/contracts/run-view';

const TREES_STARTED_PER_ALARM = 50;
const FINAL: TaskStatus[] = ['done', 'failed', 'cancelled'];
const FINAL_SQL = "('done', 'failed', 'cancelled')";
/** How soon the alarm retries a D1 write or an effect that failed. */
const RETRY_MS = 1000;
/** While the run is open, the alarm checks its invariants this often. */
const RECONCILE_MS = 30_000;
/** A started task not heard from for this long is asked for its progress. */
const SILENT_TASK_MS = 60_000;

/**
 * One per run: which tasks exist, how far each is, the run's counters and status. Its SQLite is
 * the truth; D1 copies and the run's end effects (webhook, loop hook, env drain) follow it and
 * are retried by the alarm until they land: state first, effects after, never the reverse.
 */
export class RunLedger extends DurableObject<CoordinatorBindings> implements RunLedgerApi {
  private readonly sql: SqlStorage;
  private readonly stored: LedgerRecord;

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    createLedgerTables(this.sql);
    this.stored = new LedgerRecord(new MetaStore(this.sql), this.sql);
    this.stored.migrate(ctx.storage);
  }

  private get run(): RunMeta | null {
    return this.stored.run;
  }

  private saveRun(run: RunMeta): void {
    this.stored.save(run);
  }

  /** Idempotent: a second start of the same run changes nothing. */
  async start(runId: string, spec: RunSpec): Promise<void> {
    if (this.run) return;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.stored.create(
        { runId, status: 'running', startedAt: now, completedAt: null, d1Synced: false },
        spec,
      );
    });
    // Trees are started from the alarm in chunks so that a run of thousands of tasks starts
    // quickly; the same alarm copies the status to D1 if the write below fails.
    await this.ctx.storage.setAlarm(now);
    await this.syncRun().catch((error) => console.error(`run ${runId}: D1 not updated yet`, error));
  }

  override async alarm(): Promise<void> {
    const run = this.run;
    if (!run) return;
    let startedAll = true;
    if (run.status === 'running') startedAll = await this.startTrees(run);
    let retry = false;
    try {
      if (this.run!.status === 'running') await this.askSilentTasks();
      await this.reconcile();
    } catch (error) {
      console.error(`run ${run.runId}: reconcile failed, retrying`, error);
      retry = true;
    }
    const after = this.run!;
    const unsettled = !after.d1Synced || (after.outbox?.length ?? 0) > 0 || this.unsyncedTasks().length > 0;
    const next = !startedAll
      ? Date.now()
      : retry || unsettled
        ? Date.now() + RETRY_MS
        : after.status === 'running'
          ? Date.now() + RECONCILE_MS
          : null;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  /** Starts the next chunk of trees; true when every tree has been started. */
  private async startTrees(run: RunMeta): Promise<boolean> {
    const pending = all<{ task: number }>(
      this.sql,
      'SELECT task FROM tasks WHERE started = 0 ORDER BY task LIMIT ?',
      TREES_STARTED_PER_ALARM,
    );
    await Promise.all(
      pending.map(async ({ task }) => {
        const tree = taskTreeStub(this.env, run.runId, task);
        await tree.start(run.runId, task, this.stored.taskSpec(task));
        this.stored.markStarted(task);
        // A cancel that came while this tree was starting did not see it started: stop it here.
        if (this.run?.status === 'cancelled') await tree.cancel('run cancelled');
      }),
    );
    return pending.length < TREES_STARTED_PER_ALARM;
  }

  async reportTask(task: number, progress: TaskProgress): Promise<void> {
    const run = this.run;
    if (!run || !this.record(task, progress)) return;
    // Recorded; the D1 copy and the run's end follow, and the alarm finishes them if this fails.
    try {
      await this.reconcile();
    } catch (error) {
      console.error(`run ${run.runId}: task ${task} recorded, D1 not yet (the alarm retries)`, error);
      await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    }
  }

  /**
   * Records a task's progress; true when it just became final. `reopen` lets a tree's own word
   * replace the 'cancelled' the ledger wrote for it (its splice was accepted just before).
   */
  private record(task: number, progress: TaskProgress, reopen = false): boolean {
    const row = one<{ status: string }>(this.sql, 'SELECT status FROM tasks WHERE task = ?', task);
    const reopened = reopen && row?.status === 'cancelled';
    // A final task stays final: a late report (a tree that finished as it was cancelled) is ignored.
    if (!row || (FINAL.includes(row.status as TaskStatus) && !reopened)) return false;
    const final = FINAL.includes(progress.status);
    this.sql.exec(
      `UPDATE tasks SET status = ?, nodes = ?, policy_calls = ?, judge_calls = ?, prompt_tokens = ?,
       completion_tokens = ?, revision = ?, good = ?, failed_jobs = ?, reference_judge_calls = ?, error = ?, updated_at = ?,
       d1_synced = ?, judge_failures = ?, context_retries = ?, tokenizer = COALESCE(?, tokenizer),
       env_resets = ?, env_steps = ?, expansions = ?, policy_model = COALESCE(?, policy_model),
       judge_model = COALESCE(?, judge_model) WHERE task = ?`,
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
      final ? 0 : 1,
      progress.judgeFailures ?? 0,
      progress.contextRetries ?? 0,
      progress.tokenizer ?? null,
      progress.envResets ?? 0,
      progress.envSteps ?? 0,
      progress.expansions ?? 0,
      progress.policyModel ?? null,
      progress.judgeModel ?? null,
      task,
    );
    return final;
  }

  /**
   * The invariants, repaired in order: a run whose tasks are all final has its final status;
   * every final task is in D1; the end's effects are done; D1's run row equals this one. Throws on the
   * first write that fails (the caller schedules a retry).
   */
  private async reconcile(): Promise<void> {
    const run = this.run!;
    // The ledger's own state first (it needs no D1), then the copies and effects.
    if (run.status === 'running') this.finishIfDone(run);
    for (const row of this.unsyncedTasks()) {
      await copyTaskToD1(this.env, run.runId, row.task, row);
      this.sql.exec('UPDATE tasks SET d1_synced = 1 WHERE task = ? AND status = ?', row.task, row.status);
    }
    await this.drainOutbox();
    await this.syncRun();
  }

  /** All tasks final: the run's status is decided and its end effects queued, in one write. */
  private finishIfDone(run: RunMeta): void {
    const open = one<{ n: number }>(
      this.sql,
      `SELECT COUNT(*) AS n FROM tasks WHERE status NOT IN ${FINAL_SQL}`,
    );
    if ((open?.n ?? 0) > 0) return;
    const counters = this.counters();
    // Jobs that failed for good (a dead env server, an endpoint that stayed down) make the run
    // partial even when every task finished: its trees are missing those subtrees.
    const clean = counters.tasksFailed === 0 && counters.failedJobs === 0;
    const status: RunStatus = clean ? 'completed' : counters.tasksDone === 0 ? 'failed' : 'partial';
    const error = clean
      ? null
      : `${counters.tasksFailed} of ${counters.tasks} tasks failed, ${counters.failedJobs} jobs failed (see the run's failures)`;
    this.saveRun({
      ...run,
      status,
      error,
      completedAt: Date.now(),
      outbox: endEffects(this.stored.spec),
      d1Synced: false,
    });
  }

  /**
   * Trees report on every status change; one not heard from for a while (a report lost to a
   * crash) is asked directly, so the ledger never waits on a task that already ended.
   */
  private async askSilentTasks(): Promise<void> {
    const run = this.run!;
    const silent = all<{ task: number }>(
      this.sql,
      `SELECT task FROM tasks WHERE started = 1 AND status NOT IN ${FINAL_SQL} AND updated_at < ? LIMIT 50`,
      Date.now() - SILENT_TASK_MS,
    );
    for (const { task } of silent) {
      // One tree that cannot answer (it is asked again in a minute) holds up neither the others
      // nor the invariant checks that follow in the alarm.
      const progress = await taskTreeStub(this.env, run.runId, task)
        .progress()
        .catch((error: unknown) => {
          console.error(`run ${run.runId}: task ${task} did not answer (asked again later)`, error);
          return null;
        });
      if (progress) this.record(task, progress);
      else this.sql.exec('UPDATE tasks SET updated_at = ? WHERE task = ?', Date.now(), task);
    }
  }

  /** Runs the end effects still owed, D1's copy first (datasets and loops read the status there). */
  /** The drain in progress, if any (see drainOutbox). */
  private draining: Promise<void> | null = null;

  /**
   * One drain at a time: a task's report and the alarm reconciling together both found
   * 'finished' owed while the first send was on its way, and run.finished went out twice.
   */
  private async drainOutbox(): Promise<void> {
    while (this.draining) await this.draining.catch(() => {});
    this.draining = this.drainOutboxOnce();
    try {
      await this.draining;
    } finally {
      this.draining = null;
    }
  }

  private async drainOutboxOnce(): Promise<void> {
    let run = this.run!;
    if (!run.outbox?.length) return;
    await this.syncRun();
    for (const effect of [...run.outbox]) {
      await this.runEffect(run, effect);
      run = this.run!;
      this.saveRun({ ...run, outbox: (run.outbox ?? []).filter((e) => e !== effect) });
      run = this.run!;
    }
  }

  private async runEffect(run: RunMeta, effect: RunEffect): Promise<void> {
    if (effect === 'drain') {
      // The run's AgentGym env ids are closed (the servers never clean up by themselves).
      const server = this.stored.spec.envServer!;
      this.ctx.waitUntil(
        envPoolStub(this.env, server)
          .drain(server)
          .catch(() => []),
      );
    } else {
      const message: RunFinishedMessage = {
        type: 'run.finished',
        runId: run.runId,
        status: run.status,
        counters: this.counters(),
        completedAt: run.completedAt ?? Date.now(),
      };
      await this.env.EVENTS.send(message, { contentType: 'json' });
    }
  }

  /** Copies the run's status to D1 unless it is known to be there already. */
  private async syncRun(): Promise<void> {
    const run = this.run;
    if (!run || run.d1Synced) return;
    await copyRunToD1(this.env, run.runId, {
      status: run.status,
      error: run.error ?? null,
      completedAt: run.completedAt,
    });
    const now = this.run!;
    // Only if nothing changed meanwhile (a cancel during the write copies again).
    if (now.status === run.status) this.saveRun({ ...now, d1Synced: true });
  }

  private unsyncedTasks(): (TaskRowCopy & { task: number })[] {
    return all<TaskRowCopy & { task: number }>(
      this.sql,
      `SELECT task, status, nodes, policy_calls, judge_calls, revision, good, failed_jobs, error FROM tasks
       WHERE d1_synced = 0 AND status IN ${FINAL_SQL}`,
    );
  }

  /** Stops every unfinished task; their records so far stay. Idempotent and final. */
  async cancel(): Promise<RunStatus | null> {
    const run = this.run;
    if (!run) return null;
    if (run.status !== 'running' && run.status !== 'queued') return run.status;
    const now = Date.now();
    const open = all<{ task: number; started: number }>(
      this.sql,
      `SELECT task, started FROM tasks WHERE status NOT IN ${FINAL_SQL}`,
    );
    this.ctx.storage.transactionSync(() => {
      // A cancelled run ends like any other: run.completed (status cancelled), loops, env drain.
      this.saveRun({
        ...run,
        status: 'cancelled',
        completedAt: now,
        outbox: endEffects(this.stored.spec),
        d1Synced: false,
      });
      this.sql.exec(
        `UPDATE tasks SET status = 'cancelled', error = 'run cancelled', d1_synced = 0 WHERE status NOT IN ${FINAL_SQL}`,
      );
    });
    await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    // Trees being started right now are cancelled by startTrees once their start returns. Jobs
    // waiting for an endpoint slot are refused it (they do not ask their tree after a short wait).
    // Each tree answers once none of its records is being written (tree-writes.ts); one that had
    // finished already (its splice accepted, its report not yet here) keeps its records and says so.
    const { spec } = this.stored;
    const gates = revokeRunAtGates(this.env, run.runId, [spec.policy, spec.judge ?? spec.policy]).catch(
      (error) => console.error(`run ${run.runId}: endpoint gates not told of the cancel`, error),
    );
    await Promise.all([
      gates,
      ...open
        .filter((t) => t.started)
        .map(async (t) => {
          const final = await taskTreeStub(this.env, run.runId, t.task).cancel('run cancelled');
          if (final?.status === 'done') this.record(t.task, final, true);
        }),
    ]);
    await this.syncRun().catch((error) => console.error(`run ${run.runId}: cancel not in D1 yet`, error));
    return 'cancelled';
  }

  /** The trees' recent answers to `waiting` (the run view is polled often). */
  private readonly waits = new WaitCache();

  /** Per unfinished task (up to `limit`), what it waits for and since when. */
  async waiting(limit = 50): Promise<TaskWait[]> {
    const run = this.run;
    if (!run) return [];
    const open = all<{ task: number; started: number; status: string; updated_at: number }>(
      this.sql,
      `SELECT task, started, status, updated_at FROM tasks WHERE status NOT IN ${FINAL_SQL} ORDER BY task LIMIT ?`,
      limit,
    );
    this.waits.retain(open.map((row) => row.task));
    const now = Date.now();
    return Promise.all(
      open.map(async (row): Promise<TaskWait> => {
        const tree = () => taskTreeStub(this.env, run.runId, row.task).waiting();
        const wait = row.started ? await this.waits.ask(row.task, now, tree) : null;
        return (
          (wait && { task: row.task, ...wait }) ?? {
            task: row.task,
            status: row.status,
            waitingFor: row.started
              ? 'its tree has not answered'
              : 'its tree to be started (the ledger alarm)',
            since: row.updated_at,
            lastHeartbeat: null,
            openJobs: 0,
          }
        );
      }),
    );
  }

  counters(): RunCounters {
    return ledgerCounters(this.sql);
  }

  async status(): Promise<LedgerStatus | null> {
    const run = this.run;
    if (!run) return null;
    const tasks = all<{ task: number; status: string; error: string | null }>(
      this.sql,
      'SELECT task, status, error FROM tasks ORDER BY task',
    );
    return { status: run.status, counters: this.counters(), tasks };
  }
}
