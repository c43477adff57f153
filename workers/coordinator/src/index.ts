import { jobMessageSchema } from '../../../shared/contracts/messages';
import { type CoordinatorBindings, taskTreeStub } from '../../common/env';

export { EndpointGate } from './endpoint-gate';
export { EnvPool } from './env-pool';
export { RunLedger } from './run-ledger';
export { TaskTree } from './task-tree';

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
