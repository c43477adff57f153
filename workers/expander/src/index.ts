import { expandMessageSchema } from '../../../shared/messages';
import { type CoreBindings, taskTreeStub } from '../../common/env';

export default {
  async queue(batch, env) {
    await Promise.all(
      batch.messages.map(async (message) => {
        const parsed = expandMessageSchema.safeParse(message.body);
        if (!parsed.success) return message.ack();
        const tree = taskTreeStub(env, parsed.data.runId, parsed.data.task);
        const job = await tree.getJob(parsed.data.jobId);
        if (!job) return message.ack();
        await tree.completeJob(job.jobId, { kind: 'root', observation: 'hello', snapshot: null });
        message.ack();
      }),
    );
  },
} satisfies ExportedHandler<CoreBindings>;
