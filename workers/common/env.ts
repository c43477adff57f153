import type { EndpointGate } from '../coordinator/src/endpoint-gate';
import type { EnvPool } from '../coordinator/src/env-pool';
import type { RunLedger } from '../coordinator/src/run-ledger';
import type { TaskTree } from '../coordinator/src/task-tree';
import type { EventMessage, JobMessage } from '../../shared/messages';

/**
 * The bindings the workers share, with the Durable Object namespaces typed for RPC.
 * (The generated worker-configuration.d.ts files type them untyped; these narrow them.)
 */
export interface CoreBindings {
  DB: D1Database;
  BUCKET: R2Bucket;
  TASK_TREE: DurableObjectNamespace<TaskTree>;
  RUN_LEDGER: DurableObjectNamespace<RunLedger>;
  ENDPOINT_GATE: DurableObjectNamespace<EndpointGate>;
  ENV_POOL: DurableObjectNamespace<EnvPool>;
  EVENTS: Queue<EventMessage>;
  /** Passphrase that encrypts endpoint keys and webhook secrets at rest. */
  SECRETS_KEY?: string;
  /** Bootstrap admin token (a secret in production; `agent-r serve` generates one locally). */
  ADMIN_TOKEN?: string;
}

export interface CoordinatorBindings extends CoreBindings {
  EXPAND: Queue<JobMessage>;
  CRITIQUE: Queue<JobMessage>;
  SPLICE: Queue<JobMessage>;
}

export function taskTreeName(runId: string, task: number): string {
  return `${runId}:${task}`;
}

export function taskTreeStub(env: CoreBindings, runId: string, task: number) {
  return env.TASK_TREE.get(env.TASK_TREE.idFromName(taskTreeName(runId, task)));
}

export function runLedgerStub(env: CoreBindings, runId: string) {
  return env.RUN_LEDGER.get(env.RUN_LEDGER.idFromName(runId));
}
