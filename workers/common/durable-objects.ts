import type { AnyJob, JobResult, SplicePage } from '../../shared/contracts/jobs';
import type { RunSpec } from '../../shared/contracts/run-spec';
import type {
  LedgerStatus,
  RunCounters,
  RunStatus,
  TaskProgress,
  TaskProgressView,
  TaskStatus,
  TaskWait,
} from '../../shared/contracts/run-view';
import type { TreeFile } from '../../shared/contracts/tree-file';
import type { LeaseGrant, ReleaseOutcome } from '../../shared/env/agentgym';
import type { AgentGymFlavor } from '../../shared/env/types';
import type { SlotLease } from '../../shared/inference/slot-gate';
import type { GateLoad } from '../../shared/inference/slot-handoff';

// What the coordinator's Durable Objects answer over RPC: the workers, the gateway and the objects
// themselves call them through these interfaces (each class `implements` its own, so they cannot
// drift), never through the classes. That keeps every import pointing one way: workers/common
// knows the objects' surface, workers/coordinator implements it.

/** Deadlines and retries of a TaskTree's jobs. */
export interface RetryPolicy {
  /** How long a consumer has before the job is considered lost and re-sent. */
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
}

/** Header on a live upgrade forwarded to a TaskTree: the id of the API token behind the ticket. */
export const LIVE_HOLDER_HEADER = 'x-agent-r-token-id';

/** One per run x task: the search, its jobs and its tree. */
export interface TaskTreeApi extends Rpc.DurableObjectBranded {
  start(runId: string, task: number, spec: RunSpec): Promise<void>;
  /**
   * Takes a job's `attempt` (null: not wanted, superseded, or taken by another copy); without
   * `attempt`, a look at the current one that takes nothing.
   */
  getJob(jobId: string, attempt?: number): Promise<AnyJob | null>;
  /** The finished tree of a current splice job, a page at a time from node `from` (null: not current). */
  splicePage(jobId: string, attempt: number, from: number): Promise<SplicePage | null>;
  completeJob(jobId: string, result: JobResult, attempt?: number): Promise<{ accepted: boolean }>;
  keepAlive(jobId: string, attempt: number): Promise<boolean>;
  /** Whether the attempt is still wanted (a read: keepAlive is the heartbeat). */
  isCurrent(jobId: string, attempt: number): Promise<boolean>;
  failJob(jobId: string, reason: string, retryable?: boolean, attempt?: number): Promise<void>;
  /**
   * The splice's write permit for its next write step (false: the task was cancelled or the
   * attempt superseded; write nothing). See coordinator/src/tree-writes.ts.
   */
  beginWrite(jobId: string, attempt: number): Promise<boolean>;
  /** A writing splice is alive (renews its permit's lease while a step runs). */
  renewWrite(jobId: string, attempt: number): Promise<boolean>;
  /**
   * Stops the task; returns once no splice of it writes and what a refused splice wrote is gone.
   * A tree that was final already answers its progress (e.g. done: its records were accepted).
   */
  cancel(reason?: string): Promise<Omit<TaskProgressView, 'task'> | null>;
  status(): Promise<TaskStatus | null>;
  waiting(): Promise<Omit<TaskWait, 'task'> | null>;
  treeFile(): Promise<TreeFile | null>;
  progress(): Promise<Omit<TaskProgressView, 'task'> | null>;
  setRetryPolicy(policy: Partial<RetryPolicy>): Promise<void>;
  /** Closes the live sockets opened with this API token id (it was revoked); returns how many. */
  closeLiveSockets(holder: string): Promise<number>;
}

/** One per run: its tasks, counters and status. */
export interface RunLedgerApi extends Rpc.DurableObjectBranded {
  start(runId: string, spec: RunSpec): Promise<void>;
  reportTask(task: number, progress: TaskProgress): Promise<void>;
  cancel(): Promise<RunStatus | null>;
  counters(): RunCounters;
  status(): Promise<LedgerStatus | null>;
  waiting(limit?: number): Promise<TaskWait[]>;
}

/** An acquire that is not granted: more slots than the capacity, or the holder's work was revoked. */
export interface GateRefusal {
  refused: string;
  /** The holder's run was cancelled (EndpointGate.revoke): the caller stops without a call. */
  revoked?: true;
}

/**
 * Slots granted together (one lease), with the gate's load. `queued`: the caller waited for them
 * (they were not free when it asked).
 */
export type GateGrant = SlotLease & GateLoad & { queued?: true };

/** One per inference endpoint: never more requests in flight than its maxConcurrency. */
export interface EndpointGateApi extends Rpc.DurableObjectBranded {
  /**
   * `refused`: more slots than the capacity (they could never be granted together), or (`revoked`)
   * the holder's run was cancelled.
   */
  acquire(
    holderId: string,
    capacity: number,
    priority?: number,
    slots?: number,
  ): Promise<GateGrant | GateRefusal>;
  /**
   * `release(leaseId)` then `acquire(...)` in one call: a caller hands the slots of a request
   * that ended to the gate together with the next request's ask (gate-client.ts).
   */
  exchange(
    leaseId: string,
    holderId: string,
    capacity: number,
    priority?: number,
    slots?: number,
  ): Promise<GateGrant | GateRefusal>;
  /** Refuses the waiting and later acquires of holders whose id starts with `prefix`. */
  revoke(prefix: string): Promise<number>;
  renew(leaseId: string): Promise<boolean>;
  /** Gives the lease back; answers the gate's load after it. */
  release(leaseId: string): Promise<GateLoad>;
  stats(): Promise<{ capacity: number; inUse: number; queued: number }>;
}

/** One per AgentGym server: its env ids, leased exclusively. */
export interface EnvPoolApi extends Rpc.DurableObjectBranded {
  /** `want`: the step keys of the position the holder will put the env at (shared/env/replay.ts). */
  lease(
    server: string,
    flavor: AgentGymFlavor,
    holderId: string,
    cap?: number,
    want?: string[],
  ): Promise<LeaseGrant>;
  registerCreated(leaseId: string, envId: number): Promise<{ ok: boolean; reason?: string }>;
  /** `path`: where the env is left (kept for the next holder); null when unknown. */
  release(leaseId: string, outcome?: ReleaseOutcome, path?: string[] | null): Promise<void>;
  drain(server: string): Promise<number[]>;
}

/** The namespaces, typed for RPC. */
export interface DurableObjectBindings {
  TASK_TREE: DurableObjectNamespace<TaskTreeApi>;
  RUN_LEDGER: DurableObjectNamespace<RunLedgerApi>;
  ENDPOINT_GATE: DurableObjectNamespace<EndpointGateApi>;
  ENV_POOL: DurableObjectNamespace<EnvPoolApi>;
}

// Every stub comes from here, by name (getByName: the name is the object's identity).

export const taskTreeName = (runId: string, task: number): string => `${runId}:${task}`;

export const taskTreeStub = (env: DurableObjectBindings, runId: string, task: number) =>
  env.TASK_TREE.getByName(taskTreeName(runId, task));

export const runLedgerStub = (env: DurableObjectBindings, runId: string) => env.RUN_LEDGER.getByName(runId);

export const endpointGateStub = (env: DurableObjectBindings, endpoint: string) =>
  env.ENDPOINT_GATE.getByName(endpoint);

/** Every gate holder id of a run's jobs starts with this ("runId:task:jobId#attempt"). */
export const runHolderPrefix = (runId: string): string => `${runId}:`;

/**
 * A cancelled run's waits at its endpoints' gates are refused, now and for the next minutes:
 * none of its jobs makes an inference call after the cancel answered.
 */
export async function revokeRunAtGates(
  env: DurableObjectBindings,
  runId: string,
  endpoints: readonly string[],
): Promise<void> {
  await Promise.all(
    [...new Set(endpoints)].map((name) => endpointGateStub(env, name).revoke(runHolderPrefix(runId))),
  );
}

export const envPoolStub = (env: DurableObjectBindings, server: string) => env.ENV_POOL.getByName(server);
