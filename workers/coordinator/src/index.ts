import { jobMessageSchema } from '../../../shared/contracts/messages';
import { type CoordinatorBindings, taskTreeStub } from '../../common/env';

import { meterEnv, meterState } from '../../common/ops-meter';
import { EndpointGate as EndpointGateObject } from './endpoint-gate';
import { EnvPool as EnvPoolObject } from './env-pool';
import { RunLedger as RunLedgerObject } from './run-ledger';
import { TaskTree as TaskTreeObject } from './task-tree';

// The Durable Objects, with counting storage and bindings when OPS_METER is "1" (ops-meter.ts);
// otherwise exactly the classes they extend.
export class TaskTree extends TaskTreeObject {
  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(meterState(ctx, env, 'TaskTree'), meterEnv(env));
  }
}
export class RunLedger extends RunLedgerObject {
  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(meterState(ctx, env, 'RunLedger'), meterEnv(env));
  }
}
export class EndpointGate extends EndpointGateObject {
  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(meterState(ctx, env, 'EndpointGate'), meterEnv(env));
  }
}
export class EnvPool extends EnvPoolObject {
  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(meterState(ctx, env, 'EnvPool'), meterEnv(env));
  }
}

export default {
  async fetch() {
    return Response.json({ ok: true, worker: 'agent-r-coordinator' });
  },
  /** Dead-letter queues: a job whose consumer kept failing is recorded as failed with the reason. */
  async queue(batch, env) {
    for (const message of batch.messages) {
      const parsed = jobMessageSchema.safeParse(message.body);
      if (parsed.success && parsed.data.type !== 'splice') {
        const { runId, task, jobId, attempt } = parsed.data;
        await taskTreeStub(env, runId, task).failJob(
          jobId,
          `the ${parsed.data.type} consumer failed ${batch.queue.endsWith('-dlq') ? 'on every delivery' : ''}`.trim(),
          false,
          attempt,
        );
      }
      message.ack();
    }
  },
} satisfies ExportedHandler<CoordinatorBindings>;
