import { buildApp } from './app';
import type { GatewayBindings } from './context';

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<GatewayBindings>;
