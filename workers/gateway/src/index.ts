import { consumeEvents } from './services/events-consumer';
import { reconcileFromRequest, reconcileStuck } from './services/reconcile';
import { buildApp } from './app';
import type { GatewayBindings } from './context';
import { withOps } from '../../common/ops-meter';

const app = buildApp();

export default {
  fetch: (request, env, ctx) =>
    withOps(env, 'gateway', 'fetch', async (metered) => {
      // Repairs of stuck deliveries and datasets do not wait for a cron that may never run.
      reconcileFromRequest(metered, ctx);
      return app.fetch(request, metered, ctx);
    }),
  /** The events queue: outbound webhook deliveries, and what happens when a run finished. */
  queue: (batch, env) => withOps(env, 'gateway', 'queue', (metered) => consumeEvents(batch, metered)),
  /** The cron trigger: re-queues or fails deliveries and datasets stuck past their deadline. */
  scheduled: async (_controller, env) => {
    await reconcileStuck(env);
  },
} satisfies ExportedHandler<GatewayBindings>;
