/**
 * Exclusive leases on AgentGym env ids, per env server. The servers have no per-env lock, so
 * two callers must never drive one id at once; and /create is expensive (SciWorld starts a JVM,
 * WebShop leaks memory), so ids are reused via /reset up to a cap per server.
 *
 * Pure bookkeeping with no clock, I/O or randomness: every method takes `now` (ms) and the whole
 * state is a plain JSON value (`toJSON()` / `new EnvLeasePool(config, state)`), so the EnvPool
 * Durable Object can persist it after each call. The caller does the HTTP work the answers ask
 * for (create an env, close ids).
 *
 * Lifecycle: `lease` -> `use` (an idle id), `create` (make one, then `registerCreated`) or `wait`
 * (FIFO queue; a later `release`/`expire` grants it, and the holder's next `lease` returns it).
 * `lease` is idempotent per holder: asking again returns the holder's current lease.
 * `release` gives the id back (or reports it broken/gone). `expire` takes back leases whose holder
 * missed its deadline; their ids are retired (closed, never reused), because a slow holder may
 * still be using them. `drain` lists every id to /close when the run ends.
 *
 * Env positions: a holder that gives an id back `ok` may say where the env is (`path`: the step
 * keys from the task's reset to its current state, see shared/env/replay.ts). A later `lease` that
 * names the path it wants gets the idle id whose position is the longest prefix of it, so the holder
 * steps only what is missing instead of resetting and replaying. Any other way an id comes back
 * (broken, gone, expired) forgets its position; a grant carries the position it had.
 */

export interface LeasePoolConfig {
  /** Max env ids per server (idle + leased + being created). */
  defaultCap: number;
  /** Per-server caps by base URL. */
  caps?: Record<string, number>;
  /** A lease neither released nor renewed within this time is taken back. */
  leaseTtlMs: number;
  /** A waiter that has not asked again within this time leaves the queue (default leaseTtlMs). */
  waitTtlMs?: number;
}

export interface LeaseRecord {
  leaseId: string;
  server: string;
  holderId: string;
  /** null while the holder is creating the env. */
  envId: number | null;
  deadline: number;
  /** Where the env was when granted (from its last holder's release). */
  path?: string[];
}

interface Waiter {
  holderId: string;
  lastSeen: number;
  /** The position the waiter wants (see `lease`). */
  want?: readonly string[];
}

interface ServerState {
  /** Every live env id of this server (idle or leased). */
  envIds: number[];
  /** Idle ids, oldest release first. */
  idle: number[];
  queue: Waiter[];
  /** Where each idle id is (its path of step keys); absent when unknown. */
  positions?: Record<string, string[]>;
}

export interface LeasePoolState {
  version: 1;
  nextLease: number;
  servers: Record<string, ServerState>;
  leases: Record<string, LeaseRecord>;
}

export type LeaseGrant =
  | {
      kind: 'use';
      server: string;
      holderId: string;
      leaseId: string;
      envId: number;
      deadline: number;
      /** Where the env is, as its last holder reported; null when unknown. */
      path: string[] | null;
    }
  /** Create an env now, then `registerCreated(leaseId, envId)` (or `release` if creating failed). */
  | { kind: 'create'; server: string; holderId: string; leaseId: string; deadline: number };

export type LeaseAnswer = LeaseGrant | { kind: 'wait'; server: string; holderId: string; position: number };

/** How a holder left its env: `ok` reusable; `broken` close it; `gone` the server lost it (forget). */
export type ReleaseOutcome = 'ok' | 'broken' | 'gone';

export interface ServerEnvId {
  server: string;
  envId: number;
}

export interface PoolChange {
  ok: boolean;
  /** Queued holders that now hold a lease. */
  grants: LeaseGrant[];
  /** Ids the caller should /close now (retired or surplus). */
  toClose: ServerEnvId[];
}

export class EnvLeasePool {
  private readonly state: LeasePoolState;

  constructor(
    private readonly config: LeasePoolConfig,
    state?: LeasePoolState,
  ) {
    this.state = state ? structuredClone(state) : { version: 1, nextLease: 1, servers: {}, leases: {} };
  }

  toJSON(): LeasePoolState {
    return structuredClone(this.state);
  }

  capOf(server: string): number {
    return Math.max(1, this.config.caps?.[server] ?? this.config.defaultCap);
  }

  /** `want`: the path the holder will put the env at (prefers an idle id already on the way). */
  lease(server: string, holderId: string, now: number, want?: readonly string[]): LeaseAnswer {
    const existing = this.leaseOfHolder(server, holderId);
    if (existing) return toGrant(existing);
    const pool = this.server(server);
    this.dispatch(server, now);
    const granted = this.leaseOfHolder(server, holderId);
    if (granted) return toGrant(granted);
    const queued = pool.queue.findIndex((waiter) => waiter.holderId === holderId);
    if (queued >= 0) {
      pool.queue[queued]!.lastSeen = now;
      if (want) pool.queue[queued]!.want = [...want];
      return { kind: 'wait', server, holderId, position: queued + 1 };
    }
    // FIFO: nobody jumps the queue, even when a slot is free at this instant.
    if (pool.queue.length === 0) {
      const grant = this.tryGrant(server, holderId, now, want);
      if (grant) return grant;
    }
    pool.queue.push({ holderId, lastSeen: now, ...(want ? { want: [...want] } : {}) });
    return { kind: 'wait', server, holderId, position: pool.queue.length };
  }

  /**
   * Records the id the holder of a `create` grant made. Refused (`ok: false`) when the lease is
   * no longer valid (`stale-lease`: close the env you made, it is not pooled) or the id is already
   * pooled (`duplicate-id`: WebShop hands out old ids again past 8000 envs; do not use or close it).
   */
  registerCreated(
    leaseId: string,
    envId: number,
    now: number,
  ): PoolChange & { reason?: 'stale-lease' | 'duplicate-id' | 'not-creating' } {
    const lease = this.state.leases[leaseId];
    if (!lease) return { ok: false, reason: 'stale-lease', grants: [], toClose: [] };
    if (lease.envId !== null) return { ok: false, reason: 'not-creating', grants: [], toClose: [] };
    if (this.server(lease.server).envIds.includes(envId)) {
      return { ok: false, reason: 'duplicate-id', grants: [], toClose: [] };
    }
    lease.envId = envId;
    this.server(lease.server).envIds.push(envId);
    return { ok: true, grants: this.dispatch(lease.server, now), toClose: [] };
  }

  /** `path`: where the env now is (kept with an `ok` id for the next holder); null when unknown. */
  release(
    leaseId: string,
    now: number,
    outcome: ReleaseOutcome = 'ok',
    path: readonly string[] | null = null,
  ): PoolChange {
    const lease = this.state.leases[leaseId];
    if (!lease) return { ok: false, grants: [], toClose: [] }; // stale: expired or released already
    delete this.state.leases[leaseId];
    const toClose: ServerEnvId[] = [];
    if (lease.envId !== null) {
      const pool = this.server(lease.server);
      if (outcome === 'ok' && pool.envIds.length <= this.capOf(lease.server)) {
        pool.idle.push(lease.envId);
        if (path && path.length > 0) positionsOf(pool)[lease.envId] = [...path];
      } else {
        pool.envIds = pool.envIds.filter((id) => id !== lease.envId);
        if (outcome !== 'gone') toClose.push({ server: lease.server, envId: lease.envId });
      }
    }
    return { ok: true, grants: this.dispatch(lease.server, now), toClose };
  }

  /** Extends a live lease; returns the new deadline, or null when the lease is no longer valid. */
  renew(leaseId: string, now: number): number | null {
    const lease = this.state.leases[leaseId];
    if (!lease) return null;
    lease.deadline = now + this.config.leaseTtlMs;
    return lease.deadline;
  }

  /** Leaves the queue (a waiter that gave up). */
  cancel(server: string, holderId: string): boolean {
    const pool = this.server(server);
    const before = pool.queue.length;
    pool.queue = pool.queue.filter((waiter) => waiter.holderId !== holderId);
    return pool.queue.length !== before;
  }

  /** Takes back leases past their deadline and drops waiters that stopped asking. */
  expire(now: number): PoolChange & { expired: LeaseRecord[] } {
    const expired = Object.values(this.state.leases).filter((lease) => lease.deadline <= now);
    const toClose: ServerEnvId[] = [];
    for (const lease of expired) {
      delete this.state.leases[lease.leaseId];
      if (lease.envId === null) continue;
      const pool = this.server(lease.server);
      pool.envIds = pool.envIds.filter((id) => id !== lease.envId);
      toClose.push({ server: lease.server, envId: lease.envId });
    }
    const waitTtl = this.config.waitTtlMs ?? this.config.leaseTtlMs;
    const grants: LeaseGrant[] = [];
    for (const [server, pool] of Object.entries(this.state.servers)) {
      pool.queue = pool.queue.filter((waiter) => now - waiter.lastSeen < waitTtl);
      grants.push(...this.dispatch(server, now));
    }
    return { ok: true, expired, grants, toClose };
  }

  /** Every env id of `server` to /close at the end of a run; forgets them, their leases and waiters. */
  drain(server: string): number[] {
    const pool = this.server(server);
    const ids = [...pool.envIds];
    for (const lease of Object.values(this.state.leases)) {
      if (lease.server === server) delete this.state.leases[lease.leaseId];
    }
    delete this.state.servers[server];
    return ids;
  }

  stats(server: string) {
    const pool = this.server(server);
    const leases = Object.values(this.state.leases).filter((lease) => lease.server === server);
    return {
      cap: this.capOf(server),
      envs: pool.envIds.length,
      idle: pool.idle.length,
      leased: leases.filter((lease) => lease.envId !== null).length,
      creating: leases.filter((lease) => lease.envId === null).length,
      waiting: pool.queue.length,
    };
  }

  activeLeases(server?: string): LeaseRecord[] {
    return Object.values(this.state.leases)
      .filter((lease) => server === undefined || lease.server === server)
      .map((lease) => ({ ...lease }));
  }

  /** Grants free capacity to queued holders, in order. */
  private dispatch(server: string, now: number): LeaseGrant[] {
    const pool = this.server(server);
    const grants: LeaseGrant[] = [];
    while (pool.queue.length > 0) {
      const grant = this.tryGrant(server, pool.queue[0]!.holderId, now, pool.queue[0]!.want);
      if (!grant) break;
      pool.queue.shift();
      grants.push(grant);
    }
    return grants;
  }

  private tryGrant(
    server: string,
    holderId: string,
    now: number,
    want?: readonly string[],
  ): LeaseGrant | undefined {
    const pool = this.server(server);
    const envId = takeIdle(pool, want);
    const path = envId === undefined ? null : (pool.positions?.[envId] ?? null);
    if (envId !== undefined && pool.positions) delete pool.positions[envId];
    const creating = Object.values(this.state.leases).filter((l) => l.server === server && l.envId === null);
    if (envId === undefined && pool.envIds.length + creating.length >= this.capOf(server)) return undefined;
    const lease: LeaseRecord = {
      leaseId: `L${this.state.nextLease++}`,
      server,
      holderId,
      envId: envId ?? null,
      deadline: now + this.config.leaseTtlMs,
      ...(path ? { path } : {}),
    };
    this.state.leases[lease.leaseId] = lease;
    return toGrant(lease);
  }

  private leaseOfHolder(server: string, holderId: string): LeaseRecord | undefined {
    return Object.values(this.state.leases).find(
      (lease) => lease.server === server && lease.holderId === holderId,
    );
  }

  private server(server: string): ServerState {
    let pool = this.state.servers[server];
    if (!pool) {
      pool = { envIds: [], idle: [], queue: [] };
      this.state.servers[server] = pool;
    }
    return pool;
  }
}

function toGrant(lease: LeaseRecord): LeaseGrant {
  const { server, holderId, leaseId, deadline } = lease;
  return lease.envId === null
    ? { kind: 'create', server, holderId, leaseId, deadline }
    : { kind: 'use', server, holderId, leaseId, envId: lease.envId, deadline, path: lease.path ?? null };
}

function positionsOf(pool: ServerState): Record<string, string[]> {
  pool.positions ??= {};
  return pool.positions;
}

function isPrefix(prefix: readonly string[], of: readonly string[]): boolean {
  return prefix.length <= of.length && prefix.every((key, i) => key === of[i]);
}

/**
 * Takes the idle id to grant: the one whose position is the longest prefix of `want`; else one
 * with no position (so no other holder's position is lost); else the oldest.
 */
function takeIdle(pool: ServerState, want: readonly string[] | undefined): number | undefined {
  if (pool.idle.length === 0) return undefined;
  const positions = pool.positions ?? {};
  let pick = -1;
  let best = 0;
  if (want) {
    for (const [index, envId] of pool.idle.entries()) {
      const path = positions[envId];
      if (path && path.length > best && isPrefix(path, want)) {
        pick = index;
        best = path.length;
      }
    }
  }
  if (pick < 0) pick = pool.idle.findIndex((envId) => positions[envId] === undefined);
  if (pick < 0) pick = 0;
  return pool.idle.splice(pick, 1)[0];
}
