import { deliverEventBatch } from './services/webhooks';
import { buildApp } from './app';
import type { GatewayBindings } from './context';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  /** The events queue: outbound webhook deliveries (signed POSTs with retries). */
  queue: (batch, env) => deliverEventBatch(batch, env),
} satisfies ExportedHandler<GatewayBindings>;
