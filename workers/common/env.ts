import type { EventsQueueMessage, JobMessage } from '../../shared/contracts/messages';
import type { DurableObjectBindings } from './durable-objects';

export { runLedgerStub, taskTreeName, taskTreeStub } from './durable-objects';

/**
 * The bindings the workers share, with the Durable Object namespaces typed for RPC
 * (durable-objects.ts).
 * (The generated worker-configuration.d.ts files type them untyped; these narrow them.)
 */
export interface CoreBindings extends DurableObjectBindings {
  DB: D1Database;
  BUCKET: R2Bucket;
  EVENTS: Queue<EventsQueueMessage>;
  /** Passphrase that encrypts endpoint keys and webhook secrets at rest. */
  SECRETS_KEY?: string;
  /** Bootstrap admin token (a secret in production; `agent-r serve` generates one locally). */
  ADMIN_TOKEN?: string;
  /** The agent-r version and git commit the workers were started or deployed from (provenance). */
  AGENT_R_VERSION?: string;
  AGENT_R_COMMIT?: string;
  /** `production` turns on the strict checks: required secrets, the outbound policy. */
  ENVIRONMENT?: string;
  /** Comma-separated hosts (or host:port) production may call despite a private address. */
  OUTBOUND_ALLOW?: string;
}

export interface CoordinatorBindings extends CoreBindings {
  EXPAND: Queue<JobMessage>;
  /** Optional extra expand shards (agent-r-expand-1..3); configs without them use EXPAND only. */
  EXPAND_1?: Queue<JobMessage>;
  EXPAND_2?: Queue<JobMessage>;
  EXPAND_3?: Queue<JobMessage>;
  CRITIQUE: Queue<JobMessage>;
  /** Optional extra critique shards (agent-r-critique-1..3). */
  CRITIQUE_1?: Queue<JobMessage>;
  CRITIQUE_2?: Queue<JobMessage>;
  CRITIQUE_3?: Queue<JobMessage>;
  SPLICE: Queue<JobMessage>;
  /** Optional extra splice shard (agent-r-splice-1). */
  SPLICE_1?: Queue<JobMessage>;
}

/**
 * The queues a kind of job can go to: the main one, then whichever shards are bound. The local
 * queue emulator delivers one batch at a time per queue, so one queue per kind would cap a local
 * build's throughput (Cloudflare scales every queue's consumers on its own).
 */
export function jobQueues(
  env: CoordinatorBindings,
  kind: 'expand' | 'critique' | 'splice',
): Queue<JobMessage>[] {
  const queues = {
    expand: [env.EXPAND, env.EXPAND_1, env.EXPAND_2, env.EXPAND_3],
    critique: [env.CRITIQUE, env.CRITIQUE_1, env.CRITIQUE_2, env.CRITIQUE_3],
    splice: [env.SPLICE, env.SPLICE_1],
  }[kind];
  return queues.filter((queue): queue is Queue<JobMessage> => queue !== undefined);
}
