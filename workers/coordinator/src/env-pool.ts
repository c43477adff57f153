import { DurableObject } from 'cloudflare:workers';
import type { CoordinatorBindings } from '../../common/env';

/** One per AgentGym server: leases env ids exclusively and reuses them. */
export class EnvPool extends DurableObject<CoordinatorBindings> {}
