import { eventsQueueMessageSchema, type EventsQueueMessage } from '../../../../shared/contracts/messages';
import type { CoreBindings } from '../../../common/env';
import { onRunFinished } from './loops';
import { backoffSeconds, deliverWebhook, emitRunCompleted } from './webhooks';

// The gateway's consumer of the events queue. Two kinds of message arrive there:
// - `event`: one outbound webhook delivery (a signed POST, retried with backoff);
// - `run.finished`: a RunLedger's run reached its final status. The gateway reacts: run.completed
//   webhooks, then the run's iteration and evals move on. Every step is idempotent (delivery ids
//   derive from the run, the iteration and eval state machines only move forward), so a message
//   redelivered after a crash halfway repeats nothing; a failed step retries the message.

async function handle(env: CoreBindings, message: EventsQueueMessage): Promise<'done' | { retryIn: number }> {
  if (message.type === 'event') return deliverWebhook(env, message);
  await emitRunCompleted(env, message);
  await onRunFinished(env, message.runId);
  return 'done';
}

/** The events queue consumer (the gateway's `queue` handler). */
export async function consumeEvents(batch: MessageBatch<unknown>, env: CoreBindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = eventsQueueMessageSchema.safeParse(message.body);
      if (!parsed.success) {
        console.error('dropping a malformed events message', parsed.error.message);
        message.ack();
        return;
      }
      try {
        const result = await handle(env, parsed.data);
        if (result === 'done') message.ack();
        else message.retry({ delaySeconds: result.retryIn });
      } catch (error) {
        // D1 hiccup or similar: let the queue try again later (webhook attempts are counted in D1).
        const what =
          parsed.data.type === 'event'
            ? `webhook delivery ${parsed.data.deliveryId}`
            : `run.finished of ${parsed.data.runId}`;
        console.error(`${what} failed unexpectedly`, error);
        message.retry({ delaySeconds: backoffSeconds(env, message.attempts) });
      }
    }),
  );
}
