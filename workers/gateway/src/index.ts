import { consumeEvents } from './services/events-consumer';
import { buildApp } from './app';
import type { GatewayBindings } from './context';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  /** The events queue: outbound webhook deliveries, and what happens when a run finished. */
  queue: (batch, env) => consumeEvents(batch, env),
} satisfies ExportedHandler<GatewayBindings>;
