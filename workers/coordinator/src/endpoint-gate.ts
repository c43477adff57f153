import { DurableObject } from 'cloudflare:workers';
import type { CoordinatorBindings } from '../../common/env';

/** One per inference endpoint: never more requests in flight than its maxConcurrency. */
export class EndpointGate extends DurableObject<CoordinatorBindings> {}
