import type { CoreBindings } from '../../common/env';

export interface GatewayBindings extends CoreBindings {
  ENVIRONMENT?: string;
}

export interface GatewayContext {
  Bindings: GatewayBindings;
}
