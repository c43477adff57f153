import { DurableObject } from 'cloudflare:workers';
import type { TaskTreeApi } from '../../common/durable-objects';
import type { AnyJob, EnvCostCounts, JobResult, JobResultOf } from '../../../shared/contracts/jobs';
import { jobResultSchema } from '../../../shared/contracts/jobs';
import {
  applyExpansion,
  failExpansion,
  inFlightExpansions,
  isComplete,
  mixSeeds,
  nextExpansions as nextExpansionsOf,
  type PathStep,
  pathSteps,
  type SearchState,
  setJudgement,
  toTreeFile,
} from '../../../shared/mcts';
import type { JobMessage } from '../../../shared/contracts/messages';
import {
  collectTaskPairs,
  earlyJudgeFrontier,
  judgeInputsOnPath,
  nodesAwaitingJudgement,
  type PairJudgements,
  pairJudgeFrontier,
  pairKeyOfJob,
  uniqueBadPaths,
} from '../../../shared/revision';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import type { Judgement, TreeFile } from '../../../shared/contracts/tree-file';

type JudgementValue = Exclude<Judgement, null>;
import { type CoordinatorBindings, jobQueues, runLedgerStub } from '../../common/env';
import { defaultRetryPolicy, JobTable, type JobRow, type RetryPolicy } from './jobs';
import type { TaskProgress, TaskStatus, TaskWait } from '../../../shared/contracts/run-view';
import { SearchStore } from './search-store';
import { MetaStore } from './sql';
import { TreeUpdates } from './tree-updates';
import { describeWait } from './waits';

interface TreeMeta {
  runId: string;
  task: number;
  spec: RunSpec;
  status: TaskStatus;
  error: string | null;
  policyCalls: number;
  judgeCalls: number;
  referenceJudgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
  pairs: number;
  /** Steps replayed before the search (`startFrom`); prepended to every expansion's path. */
  prefix: PathStep[];
  /** Env resets and steps of the root and expand jobs, and how many expansions (absent in old trees). */
  envResets?: number;
  envSteps?: number;
  expansions?: number;
  /** Context-length refusals answered by shrinking a prompt (older trees: absent). */
  contextRetries?: number;
  /** How prompts were counted (the last job's answer). */
  tokenizer?: string;
  /** The model ids the policy's and the judge's servers reported (the last job's answer). */
  policyModel?: string;
  judgeModel?: string;
}

type JobKind = JobRow['kind'];

/**
 * One per (run, task): owns the search tree and every job it hands out (expand, judge, splice)
 * with deadlines and attempts. Results are accepted once per job id, so duplicated queue
 * deliveries and late results change nothing; overdue jobs are re-sent by the alarm.
 */
export class TaskTree extends DurableObject<CoordinatorBindings> implements TaskTreeApi {
  private readonly meta: MetaStore;
  private readonly jobs: JobTable;
  private readonly store: SearchStore;
  private search: SearchState | null = null;
  private retry: RetryPolicy = defaultRetryPolicy;
  /** Messages sent since this object started (spreads jobs over their queue's shards). */
  private sent = 0;
  /** The tree's meta row, read once and then kept in step with every write. */
  private treeCache: TreeMeta | null | undefined;
  /** The alarm this object last set (null: none known); re-set only for an earlier deadline. */
  private alarmAt: number | null = null;
  /** When the RunLedger last heard from this tree, and in which status. */
  private lastReport = { at: 0, status: '' };
  /** Node ids changed by the last committed change, sent to live sockets after the commit. */
  private pendingLive: string[] = [];
  /** The bad paths to judge: fixed once the search is complete (pairs do not depend on verdicts). */
  private badPathsCache: { id: string }[][] | null = null;
  /** Dashboard sockets (hibernatable): changed nodes go out after every applied result. */
  private readonly live = new TreeUpdates(this.ctx);

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.meta = new MetaStore(ctx.storage.sql);
    this.jobs = new JobTable(ctx.storage.sql);
    this.store = new SearchStore(ctx.storage.sql, this.meta);
    this.retry = { ...defaultRetryPolicy, ...(this.meta.get<Partial<RetryPolicy>>('retry') ?? {}) };
    ctx.blockConcurrencyWhile(async () => {
      this.search = this.store.load();
    });
  }

  private get tree(): TreeMeta | null {
    if (this.treeCache === undefined) this.treeCache = this.meta.get<TreeMeta>('tree');
    return this.treeCache;
  }

  private saveTree(tree: TreeMeta): void {
    this.treeCache = tree;
    this.meta.set('tree', tree);
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
      this.treeCache = undefined;
      this.badPathsCache = null;
      this.search = this.store.load();
      this.jobs.reload();
      this.pendingLive = [];
      throw error;
    }
  }

  /** Idempotent: the first call seeds the tree by asking for the task's first observation. */
  async start(runId: string, task: number, spec: RunSpec): Promise<void> {
    if (this.tree) return;
    this.ctx.storage.transactionSync(() => {
      this.startSync(runId, task, spec);
    });
    await this.afterChange(this.tree!);
  }

  private startSync(runId: string, task: number, spec: RunSpec): void {
    this.saveTree({
      runId,
      task,
      spec,
      status: 'searching',
      error: null,
      policyCalls: 0,
      judgeCalls: 0,
      referenceJudgeCalls: 0,
      promptTokens: 0,
      completionTokens: 0,
      revision: 0,
      good: 0,
      pairs: 0,
      prefix: [],
    });
    this.meta.set('retry', { timeoutMs: spec.jobTimeoutMs });
    this.meta.set('since', Date.now());
    this.retry = { ...defaultRetryPolicy, timeoutMs: spec.jobTimeoutMs };
    this.addJobs([{ id: 'root', kind: 'root', nodeId: '0' }]);
  }

  /** What a consumer needs to do a job, or null when the job is no longer wanted. */
  async getJob(jobId: string): Promise<AnyJob | null> {
    const tree = this.tree;
    const job = this.jobs.get(jobId);
    if (!tree || !job || job.status !== 'pending' || this.isFinal(tree)) return null;
    const base = { jobId, attempt: job.attempt, runId: tree.runId, task: tree.task, spec: tree.spec };
    if (job.kind === 'root') return { ...base, kind: 'root', nodeId: '0', path: [], snapshot: null };
    const search = this.search!;
    if (job.kind === 'expand') {
      // Steps replayed from `startFrom` come between the root and the tree's own steps.
      const [root, ...steps] = pathSteps(search, job.node_id);
      return {
        ...base,
        kind: 'expand',
        nodeId: job.node_id,
        path: [root!, ...(tree.prefix ?? []), ...steps],
        snapshot: this.store.snapshot(job.node_id),
      };
    }
    if (job.kind === 'judge') {
      // The judged step's own path is all it needs (no whole-tree copy per judge call).
      const inputs = judgeInputsOnPath(
        job.node_id,
        pathSteps(search, job.node_id),
        search.nodes[0]!.observation,
      );
      return {
        ...base,
        kind: 'judge',
        nodeId: job.node_id,
        taskDescription: inputs.taskDescription,
        ...(pairKeyOfJob(jobId) ? { pairKey: pairKeyOfJob(jobId) } : {}),
        // The replayed `startFrom` steps are part of the judged step's history too.
        history: [
          ...(tree.prefix ?? []).map(({ action, observation }) => ({ action, observation })),
          ...inputs.history,
        ],
        current: inputs.current,
      };
    }
    return {
      ...base,
      kind: 'splice',
      tree: toTreeFile(search, tree.task),
      firstObservation: search.nodes[0]!.observation,
      feedback: this.store.feedback(),
      prefix: tree.prefix ?? [],
      models: {
        ...(tree.policyModel ? { policy: tree.policyModel } : {}),
        ...(tree.judgeModel ? { judge: tree.judgeModel } : {}),
      },
      ...(tree.spec.judgeSampling === 'per-pair' ? { pairJudgements: this.pairJudgements() } : {}),
    };
  }

  /**
   * Accepts a job's result exactly once; returns whether it was used. `attempt` (when given) must
   * be the job's current attempt: a superseded attempt's result is ignored. A result that cannot
   * be applied (it broke a storage limit, it is malformed) counts as a failed attempt with the
   * reason, so it is retried and finally recorded; the job is never lost.
   */
  async completeJob(jobId: string, result: JobResult, attempt?: number): Promise<{ accepted: boolean }> {
    try {
      return await this.guarded(() => this.applyResult(jobId, result, attempt));
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
    if (!tree || !job || job.status !== 'pending' || this.isFinal(tree)) return null;
    if (attempt !== undefined && attempt !== job.attempt) return null;
    return job;
  }

  /**
   * Whether this attempt is still wanted; if so its deadline moves on (a consumer's heartbeat
   * while it waits for a slot or a slow endpoint), so the job is not re-sent under it.
   */
  async keepAlive(jobId: string, attempt: number): Promise<boolean> {
    if (!this.current(jobId, attempt)) return false;
    this.jobs.extend(jobId, Date.now() + this.retry.timeoutMs);
    return true;
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
      this.applySync(tree, jobId, job, parsed);
      this.jobs.finish(jobId, 'done');
      this.advanceSync(tree);
    });
    await this.afterChange(tree);
    return { accepted: true };
  }

  private applySync(tree: TreeMeta, jobId: string, job: JobRow, parsed: JobResult): void {
    switch (parsed.kind) {
      case 'root':
        this.onRoot(tree, parsed);
        break;
      case 'expand':
        this.onExpanded(tree, jobId, parsed);
        break;
      case 'judge':
        tree.judgeCalls += 1;
        tree.promptTokens += parsed.usage.promptTokens;
        tree.completionTokens += parsed.usage.completionTokens;
        noteFit(tree, parsed);
        if (parsed.model) tree.judgeModel = parsed.model;
        this.storeJudgement(jobId, job.node_id, parsed.judgement, parsed.feedback);
        break;
      case 'splice': {
        tree.revision = parsed.revision;
        tree.good = parsed.good;
        tree.pairs = parsed.pairs;
        tree.referenceJudgeCalls = parsed.referenceJudgeCalls;
        tree.status = 'done';
        const failures = this.jobs.failures();
        // A finished task with failed jobs says so (the manifest lists it under failures).
        if (failures.length && !tree.error)
          tree.error = `${failures.length} jobs failed; first: ${failures[0]!.reason}`;
        break;
      }
    }
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
    const job = this.current(jobId, attempt);
    if (!job) return;
    const tree = this.tree!;
    this.ctx.storage.transactionSync(() => this.failSync(tree, job, reason, retryable));
    await this.afterChange(tree);
  }

  private failSync(tree: TreeMeta, job: JobRow, reason: string, retryable: boolean): void {
    const jobId = job.id;
    if (retryable && job.attempt < this.retry.maxAttempts) {
      const attempt = job.attempt + 1;
      const delay = this.retry.backoffMs * 2 ** (attempt - 2);
      const now = Date.now();
      this.jobs.retry(jobId, attempt, now + delay + this.retry.timeoutMs, reason, now);
      return;
    }
    this.jobs.finish(jobId, 'failed', reason);
    const search = this.search;
    if (job.kind === 'root') {
      tree.status = 'failed';
      tree.error = `could not start the task: ${reason}`;
    } else if (job.kind === 'expand' && search) {
      failExpansion(search, jobId, reason);
    } else if (job.kind === 'judge' && search) {
      // A step the critic could not judge is marked failed (not Uncertain), with the reason kept;
      // the run counts it as a judge failure and says so.
      this.storeJudgement(jobId, job.node_id, 'failed', `judge failed: ${reason}`);
    } else if (job.kind === 'splice') {
      tree.status = 'failed';
      tree.error = `could not write the task's records: ${reason}`;
    }
    this.advanceSync(tree);
  }

  /** Jobs whose consumer never answered (a lost message, a killed process) are re-sent or failed. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    for (const job of this.jobs.overdue(Date.now())) {
      await this.failJob(job.id, `no result within the deadline (attempt ${job.attempt})`, true, job.attempt);
    }
    const tree = this.tree;
    if (tree && !this.isFinal(tree)) await this.guarded(async () => this.reconcile(tree));
    if (tree) await this.afterChange(tree, true);
  }

  /**
   * The invariants a crash between two steps could break, checked on every alarm: every
   * expanding descent has a pending job (else it is dispatched again, or failed with the reason
   * if its job ended), and a task that still searches has something in flight.
   */
  private reconcile(tree: TreeMeta): void {
    const search = this.search;
    this.ctx.storage.transactionSync(() => {
      if (search) {
        for (const request of inFlightExpansions(search)) {
          const row = this.jobs.get(request.jobId);
          if (!row) this.addJobs([{ id: request.jobId, kind: 'expand', nodeId: request.nodeId }]);
          else if (row.status !== 'pending')
            failExpansion(
              search,
              request.jobId,
              `job ${request.jobId} ended (${row.status}) without its result applied`,
            );
        }
      }
      this.advanceSync(tree);
      if (this.jobs.counts().pending === 0 && !this.isFinal(tree)) {
        tree.error = `nothing left in flight while ${tree.status}: the task is wedged`;
        tree.status = 'failed';
        this.saveTree(tree);
      }
    });
  }

  async cancel(reason = 'cancelled'): Promise<void> {
    const tree = this.tree;
    if (!tree || this.isFinal(tree)) return;
    tree.status = 'cancelled';
    tree.error = reason;
    this.saveTree(tree);
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
    // The ledger asked for this; a report that fails here changes nothing there.
    await this.report(tree).catch(() => {});
  }

  /** Live updates for the dashboard: a WebSocket upgrade forwarded by the gateway. */
  override async fetch(request: Request): Promise<Response> {
    return this.live.accept(request, {
      status: this.tree?.status ?? null,
      nodes: this.search?.nodes.length ?? 0,
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
    if (!tree || this.isFinal(tree)) return null;
    return describeWait(tree.status, this.jobs.open(), this.retry.timeoutMs, this.meta.get<number>('since'));
  }

  /** The task's status (null before it started). */
  async status(): Promise<TaskStatus | null> {
    return this.tree?.status ?? null;
  }

  async treeFile(): Promise<TreeFile | null> {
    const tree = this.tree;
    return tree && this.search ? toTreeFile(this.search, tree.task) : null;
  }

  async progress(): Promise<
    | (TaskProgress & {
        referenceJudgeCalls: number;
        pairs: number;
        failures: { id: string; reason: string | null }[];
      })
    | null
  > {
    const tree = this.tree;
    if (!tree) return null;
    return {
      status: tree.status,
      nodes: this.search?.nodes.length ?? 0,
      policyCalls: tree.policyCalls,
      judgeCalls: tree.judgeCalls,
      promptTokens: tree.promptTokens,
      completionTokens: tree.completionTokens,
      revision: tree.revision,
      good: tree.good,
      failedJobs: this.jobs.counts().failed,
      error: tree.error,
      referenceJudgeCalls: tree.referenceJudgeCalls,
      pairs: tree.pairs,
      failures: this.jobs.failures().map((f) => ({ id: f.id, reason: f.reason })),
      envResets: tree.envResets ?? 0,
      envSteps: tree.envSteps ?? 0,
      expansions: tree.expansions ?? 0,
      judgeFailures: this.jobs.failures().filter((f) => f.id.startsWith('judge:')).length,
      contextRetries: tree.contextRetries ?? 0,
      tokenizer: tree.tokenizer ?? null,
      policyModel: tree.policyModel ?? null,
      judgeModel: tree.judgeModel ?? null,
    };
  }

  /** Shorter deadlines and backoff (tests, or a run that wants them); persisted. */
  async setRetryPolicy(policy: Partial<RetryPolicy>): Promise<void> {
    this.meta.set('retry', policy);
    this.retry = { ...defaultRetryPolicy, ...policy };
  }

  private isFinal(tree: TreeMeta): boolean {
    return tree.status === 'done' || tree.status === 'failed' || tree.status === 'cancelled';
  }

  private onRoot(tree: TreeMeta, result: JobResultOf<'root'>): void {
    const { spec } = tree;
    this.search = this.store.create(
      {
        iterations: spec.iterations,
        width: spec.width,
        maxDepth: spec.depth,
        c: spec.c,
        parallelism: spec.parallelism,
        seed: mixSeeds(spec.seed, tree.task),
      },
      result.observation,
    );
    if (result.snapshot !== null) this.store.putSnapshot('0', result.snapshot);
    tree.prefix = result.prefix;
    addEnvCost(tree, result.envCost);
  }

  private onExpanded(tree: TreeMeta, jobId: string, result: JobResultOf<'expand'>): void {
    const search = this.search!;
    const before = search.nodes.length;
    tree.policyCalls += result.policyCalls;
    addEnvCost(tree, result.envCost);
    tree.expansions = (tree.expansions ?? 0) + 1;
    tree.promptTokens += result.usage.promptTokens;
    tree.completionTokens += result.usage.completionTokens;
    noteFit(tree, result);
    if (result.model) tree.policyModel = result.model;
    applyExpansion(search, jobId, result.children);
    // New nodes are the distinct responses in order: attach each one's env snapshot.
    for (const node of search.nodes.slice(before)) {
      const snapshot = result.children.find((c) => c.response === node.response)?.snapshot ?? null;
      if (snapshot !== null && !node.terminal) this.store.putSnapshot(node.id, snapshot);
    }
  }

  private persist(tree: TreeMeta): void {
    this.saveTree(tree);
    if (this.search) this.pendingLive.push(...this.search.dirty);
    if (this.search) this.store.save(this.search);
  }

  /**
   * Moves the task on: more expansions, then judgements, then the splice, then done. Synchronous
   * (inside the caller's transaction): the new jobs are rows of the outbox, sent by afterChange.
   */
  private advanceSync(tree: TreeMeta): void {
    const search = this.search;
    const jobs: { id: string; kind: JobKind; nodeId: string }[] = [];
    if (tree.status === 'searching' && search) {
      const requests = nextExpansionsOf(search);
      jobs.push(...requests.map((r) => ({ id: r.jobId, kind: 'expand' as const, nodeId: r.nodeId })));
      jobs.push(...this.earlyJudgeJobs(tree, search));
      if (isComplete(search)) {
        const rootError = search.nodes[0]!.error;
        // Nothing could be expanded at all: the task failed (the reason is the root's).
        if (rootError !== null) {
          tree.status = 'failed';
          tree.error = `the search could not start: ${rootError}`;
        } else {
          tree.status = 'critiquing';
        }
      }
    }
    if (tree.status === 'critiquing' && search) {
      const frontier =
        tree.spec.judgeSampling === 'per-pair' && tree.spec.transition !== 'end'
          ? this.pairFrontier(tree, search)
          : this.judgeFrontier(tree, search).map(judgeJob);
      // dispatch() skips ids it has seen, so a judge already on its way is not sent twice.
      jobs.push(...frontier);
      if (frontier.length === 0) {
        tree.status = 'splicing';
        jobs.push({ id: 'splice', kind: 'splice', nodeId: '0' });
      }
    }
    // One write of the tree and its changed nodes per result, and the jobs it leads to.
    this.persist(tree);
    this.addJobs(jobs);
  }

  /**
   * Judge jobs for the bad paths found so far, while the search runs (`judgeDuringSearch`): the
   * same steps the critique would judge after the search, sent as soon as they are known.
   */
  private earlyJudgeJobs(tree: TreeMeta, search: SearchState): ReturnType<typeof judgeJob>[] {
    const { spec } = tree;
    if (!spec.judgeDuringSearch || spec.transition === 'end' || spec.maxPairsPerTask !== undefined) return [];
    if (spec.judgeSampling === 'per-pair') return [];
    const thresholds = { alpha: spec.alpha, beta: spec.beta };
    return earlyJudgeFrontier(search.nodes, thresholds, spec.judgeLookahead ?? 1).map(judgeJob);
  }

  /**
   * A verdict: on the node (per-node, shared by every pair through it) or, for a per-pair job, in
   * that pair's own verdicts (feedback keyed "pair:node").
   */
  private storeJudgement(jobId: string, nodeId: string, judgement: JudgementValue, feedback: string): void {
    const pairKey = pairKeyOfJob(jobId);
    if (pairKey === undefined) {
      setJudgement(this.search!, nodeId, judgement);
      this.store.putFeedback(nodeId, feedback);
      return;
    }
    const all = this.pairJudgements();
    all[pairKey] = { ...(all[pairKey] ?? {}), [nodeId]: judgement };
    this.meta.set('pairJudgements', all);
    this.store.putFeedback(`${pairKey}:${nodeId}`, feedback);
  }

  private pairJudgements(): PairJudgements {
    return this.meta.get<PairJudgements>('pairJudgements') ?? {};
  }

  /** Per-pair judging: the next step of every unresolved pair, judged after the search. */
  private pairFrontier(tree: TreeMeta, search: SearchState): { id: string; kind: 'judge'; nodeId: string }[] {
    const { pairs } = collectTaskPairs(toTreeFile(search, tree.task), {
      alpha: tree.spec.alpha,
      beta: tree.spec.beta,
      seed: tree.spec.seed,
      maxPairsPerTask: tree.spec.maxPairsPerTask,
    });
    return pairJudgeFrontier(pairs, this.pairJudgements()).map((j) => ({ ...j, kind: 'judge' as const }));
  }

  /** Steps still to judge (in order along each bad path that takes part in a pair). */
  private judgeFrontier(tree: TreeMeta, search: SearchState): string[] {
    if (tree.spec.transition === 'end') return [];
    const treeFile = toTreeFile(search, tree.task);
    if (!this.badPathsCache) {
      const { pairs } = collectTaskPairs(treeFile, {
        alpha: tree.spec.alpha,
        beta: tree.spec.beta,
        seed: tree.spec.seed,
        maxPairsPerTask: tree.spec.maxPairsPerTask,
      });
      this.badPathsCache = uniqueBadPaths(pairs).map((path) => path.nodes.map((n) => ({ id: n.id })));
    }
    // Specs stored before judgeLookahead existed judge one step at a time.
    const block = tree.spec.judgeLookahead ?? 1;
    return nodesAwaitingJudgement(treeFile, this.badPathsCache, block).map((n) => n.id);
  }

  /** New pending jobs (dispatch() skips ids it has seen: a job on its way is not sent twice). */
  private addJobs(jobs: { id: string; kind: JobKind; nodeId: string }[]): void {
    const now = Date.now();
    const deadline = now + this.retry.timeoutMs;
    for (const job of jobs) this.jobs.add(job.id, job.kind, job.nodeId, deadline, now);
  }

  /**
   * The effects of a committed change: live updates, the outbox's messages, the alarm and the
   * report to the RunLedger. A failure here loses nothing: what was not sent or reported is
   * retried by the alarm (set early for that).
   */
  private async afterChange(tree: TreeMeta, forceReport = false): Promise<void> {
    const dirty = this.pendingLive;
    this.pendingLive = [];
    if (this.search && dirty.length) this.live.nodes(this.search, dirty, tree.status);
    let retrySoon = false;
    if (!this.isFinal(tree)) {
      // The alarm first: a process killed while the messages go out (Ctrl-C on a local stack just
      // after a task started) otherwise left committed, unsent jobs and no alarm to send them, and
      // the task waited forever after the restart.
      if (this.alarmAt === null) await this.scheduleAlarm();
      for (const job of this.jobs.unsent()) {
        try {
          const delay = Math.max(0, job.deadline - this.retry.timeoutMs - Date.now());
          await this.send(job.id, job.kind, job.attempt, delay);
          this.jobs.markSent(job.id, job.attempt);
        } catch (error) {
          console.error(`task ${tree.runId}/${tree.task}: queue.send failed, the alarm re-sends`, error);
          retrySoon = true;
          break;
        }
      }
    }
    try {
      await this.report(tree, forceReport);
    } catch (error) {
      console.error(`task ${tree.runId}/${tree.task}: could not report to the ledger, retrying`, error);
      retrySoon = true;
    }
    await this.scheduleAlarm(retrySoon ? Date.now() + OUTBOX_RETRY_MS : null);
  }

  private async send(jobId: string, kind: JobKind, attempt: number, delayMs: number): Promise<void> {
    const tree = this.tree!;
    const base = { runId: tree.runId, task: tree.task, jobId, attempt };
    const message: JobMessage =
      kind === 'judge'
        ? { type: 'critique', ...base }
        : kind === 'splice'
          ? { type: 'splice', ...base }
          : { type: 'expand', ...base };
    const queue = this.shardedQueue(kind === 'judge' ? 'critique' : kind === 'splice' ? 'splice' : 'expand');
    const delaySeconds = Math.ceil(Math.max(0, delayMs) / 1000);
    await queue.send(message, delaySeconds > 0 ? { delaySeconds } : undefined);
  }

  /** Jobs go round the bound shards of their kind, so no single local queue limits throughput. */
  private shardedQueue(kind: 'expand' | 'critique' | 'splice'): Queue<JobMessage> {
    const queues = jobQueues(this.env, kind);
    this.sent += 1;
    return queues[this.sent % queues.length]!;
  }

  /**
   * The alarm covers the next job deadline, an outbox retry (`soon`), and while the task is open
   * a periodic invariant check; it is only moved earlier.
   */
  private async scheduleAlarm(soon: number | null = null): Promise<void> {
    const tree = this.tree;
    const times = [this.jobs.nextDeadline(), soon];
    if (tree && (!this.isFinal(tree) || this.meta.get<string>('reported') !== tree.status))
      times.push(Date.now() + RECONCILE_MS);
    const due = times.filter((t): t is number => t !== null);
    const next = due.length ? Math.min(...due) : null;
    if (next !== null && (this.alarmAt === null || next < this.alarmAt)) {
      await this.ctx.storage.setAlarm(next);
      this.alarmAt = next;
    }
  }

  /**
   * Tells the RunLedger how the task stands: at once when the status changes, otherwise at most
   * once per REPORT_INTERVAL_MS (counters of a searching tree change with every result).
   */
  private async report(tree: TreeMeta, force = false): Promise<void> {
    const now = Date.now();
    const reported = this.meta.get<string>('reported');
    if (!force && tree.status === reported && now - this.lastReport.at < REPORT_INTERVAL_MS) return;
    if (force && tree.status === reported && this.isFinal(tree)) return;
    const progress = await this.progress();
    if (!progress) return;
    await runLedgerStub(this.env, tree.runId).reportTask(tree.task, progress);
    // Marked only once the ledger has it: a failed report is sent again by the alarm.
    this.lastReport = { at: now, status: tree.status };
    this.meta.set('reported', tree.status);
  }
}

const REPORT_INTERVAL_MS = 1000;
/** How soon the alarm retries a message or report that failed. */
const OUTBOX_RETRY_MS = 1000;
/** While a task is open, its invariants are checked at least this often. */
const RECONCILE_MS = 30_000;

/** One judge job per node: the id makes a step judged once, whichever phase asks for it. */
function judgeJob(nodeId: string): { id: string; kind: 'judge'; nodeId: string } {
  return { id: `judge:${nodeId}`, kind: 'judge', nodeId };
}

const expectedResult: Record<JobKind, JobResult['kind']> = {
  root: 'root',
  expand: 'expand',
  judge: 'judge',
  splice: 'splice',
};

function addEnvCost(tree: TreeMeta, cost: EnvCostCounts | undefined): void {
  tree.envResets = (tree.envResets ?? 0) + (cost?.resets ?? 0);
  tree.envSteps = (tree.envSteps ?? 0) + (cost?.steps ?? 0);
}

/** Tallies how a job's prompt was fitted (context retries, the tokenizer used). */
function noteFit(tree: TreeMeta, result: { contextRetries?: number; tokenizer?: string }): void {
  tree.contextRetries = (tree.contextRetries ?? 0) + (result.contextRetries ?? 0);
  if (result.tokenizer) tree.tokenizer = result.tokenizer;
}
