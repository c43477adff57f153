import { DurableObject } from 'cloudflare:workers';
import type { TaskTreeApi } from '../../common/durable-objects';
import type { AnyJob, JobResult, SplicePage } from '../../../shared/contracts/jobs';
import { jobResultSchema } from '../../../shared/contracts/jobs';
import { toTreeFile } from '../../../shared/mcts';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import type { TreeFile } from '../../../shared/contracts/tree-file';
import type { CoordinatorBindings } from '../../common/env';
import { defaultRetryPolicy, JobTable, type JobRow, type RetryPolicy, resendDelayMs } from './jobs';
import type { TaskStatus, TaskWait } from '../../../shared/contracts/run-view';
import { Critique } from './critique';
import { jobPayload, splicePageOf } from './job-payloads';
import { Outbox } from './outbox';
import { SearchStore } from './search-store';
import { MetaStore } from './sql';
import { expectedResult, isFinal, type TreeMeta, TreeRecord } from './tree-meta';
import { TreeMachine } from './tree-machine';
import { type TreeProgress, treeProgress } from './tree-progress';
import { TreeUpdates } from './tree-updates';
import { describeWait } from './waits';
import { WriteMarks } from './tree-writes';
import { TreeReports } from './tree-report';
import { removeTaskRecords } from '../../common/task-records';

/**
 * One per (run, task): owns the search tree and every job it hands out (expand, judge, splice)
 * with deadlines and attempts. Results are accepted once per job id, so duplicated queue
 * deliveries and late results change nothing; overdue jobs are re-sent by the alarm.
 */
export class TaskTree extends DurableObject<CoordinatorBindings> implements TaskTreeApi {
  private readonly meta: MetaStore;
  private readonly jobs: JobTable;
  private readonly store: SearchStore;
  /** The status row (read once, then kept in step with every write), the spec and the prefix. */
  private readonly record: TreeRecord;
  private readonly critique: Critique;
  private readonly outbox: Outbox;
  private readonly machine: TreeMachine;
  private retry: RetryPolicy = defaultRetryPolicy;
  /** The alarm this object last set (null: none known); re-set only for an earlier deadline. */
  private alarmAt: number | null = null;
  /** When the task started (read on the first `waiting` of an activation). */
  private since: number | null | undefined;
  private readonly reports: TreeReports;
  /** Dashboard sockets (hibernatable): changed nodes go out after every applied result. */
  private readonly live = new TreeUpdates(this.ctx);
  /** The splice's write permit (cancel is final while records are being written). */
  private readonly writes: WriteMarks;

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.meta = new MetaStore(ctx.storage.sql);
    this.jobs = new JobTable(ctx.storage.sql);
    this.store = new SearchStore(ctx.storage.sql, this.meta);
    this.record = new TreeRecord(this.meta);
    this.writes = new WriteMarks(this.meta);
    this.reports = new TreeReports(this.meta, () => this.progress());
    this.critique = new Critique(this.meta, this.store);
    this.outbox = new Outbox(() => this.env, this.jobs);
    this.machine = new TreeMachine({
      meta: this.meta,
      jobs: this.jobs,
      store: this.store,
      record: this.record,
      critique: this.critique,
      retry: () => this.retry,
      setRetry: (policy) => {
        this.meta.set('retry', policy);
        this.retry = { ...defaultRetryPolicy, ...policy };
      },
      saveTree: (tree, also) => this.saveTree(tree, also),
    });
    this.retry = { ...defaultRetryPolicy, ...(this.meta.get<Partial<RetryPolicy>>('retry') ?? {}) };
    ctx.blockConcurrencyWhile(async () => {
      this.machine.search = this.store.load();
    });
  }

  private get tree(): TreeMeta | null {
    return this.record.tree;
  }

  private saveTree(tree: TreeMeta, also?: { key: string; value: unknown }[]): void {
    this.record.save(tree, also);
    this.live.status(tree.status);
  }

  /**
   * Runs a state change; if it throws, the in-memory copies are dropped so the next call reads
   * what storage actually holds.
   */
  private async guarded<T>(change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } catch (error) {
      this.record.forget();
      this.critique.reset();
      this.machine.search = this.store.load();
      this.jobs.reload();
      this.machine.pendingLive = [];
      throw error;
    }
  }

  /** Idempotent: the first call seeds the tree by asking for the task's first observation. */
  async start(runId: string, task: number, spec: RunSpec): Promise<void> {
    if (this.tree) return;
    this.ctx.storage.transactionSync(() => {
      this.machine.start(runId, task, spec);
      this.reports.startedByLedger(this.tree!.status);
    });
    await this.afterChange(this.tree!);
  }

  /**
   * A consumer takes a job (its work clock starts): what it needs, or null when the job is not
   * wanted, `attempt` is superseded, or another copy of this attempt was taken (checked before
   * the payload is built, so stale copies are cheap). Only a taken attempt can use itself up.
   * Without `attempt` it is a look that takes nothing (tests, tools).
   */
  async getJob(jobId: string, attempt?: number): Promise<AnyJob | null> {
    const job = this.current(jobId, attempt);
    if (!job) return null;
    const tree = this.tree!;
    if (attempt !== undefined) {
      if (job.picked) return null;
      this.hold(job);
    }
    return jobPayload(job, {
      tree,
      spec: this.record.spec,
      prefix: this.record.prefix,
      search: this.machine.search,
      store: this.store,
      pairJudgements: () => this.critique.pairJudgements(),
    });
  }

  /** A page of the finished tree for the current attempt of the splice job (null otherwise). */
  async splicePage(jobId: string, attempt: number, from: number): Promise<SplicePage | null> {
    const job = this.current(jobId, attempt);
    const search = this.machine.search;
    if (!job || job.kind !== 'splice' || !search) return null;
    return splicePageOf(search, this.store, from);
  }

  /**
   * Accepts a job's result exactly once; returns whether it was used. `attempt` (when given) must
   * be the job's current attempt: a superseded attempt's result is ignored. A result that cannot
   * be applied (it broke a storage limit, it is malformed) counts as a failed attempt with the
   * reason, so it is retried and finally recorded; the job is never lost.
   */
  async completeJob(jobId: string, result: JobResult, attempt?: number): Promise<{ accepted: boolean }> {
    try {
      const answer = await this.guarded(() => this.applyResult(jobId, result, attempt));
      // A refused splice has stopped writing (an accepted one cleared its mark with the result).
      if (!answer.accepted && jobId === 'splice') this.writes.stopped(attempt);
      return answer;
    } catch (error) {
      if (!this.current(jobId, attempt)) throw error;
      const reason = `could not apply the result: ${error instanceof Error ? error.message : String(error)}`;
      await this.failJob(jobId, reason.slice(0, 1000), true, attempt);
      return { accepted: false };
    }
  }

  /** The job exists, is pending, its tree is not final and (if given) `attempt` is its current one. */
  private current(jobId: string, attempt?: number): JobRow | null {
    const tree = this.tree;
    const job = this.jobs.get(jobId);
    if (!tree || !job || job.status !== 'pending' || isFinal(tree)) return null;
    if (attempt !== undefined && attempt !== job.attempt) return null;
    return job;
  }

  /**
   * Whether this attempt is still wanted; if so its deadline moves on (a consumer's heartbeat
   * while it waits for a slot or a slow endpoint), so the job is not re-sent under it.
   */
  async keepAlive(jobId: string, attempt: number): Promise<boolean> {
    const job = this.current(jobId, attempt);
    if (!job) return false;
    this.hold(job);
    return true;
  }

  /** A consumer holds the attempt (taken, if not yet), its deadline a full timeout from now. */
  private hold(job: JobRow): void {
    if (!job.picked) this.jobs.take(job.id, job.attempt);
    const now = Date.now();
    this.jobs.extend(job.id, now + this.retry.timeoutMs, now, this.retry.timeoutMs / 2);
  }

  /**
   * Whether this attempt is still wanted, changing nothing: a consumer's check before an outside
   * effect (no write, so the answer is not held back until one is stored; keepAlive beats).
   */
  async isCurrent(jobId: string, attempt: number): Promise<boolean> {
    return this.current(jobId, attempt) !== null;
  }

  /** A splice's permit for its next write step, refused once cancelled or superseded (tree-writes.ts). */
  async beginWrite(jobId: string, attempt: number): Promise<boolean> {
    const job = this.current(jobId, attempt);
    if (job?.kind === 'splice') this.hold(job);
    return this.writes.ask(attempt, job?.kind === 'splice');
  }

  /** A splice is still writing (renewed even after a cancel: the cancel waits for the step). */
  async renewWrite(_jobId: string, attempt: number): Promise<boolean> {
    return this.writes.renew(attempt);
  }

  private async applyResult(
    jobId: string,
    result: JobResult,
    attempt?: number,
  ): Promise<{ accepted: boolean }> {
    const job = this.current(jobId, attempt);
    if (!job) return { accepted: false };
    const tree = this.tree!;
    const parsed = jobResultSchema.parse(result);
    if (parsed.kind !== expectedResult[job.kind])
      throw new Error(`job ${jobId} is a ${job.kind} job, got a ${parsed.kind} result`);
    // Apply, then mark: the result, the job's end, the tree and the jobs it leads to commit
    // together or not at all; messages and the report go out after (the alarm retries them).
    this.ctx.storage.transactionSync(() => {
      this.machine.apply(tree, job, parsed);
      // The splice's records are accepted with its result: no longer a write to take back.
      if (job.kind === 'splice') this.writes.clear();
    });
    await this.afterChange(tree);
    return { accepted: true };
  }

  /**
   * A consumer could not do the job: retry it with backoff, or after the last attempt record it
   * as failed with the reason (visible in the tree and the run's status, never silent).
   */
  async failJob(jobId: string, reason: string, retryable = true, attempt?: number): Promise<void> {
    return this.guarded(() => this.recordFailure(jobId, reason, retryable, attempt));
  }

  private async recordFailure(
    jobId: string,
    reason: string,
    retryable: boolean,
    attempt?: number,
  ): Promise<void> {
    // A late failure of a superseded attempt does not use up an attempt of the current one.
    if (jobId === 'splice') this.writes.stopped(attempt);
    const job = this.current(jobId, attempt);
    if (!job) return;
    const tree = this.tree!;
    this.ctx.storage.transactionSync(() => this.machine.fail(tree, job, reason, retryable));
    await this.afterChange(tree);
  }

  /**
   * Overdue jobs: one taken whose consumer went silent (killed, hung) uses up its attempt; one
   * never picked up (queued in a backlog, or lost with a restarted stack) has not failed: it is
   * re-sent with backoff, using up nothing (see resendDelayMs).
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    const { timeoutMs } = this.retry;
    for (const job of this.jobs.overdue(now)) {
      const reason = `no result within the deadline (attempt ${job.attempt})`;
      if (job.picked) await this.failJob(job.id, reason, true, job.attempt);
      // One statement per row (the outbox sends it below): nothing to roll back together.
      else if (this.tree && !isFinal(this.tree))
        this.jobs.resend(job.id, now + resendDelayMs(timeoutMs, job.copies + 1) + timeoutMs);
    }
    const tree = this.tree;
    if (tree && !isFinal(tree))
      await this.guarded(async () => this.ctx.storage.transactionSync(() => this.machine.reconcile(tree)));
    if (tree && isFinal(tree)) await this.takeBackWrites(tree).catch(() => {});
    if (tree) await this.afterChange(tree, true);
  }

  /**
   * Stops the task; answers once no splice of it writes and a refused one's records are gone
   * (tree-writes.ts). A tree final already answers its progress (done: its records stay).
   */
  async cancel(reason = 'cancelled'): Promise<TreeProgress | null> {
    const tree = this.tree;
    if (!tree || (isFinal(tree) && tree.status !== 'cancelled')) return tree && this.progress();
    const now = !isFinal(tree);
    if (now) Object.assign(tree, { status: 'cancelled', error: reason });
    if (now) this.saveTree(tree);
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
    await this.takeBackWrites(tree);
    // The ledger asked for this; a report that fails here changes nothing there.
    if (now) await this.reports.report(this.env, tree).catch(() => {});
    return null;
  }

  /** Records of a splice never accepted are removed once it stopped (a failure: the alarm retries). */
  private async takeBackWrites(tree: TreeMeta): Promise<void> {
    const removed = await this.writes.takeBack(() => removeTaskRecords(this.env, tree.runId, tree.task));
    if (!removed) await this.scheduleAlarm(Date.now() + OUTBOX_RETRY_MS);
  }

  /** Live updates for the dashboard: a WebSocket upgrade forwarded by the gateway. */
  override async fetch(request: Request): Promise<Response> {
    return this.live.accept(request, {
      status: this.tree?.status ?? null,
      nodes: this.machine.search?.nodes.length ?? 0,
    });
  }

  /** Closes the live sockets opened with an API token that was just revoked. */
  async closeLiveSockets(holder: string): Promise<number> {
    return this.live.closeHolder(holder);
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    TreeUpdates.closed(ws, code, reason);
  }

  /** What the task waits for: its oldest open job and whether a consumer works on it. */
  async waiting(): Promise<Omit<TaskWait, 'task'> | null> {
    const tree = this.tree;
    if (!tree || isFinal(tree)) return null;
    // When the task started: written once, so read once per activation.
    if (this.since === undefined) this.since = this.meta.get<number>('since');
    return describeWait(tree.status, this.jobs.open(), this.retry.timeoutMs, this.since);
  }

  /** The task's status (null before it started). */
  async status(): Promise<TaskStatus | null> {
    return this.tree?.status ?? null;
  }

  async treeFile(): Promise<TreeFile | null> {
    const tree = this.tree;
    const search = this.machine.search;
    if (!tree || !search) return null;
    this.store.loadTexts();
    return toTreeFile(search, tree.task);
  }

  async progress(): Promise<TreeProgress | null> {
    const tree = this.tree;
    if (!tree) return null;
    const nodes = this.machine.search?.nodes.length ?? 0;
    return treeProgress(tree, nodes, this.jobs.counts().failed, this.jobs.failures());
  }

  /** Shorter deadlines and backoff (tests, or a run that wants them); persisted. */
  async setRetryPolicy(policy: Partial<RetryPolicy>): Promise<void> {
    this.meta.set('retry', policy);
    this.retry = { ...defaultRetryPolicy, ...policy };
  }

  /**
   * The effects of a committed change: live updates, the outbox's messages, the alarm and the
   * report to the RunLedger. A failure here loses nothing: what was not sent or reported is
   * retried by the alarm (set early for that).
   */
  private async afterChange(tree: TreeMeta, forceReport = false): Promise<void> {
    const dirty = this.machine.pendingLive;
    this.machine.pendingLive = [];
    const search = this.machine.search;
    if (search && dirty.length) this.live.nodes(search, dirty, tree.status);
    let retrySoon = false;
    if (!isFinal(tree)) {
      // The alarm first: a process killed while the messages go out (Ctrl-C on a local stack just
      // after a task started) otherwise left committed, unsent jobs and no alarm to send them, and
      // the task waited forever after the restart.
      if (this.alarmAt === null) await this.scheduleAlarm();
      retrySoon = !(await this.outbox.flush(tree.runId, tree.task, this.retry.timeoutMs));
    }
    try {
      await this.reports.report(this.env, tree, forceReport);
    } catch (error) {
      console.error(`task ${tree.runId}/${tree.task}: could not report to the ledger, retrying`, error);
      retrySoon = true;
    }
    await this.scheduleAlarm(retrySoon ? Date.now() + OUTBOX_RETRY_MS : null);
  }

  /**
   * The alarm covers the next job deadline, an outbox retry (`soon`), and while the task is open
   * a periodic invariant check; it is only moved earlier.
   */
  private async scheduleAlarm(soon: number | null = null): Promise<void> {
    const tree = this.tree;
    // A final task's open jobs are dead (a cancel): their deadlines wake nothing.
    const times = [tree && isFinal(tree) ? null : this.jobs.nextDeadline(), soon];
    if (tree && (!isFinal(tree) || this.reports.reported !== tree.status))
      times.push(Date.now() + RECONCILE_MS);
    if (tree && isFinal(tree)) times.push(this.writes.takeBackAt());
    const due = times.filter((t): t is number => t !== null);
    const next = due.length ? Math.min(...due) : null;
    if (next !== null && (this.alarmAt === null || next < this.alarmAt)) {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    }
  }
}

/** How soon the alarm retries a message or report that failed. */
const OUTBOX_RETRY_MS = 1000;
/** While a task is open, its invariants are checked at least this often. */
const RECONCILE_MS = 30_000;
