import type { MatchesGenerated } from '../../common/bindings-check';
import type { GatewayBindings } from './context';
import type { EventBindings } from './services/webhooks';

// The gateway's hand-written bindings (rate limits, webhook settings) checked against the
// generated worker-configuration.d.ts like the shared ones (common/bindings-check.ts).
export const gatewayBindingsMatchGenerated: MatchesGenerated<GatewayBindings & EventBindings> = true;
