import { DurableObject } from 'cloudflare:workers';
import type { ExpandJob, JobResult } from '../../../shared/jobs';
import { jobResultSchema } from '../../../shared/jobs';
import type { RunSpec } from '../../../shared/run-spec';
import type { TreeFile } from '../../../shared/tree-file';
import { type CoordinatorBindings, runLedgerStub } from '../../common/env';
import { defaultRetryPolicy, JobTable, type RetryPolicy } from './jobs';
import type { TaskProgress, TaskStatus } from './run-ledger';
import { MetaStore } from './sql';

interface TreeMeta {
  runId: string;
  task: number;
  spec: RunSpec;
  status: TaskStatus;
  firstObservation: string | null;
  rootSnapshot: string | null;
  error: string | null;
  policyCalls: number;
  judgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
}

/**
 * One per (run, task): owns the search tree, the jobs it has handed out and their deadlines.
 * Results are accepted once per job id, so duplicated queue deliveries change nothing.
 */
export class TaskTree extends DurableObject<CoordinatorBindings> {
  private readonly meta: MetaStore;
  private readonly jobs: JobTable;
  private retry: RetryPolicy = defaultRetryPolicy;

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.meta = new MetaStore(ctx.storage.sql);
    this.jobs = new JobTable(ctx.storage.sql);
  }

  private get tree(): TreeMeta | null {
    return this.meta.get<TreeMeta>('tree');
  }

  private saveTree(tree: TreeMeta): void {
    this.meta.set('tree', tree);
  }

  /** Idempotent: the first call seeds the tree by asking for the task's first observation. */
  async start(runId: string, task: number, spec: RunSpec): Promise<void> {
    if (this.tree) return;
    this.saveTree({
      runId,
      task,
      spec,
      status: 'searching',
      firstObservation: null,
      rootSnapshot: null,
      error: null,
      policyCalls: 0,
      judgeCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      revision: 0,
      good: 0,
    });
    await this.dispatch([{ id: 'root', kind: 'root', nodeId: '0' }]);
  }

  /** What a consumer needs to do a job, or null when the job is no longer wanted. */
  async getJob(jobId: string): Promise<ExpandJob | null> {
    const tree = this.tree;
    const job = this.jobs.get(jobId);
    if (!tree || !job || job.status !== 'pending') return null;
    return {
      kind: job.kind === 'root' ? 'root' : 'expand',
      jobId,
      attempt: job.attempt,
      runId: tree.runId,
      task: tree.task,
      spec: tree.spec,
      nodeId: job.node_id,
      path: [],
      snapshot: tree.rootSnapshot,
      firstObservation: tree.firstObservation ?? '',
    };
  }

  /** Accepts a job's result exactly once; returns whether it was used. */
  async completeJob(jobId: string, result: JobResult): Promise<{ accepted: boolean }> {
    const tree = this.tree;
    const job = this.jobs.get(jobId);
    if (!tree || !job || job.status !== 'pending') return { accepted: false };
    const parsed = jobResultSchema.parse(result);
    this.jobs.finish(jobId, 'done');
    if (parsed.kind === 'root') {
      tree.firstObservation = parsed.observation;
      tree.rootSnapshot = parsed.snapshot;
      tree.status = 'done';
    }
    this.saveTree(tree);
    await this.report();
    return { accepted: true };
  }

  /**
   * A consumer could not do the job: retry it with backoff, or after the last attempt record it
   * as failed with the reason (visible in the run's status, never silent).
   */
  async failJob(jobId: string, reason: string, retryable = true): Promise<void> {
    const tree = this.tree;
    const job = this.jobs.get(jobId);
    if (!tree || !job || job.status !== 'pending') return;
    if (retryable && job.attempt < this.retry.maxAttempts) {
      const attempt = job.attempt + 1;
      this.jobs.retry(jobId, attempt, Date.now() + this.retry.timeoutMs, reason);
      await this.send(jobId, attempt, this.retry.backoffMs * 2 ** (attempt - 2));
      await this.scheduleAlarm();
      return;
    }
    this.jobs.finish(jobId, 'failed', reason);
    if (job.kind === 'root') {
      tree.status = 'failed';
      tree.error = `could not start the task: ${reason}`;
    }
    this.saveTree(tree);
    await this.report();
  }

  /** Jobs whose consumer never answered (a lost message, a killed process) are re-sent or failed. */
  override async alarm(): Promise<void> {
    for (const job of this.jobs.overdue(Date.now())) {
      await this.failJob(job.id, `no result within ${this.retry.timeoutMs} ms (attempt ${job.attempt})`);
    }
    await this.scheduleAlarm();
  }

  async treeFile(): Promise<TreeFile | null> {
    const tree = this.tree;
    if (!tree || tree.firstObservation === null) return null;
    return {
      task: tree.task,
      root: {
        id: '0',
        depth: 0,
        response: '',
        action: '',
        observation: tree.firstObservation,
        reward: 0,
        done: false,
        terminal: false,
        visits: 0,
        value: 0,
        judgement: null,
        children: [],
      },
    };
  }

  async progress(): Promise<TaskProgress | null> {
    const tree = this.tree;
    if (!tree) return null;
    return {
      status: tree.status,
      nodes: tree.firstObservation === null ? 0 : 1,
      policyCalls: tree.policyCalls,
      judgeCalls: tree.judgeCalls,
      promptTokens: tree.promptTokens,
      completionTokens: tree.completionTokens,
      revision: tree.revision,
      good: tree.good,
      failedJobs: this.jobs.counts().failed,
      error: tree.error,
    };
  }

  /** For tests: shorter deadlines. */
  async setRetryPolicy(policy: Partial<RetryPolicy>): Promise<void> {
    this.retry = { ...this.retry, ...policy };
  }

  private async dispatch(jobs: { id: string; kind: 'root' | 'expand'; nodeId: string }[]): Promise<void> {
    const deadline = Date.now() + this.retry.timeoutMs;
    for (const job of jobs) {
      if (this.jobs.add(job.id, job.kind, job.nodeId, deadline)) await this.send(job.id, 1, 0);
    }
    await this.scheduleAlarm();
  }

  private async send(jobId: string, attempt: number, delayMs: number): Promise<void> {
    const tree = this.tree!;
    const delaySeconds = Math.ceil(Math.max(0, delayMs) / 1000);
    await this.env.EXPAND.send(
      { type: 'expand', runId: tree.runId, task: tree.task, jobId, attempt },
      delaySeconds > 0 ? { delaySeconds } : undefined,
    );
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.jobs.nextDeadline();
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }

  private async report(): Promise<void> {
    const tree = this.tree;
    const progress = await this.progress();
    if (!tree || !progress) return;
    await runLedgerStub(this.env, tree.runId).reportTask(tree.task, progress);
  }
}
