import type { JobResult, JobResultOf } from '../../../shared/contracts/jobs';
import type { RunSpec } from '../../../shared/contracts/run-spec';
import {
  applyExpansion,
  failExpansion,
  inFlightExpansions,
  isComplete,
  mixSeeds,
  nextExpansions as nextExpansionsOf,
  type SearchState,
} from '../../../shared/mcts';
import type { Critique } from './critique';
import type { JobRow, JobTable, RetryPolicy } from './jobs';
import type { SearchStore } from './search-store';
import type { MetaStore } from './sql';
import {
  addEnvCost,
  isFinal,
  type JobKind,
  noteFit,
  taskSpec,
  type TreeMeta,
  type TreeRecord,
} from './tree-meta';

export interface MachineDeps {
  meta: MetaStore;
  jobs: JobTable;
  store: SearchStore;
  record: TreeRecord;
  critique: Critique;
  retry(): RetryPolicy;
  setRetry(policy: Partial<RetryPolicy>): void;
  /** Saves the status row and `also` (and tells live watchers when the status changed). */
  saveTree(tree: TreeMeta, also?: { key: string; value: unknown }[]): void;
}

/**
 * A TaskTree's state changes, each synchronous so the caller runs it inside one storage
 * transaction: a result applied, a failure recorded, the invariants reconciled, and after each the
 * task moved on (expansions, then judgements, then the splice, then done). New jobs are rows of
 * the outbox; the TaskTree sends them once the change has committed.
 */
export class TreeMachine {
  search: SearchState | null = null;
  /** Node ids changed by the last committed change, sent to live sockets after the commit. */
  pendingLive: string[] = [];

  constructor(private readonly deps: MachineDeps) {}

  private get jobs(): JobTable {
    return this.deps.jobs;
  }
  private get store(): SearchStore {
    return this.deps.store;
  }
  private get record(): TreeRecord {
    return this.deps.record;
  }
  private get critique(): Critique {
    return this.deps.critique;
  }
  private get meta(): MetaStore {
    return this.deps.meta;
  }
  private get retry(): RetryPolicy {
    return this.deps.retry();
  }
  private saveTree(tree: TreeMeta, also?: { key: string; value: unknown }[]): void {
    this.deps.saveTree(tree, also);
  }

  /** The first change of a task: its record, and the root job (inside one transaction). */
  start(runId: string, task: number, spec: RunSpec): void {
    // The task's own spec, stored once: results rewrite only the small status row.
    this.record.setSpec(taskSpec(spec, task));
    this.saveTree({
      runId,
      task,
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
    });
    this.deps.setRetry({ timeoutMs: spec.jobTimeoutMs });
    this.meta.set('since', Date.now());
    this.addJobs([{ id: 'root', kind: 'root', nodeId: '0' }]);
  }

  /** A job's result applied, the job marked done, the task moved on (inside one transaction). */
  apply(tree: TreeMeta, job: JobRow, parsed: JobResult): void {
    const jobId = job.id;
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
        noteFit(tree, parsed, 'judge');
        this.critique.record(this.search!, jobId, job.node_id, parsed.judgement, parsed.feedback);
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
    this.jobs.finish(jobId, 'done');
    this.advance(tree);
  }

  /**
   * A failed attempt: the job is retried with backoff, or after its last attempt recorded as
   * failed with the reason (visible in the tree and the run's status, never silent).
   */
  fail(tree: TreeMeta, job: JobRow, reason: string, retryable: boolean): void {
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
      this.critique.record(search, jobId, job.node_id, 'failed', `judge failed: ${reason}`);
    } else if (job.kind === 'splice') {
      tree.status = 'failed';
      tree.error = `could not write the task's records: ${reason}`;
    }
    this.advance(tree);
  }

  /**
   * The invariants a crash between two steps could break, checked on every alarm: every
   * expanding descent has a pending job (else it is dispatched again, or failed with the reason
   * if its job ended), a splicing task has its splice job, and a task that is not final has
   * something in flight (else it is failed: "wedged", with the reason).
   */
  reconcile(tree: TreeMeta): void {
    const search = this.search;
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
    // A splicing task whose splice job row is gone gets it back (a re-splice replaces, never adds).
    if (tree.status === 'splicing' && !this.jobs.get('splice'))
      this.addJobs([{ id: 'splice', kind: 'splice', nodeId: '0' }]);
    this.advance(tree);
    if (this.jobs.counts().pending === 0 && !isFinal(tree)) {
      const splice = tree.status === 'splicing' ? this.jobs.get('splice') : null;
      const why = splice ? ` (its splice job ended ${splice.status} without its result applied)` : '';
      tree.error = `nothing left in flight while ${tree.status}: the task is wedged${why}`;
      tree.status = 'failed';
      this.saveTree(tree);
    }
  }

  private onRoot(tree: TreeMeta, result: JobResultOf<'root'>): void {
    const { spec } = this.record;
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
      result.snapshot,
    );
    this.record.setPrefix(result.prefix);
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
    noteFit(tree, result, 'policy');
    applyExpansion(search, jobId, result.children);
    // New nodes are the distinct responses in order: attach each one's env snapshot.
    const snapshots: { nodeId: string; snapshot: string }[] = [];
    for (const node of search.nodes.slice(before)) {
      const snapshot = result.children.find((c) => c.response === node.response)?.snapshot ?? null;
      if (snapshot !== null && !node.terminal) snapshots.push({ nodeId: node.id, snapshot });
    }
    this.store.putSnapshots(snapshots);
  }

  /** The new nodes' rows, then the status row and the search's meta in one statement. */
  private persist(tree: TreeMeta): void {
    const search = this.search;
    if (search) this.pendingLive.push(...search.dirty);
    this.saveTree(tree, search ? [this.store.save(search)] : []);
  }

  /**
   * Moves the task on: more expansions, then judgements, then the splice, then done. Synchronous
   * (inside the caller's transaction): the new jobs are rows of the outbox, sent by afterChange.
   */
  advance(tree: TreeMeta): void {
    const search = this.search;
    const jobs: { id: string; kind: JobKind; nodeId: string }[] = [];
    if (tree.status === 'searching' && search) {
      const requests = nextExpansionsOf(search);
      jobs.push(...requests.map((r) => ({ id: r.jobId, kind: 'expand' as const, nodeId: r.nodeId })));
      jobs.push(...this.critique.earlyJobs(this.record.spec, search));
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
      const frontier = this.critique.frontier(this.record.spec, tree.task, search);
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

  /** New pending jobs (dispatch() skips ids it has seen: a job on its way is not sent twice). */
  addJobs(jobs: { id: string; kind: JobKind; nodeId: string }[]): void {
    const now = Date.now();
    const deadline = now + this.retry.timeoutMs;
    for (const job of jobs) this.jobs.add(job.id, job.kind, job.nodeId, deadline, now);
  }
}
