import { jobMessageSchema } from '../../../shared/contracts/messages';
import { type CoordinatorBindings, taskTreeStub } from '../../common/env';
import { meterEnv, meterState } from '../../common/ops-meter';
import { EndpointGate as EndpointGateObject } from './endpoint-gate';
import { EnvPool as EnvPoolObject } from './env-pool';
import { RunLedger as RunLedgerObject } from './run-ledger';
import { TaskTree as TaskTreeObject } from './task-tree';

type ObjectClass<T> = new (ctx: DurableObjectState, env: CoordinatorBindings) => T;

/**
 * A Durable Object class whose storage and bindings count platform operations when OPS_METER is
 * "1" (ops-meter.ts); otherwise exactly the class it extends.
 */
function metered<T>(Base: ObjectClass<T>, name: string): ObjectClass<T> {
  const Parent = Base as ObjectClass<object>;
  return class extends Parent {
    constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
      super(meterState(ctx, env, name), meterEnv(env));
    }
  } as ObjectClass<T>;
}

export const TaskTree = metered(TaskTreeObject, 'TaskTree');
export const RunLedger = metered(RunLedgerObject, 'RunLedger');
export const EndpointGate = metered(EndpointGateObject, 'EndpointGate');
export const EnvPool = metered(EnvPoolObject, 'EnvPool');

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
