import { consumeEvents } from './services/events-consumer';
import { reconcileStuck } from './services/reconcile';
import { buildApp } from './app';
import type { GatewayBindings } from './context';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  /** The events queue: outbound webhook deliveries, and what happens when a run finished. */
  queue: (batch, env) => consumeEvents(batch, env),
  /** The cron trigger: re-queues or fails deliveries and datasets stuck past their deadline. */
  scheduled: async (_controller, env) => {
    await reconcileStuck(env);
  },
} satisfies ExportedHandler<GatewayBindings>;
