import { DurableObject } from 'cloudflare:workers';
import type { EnvPoolApi } from '../../common/durable-objects';
import { createAgentGymSession } from '../../../shared/env/agentgym';
import {
  EnvLeasePool,
  type LeaseGrant,
  type LeasePoolState,
  type ReleaseOutcome,
  type ServerEnvId,
} from '../../../shared/env/agentgym/lease-pool';
import type { AgentGymFlavor } from '../../../shared/env/types';
import type { CoordinatorBindings } from '../../common/env';
import { MetaStore } from './sql';
import { Waiters } from './waiters';

const LEASE_TTL_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
export const DEFAULT_ENVS_PER_SERVER = 16;

/**
 * One per AgentGym server: leases env ids exclusively (the servers have no per-env lock, so two
 * calls on one id must never overlap), reuses them via /reset, caps how many exist, takes back
 * leases whose holder died and closes what is retired.
 */
export class EnvPool extends DurableObject<CoordinatorBindings> implements EnvPoolApi {
  private readonly meta: MetaStore;
  private readonly waiters = new Waiters<LeaseGrant>();
  private pool: EnvLeasePool;
  private flavor: AgentGymFlavor = 'textcraft';

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.meta = new MetaStore(ctx.storage.sql);
    const saved = this.meta.get<{ state: LeasePoolState; cap: number; flavor: AgentGymFlavor }>('pool');
    this.flavor = saved?.flavor ?? 'textcraft';
    this.pool = new EnvLeasePool(
      { defaultCap: saved?.cap ?? DEFAULT_ENVS_PER_SERVER, leaseTtlMs: LEASE_TTL_MS },
      saved?.state,
    );
  }

  /**
   * Resolves with an env id to use exclusively (with where it is), or a permission to create one.
   * `want`: the path of step keys the holder will put the env at (an idle id on the way is preferred).
   */
  async lease(
    server: string,
    flavor: AgentGymFlavor,
    holderId: string,
    cap = DEFAULT_ENVS_PER_SERVER,
    want?: string[],
  ): Promise<LeaseGrant> {
    if (cap !== this.pool.capOf(server) || flavor !== this.flavor) {
      this.pool = new EnvLeasePool({ defaultCap: cap, leaseTtlMs: LEASE_TTL_MS }, this.pool.toJSON());
      this.flavor = flavor;
    }
    this.apply(this.pool.expire(Date.now()));
    const answer = this.pool.lease(server, holderId, Date.now(), want);
    this.save();
    if (answer.kind !== 'wait') return answer;
    return this.waiters.wait(holderId, MAX_WAIT_MS, () => {
      this.pool.cancel(server, holderId);
      this.save();
    });
  }

  async registerCreated(leaseId: string, envId: number): Promise<{ ok: boolean; reason?: string }> {
    const change = this.pool.registerCreated(leaseId, envId, Date.now());
    this.apply(change);
    this.save();
    return { ok: change.ok, ...(change.reason ? { reason: change.reason } : {}) };
  }

  /** `path`: where the env now is (its step keys), kept for the next holder; null when unknown. */
  async release(
    leaseId: string,
    outcome: ReleaseOutcome = 'ok',
    path: string[] | null = null,
  ): Promise<void> {
    this.apply(this.pool.release(leaseId, Date.now(), outcome, path));
    this.save();
  }

  /** At the end of a run: close every idle env of the server. */
  async drain(server: string): Promise<number[]> {
    const ids = this.pool.drain(server);
    this.save();
    this.closeInBackground(ids.map((envId) => ({ server, envId })));
    return ids;
  }

  override async alarm(): Promise<void> {
    this.apply(this.pool.expire(Date.now()));
    this.save();
  }

  private apply(change: { grants: LeaseGrant[]; toClose: ServerEnvId[] }): void {
    for (const grant of change.grants) {
      // A grant for a holder that stopped waiting goes straight back to the pool.
      if (!this.waiters.grant(grant.holderId, grant))
        this.apply(this.pool.release(grant.leaseId, Date.now(), 'ok'));
    }
    this.closeInBackground(change.toClose);
  }

  private closeInBackground(ids: ServerEnvId[]): void {
    if (!ids.length) return;
    const flavor = this.flavor;
    this.ctx.waitUntil(
      Promise.allSettled(
        ids.map(({ server, envId }) =>
          createAgentGymSession({ baseUrl: server, flavor, envId, timeoutMs: 10_000 }).close(),
        ),
      ),
    );
  }

  private save(): void {
    this.meta.set('pool', { state: this.pool.toJSON(), cap: this.pool.capOf(''), flavor: this.flavor });
    void this.ctx.storage.setAlarm(Date.now() + LEASE_TTL_MS);
  }
}
