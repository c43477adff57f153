import { describe, expect, it } from 'vitest';
import {
  EnvLeasePool,
  type LeaseAnswer,
  type LeaseGrant,
  type LeasePoolConfig,
} from '../../../shared/env/agentgym/lease-pool';
import { mulberry32 } from '../../../cli/bench/fakes/fastapi-like';

const A = 'http://env-a:36001';
const B = 'http://env-b:36002';
const config: LeasePoolConfig = { defaultCap: 2, caps: { [B]: 3 }, leaseTtlMs: 1_000 };

function grant(answer: LeaseAnswer): LeaseGrant {
  if (answer.kind === 'wait') throw new Error(`expected a grant, got ${JSON.stringify(answer)}`);
  return answer;
}

describe('EnvLeasePool', () => {
  it('asks the first holder to create, then reuses the released id', () => {
    const pool = new EnvLeasePool(config);
    const first = grant(pool.lease(A, 'job-1', 0));
    expect(first.kind).toBe('create');
    expect(pool.registerCreated(first.leaseId, 7, 1).ok).toBe(true);
    expect(pool.release(first.leaseId, 2).ok).toBe(true);
    expect(pool.lease(A, 'job-2', 3)).toMatchObject({ kind: 'use', envId: 7, holderId: 'job-2' });
    expect(pool.stats(A)).toMatchObject({ envs: 1, idle: 0, leased: 1 });
  });

  it('is idempotent per holder (a redelivered job gets the same lease)', () => {
    const pool = new EnvLeasePool(config);
    const first = pool.lease(A, 'job-1', 0);
    expect(pool.lease(A, 'job-1', 5)).toEqual(first);
  });

  it('respects the cap per server and queues the rest FIFO', () => {
    const pool = new EnvLeasePool(config);
    const leases = ['j1', 'j2'].map((holder) => grant(pool.lease(A, holder, 0)));
    for (const [i, lease] of leases.entries()) pool.registerCreated(lease.leaseId, 100 + i, 0);
    expect(pool.lease(A, 'j3', 1)).toMatchObject({ kind: 'wait', position: 1 });
    expect(pool.lease(A, 'j4', 1)).toMatchObject({ kind: 'wait', position: 2 });
    expect(pool.lease(B, 'j5', 1).kind).toBe('create'); // another server, its own cap (3)

    const released = pool.release(leases[1]!.leaseId, 2);
    expect(released.grants).toEqual([expect.objectContaining({ kind: 'use', holderId: 'j3', envId: 101 })]);
    expect(pool.lease(A, 'j4', 3)).toMatchObject({ kind: 'wait', position: 1 });
    expect(pool.lease(A, 'j3', 3)).toMatchObject({ kind: 'use', envId: 101 }); // the waiter picks its grant up
    const next = pool.release(leases[0]!.leaseId, 4);
    expect(next.grants.map((g) => g.holderId)).toEqual(['j4']);
  });

  it('does not let a newcomer jump the queue', () => {
    const pool = new EnvLeasePool({ ...config, defaultCap: 1 });
    const first = grant(pool.lease(A, 'j1', 0));
    pool.registerCreated(first.leaseId, 1, 0);
    pool.lease(A, 'j2', 0);
    const { grants } = pool.release(first.leaseId, 1);
    expect(grants.map((g) => g.holderId)).toEqual(['j2']);
    expect(pool.lease(A, 'j3', 1).kind).toBe('wait');
  });

  it('takes back leases of dead holders: their ids are closed, waiters get a new slot', () => {
    const pool = new EnvLeasePool({ ...config, defaultCap: 1 });
    const dead = grant(pool.lease(A, 'dead', 0));
    pool.registerCreated(dead.leaseId, 5, 0);
    expect(pool.lease(A, 'waiter', 10).kind).toBe('wait');
    expect(pool.expire(999).expired).toEqual([]);
    expect(pool.renew(dead.leaseId, 500)).toBe(1_500);
    pool.lease(A, 'waiter', 1_400); // a waiter that keeps asking stays queued
    const change = pool.expire(1_500);
    expect(change.expired.map((lease) => lease.holderId)).toEqual(['dead']);
    expect(change.toClose).toEqual([{ server: A, envId: 5 }]);
    expect(change.grants).toEqual([expect.objectContaining({ kind: 'create', holderId: 'waiter' })]);
    // The late holder cannot hand back or renew what is no longer its own.
    expect(pool.release(dead.leaseId, 1_600).ok).toBe(false);
    expect(pool.renew(dead.leaseId, 1_600)).toBeNull();
  });

  it('drops waiters that stopped asking, and cancelled ones', () => {
    const pool = new EnvLeasePool({ ...config, defaultCap: 1, waitTtlMs: 100 });
    grant(pool.lease(A, 'j1', 0));
    pool.lease(A, 'gone', 0);
    pool.lease(A, 'quitter', 0);
    expect(pool.cancel(A, 'quitter')).toBe(true);
    pool.expire(200);
    expect(pool.stats(A).waiting).toBe(0);
  });

  it('handles failed creation, broken and vanished envs, duplicate and late registrations', () => {
    const pool = new EnvLeasePool({ ...config, defaultCap: 2 });
    const failed = grant(pool.lease(A, 'j1', 0));
    expect(pool.release(failed.leaseId, 1).toClose).toEqual([]); // creation failed: slot freed
    const a = grant(pool.lease(A, 'j2', 1));
    const b = grant(pool.lease(A, 'j3', 1));
    pool.registerCreated(a.leaseId, 1, 1);
    expect(pool.registerCreated(b.leaseId, 1, 1)).toMatchObject({ ok: false, reason: 'duplicate-id' });
    pool.registerCreated(b.leaseId, 2, 1);
    expect(pool.release(a.leaseId, 2, 'broken').toClose).toEqual([{ server: A, envId: 1 }]);
    expect(pool.release(b.leaseId, 2, 'gone').toClose).toEqual([]);
    expect(pool.stats(A)).toMatchObject({ envs: 0, idle: 0 });
    const late = grant(pool.lease(A, 'j4', 3));
    pool.expire(10_000);
    expect(pool.registerCreated(late.leaseId, 9, 10_001)).toMatchObject({ ok: false, reason: 'stale-lease' });
  });

  it('drains every id of a server at run end and round-trips through JSON', () => {
    const pool = new EnvLeasePool(config);
    const one = grant(pool.lease(A, 'j1', 0));
    const two = grant(pool.lease(A, 'j2', 0));
    pool.registerCreated(one.leaseId, 11, 0);
    pool.registerCreated(two.leaseId, 12, 0);
    pool.release(one.leaseId, 1);
    const revived = new EnvLeasePool(config, JSON.parse(JSON.stringify(pool.toJSON())));
    expect(revived.lease(A, 'j3', 2)).toMatchObject({ kind: 'use', envId: 11 });
    expect(revived.drain(A).sort()).toEqual([11, 12]);
    expect(revived.stats(A)).toMatchObject({ envs: 0, leased: 0, waiting: 0 });
    expect(revived.release(two.leaseId, 3).ok).toBe(false);
  });

  it('never gives one env id to two holders under seeded random interleavings', () => {
    for (const seed of [1, 2, 3, 4, 5]) runRandomSchedule(seed);
  });
});

/** Random holders lease, create, release, crash and renew; invariants are checked after every operation. */
function runRandomSchedule(seed: number): void {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let pool = new EnvLeasePool(config);
  const servers = [A, B];
  const holders = Array.from({ length: 12 }, (_, i) => `h${i}`);
  /** What each holder believes it holds: server -> envId|null (creating) by leaseId. */
  const held = new Map<string, LeaseGrant>();
  /** envId -> holder, from the holders' side: the exclusivity we must never break. */
  const owners = new Map<string, string>();
  let now = 0;
  let nextEnvId = 1;
  const seen = { queuedGrants: 0, expired: 0, reuses: 0 };

  const take = (g: LeaseGrant) => {
    held.set(g.leaseId, g);
    if (g.kind === 'use') claim(g.server, g.envId, g.holderId);
  };
  const claim = (server: string, envId: number, holder: string) => {
    const key = `${server}#${envId}`;
    const owner = owners.get(key);
    if (owner !== undefined && owner !== holder)
      throw new Error(`seed ${seed}: ${key} held by ${owner} and ${holder}`);
    owners.set(key, holder);
  };
  const drop = (g: LeaseGrant, envId: number | null) => {
    held.delete(g.leaseId);
    if (envId !== null) owners.delete(`${g.server}#${envId}`);
  };
  const envOf = (leaseId: string) =>
    pool.activeLeases().find((lease) => lease.leaseId === leaseId)?.envId ?? null;

  for (let op = 0; op < 2_000; op++) {
    now += Math.floor(random() * 60);
    const roll = random();
    if (roll < 0.35) {
      const answer = pool.lease(pick(servers), pick(holders), now);
      if (answer.kind !== 'wait' && !held.has(answer.leaseId)) {
        if (answer.kind === 'use') seen.reuses++;
        take(answer);
      }
    } else if (roll < 0.55 && held.size > 0) {
      const g = pick([...held.values()]);
      if (g.kind === 'create' && envOf(g.leaseId) === null) {
        const envId = nextEnvId++;
        if (pool.registerCreated(g.leaseId, envId, now).ok) claim(g.server, envId, g.holderId);
      }
    } else if (roll < 0.85 && held.size > 0) {
      const g = pick([...held.values()]);
      const envId = envOf(g.leaseId);
      const change = pool.release(g.leaseId, now, pick(['ok', 'ok', 'ok', 'broken', 'gone'] as const));
      if (change.ok) drop(g, envId);
      seen.queuedGrants += change.grants.length;
      change.grants.forEach(take);
    } else if (roll < 0.9 && held.size > 0) {
      pool.renew(pick([...held.keys()]), now);
    } else if (roll < 0.97) {
      const change = pool.expire(now);
      seen.expired += change.expired.length;
      for (const lease of change.expired) {
        const g = held.get(lease.leaseId);
        if (g) drop(g, lease.envId);
      }
      change.grants.forEach(take);
    } else {
      pool = new EnvLeasePool(config, JSON.parse(JSON.stringify(pool.toJSON()))); // a DO restart
    }
    checkInvariants(pool, servers, seed, op);
  }
  // The schedule must have exercised the interesting paths.
  expect(seen.queuedGrants).toBeGreaterThan(0);
  expect(seen.expired).toBeGreaterThan(0);
  expect(seen.reuses).toBeGreaterThan(0);
}

function checkInvariants(pool: EnvLeasePool, servers: string[], seed: number, op: number): void {
  const state = pool.toJSON();
  const fail = (what: string) => {
    throw new Error(`seed ${seed}, op ${op}: ${what}`);
  };
  for (const server of servers) {
    const leases = pool.activeLeases(server);
    const leasedIds = leases.flatMap((lease) => (lease.envId === null ? [] : [lease.envId]));
    const { envIds, idle, queue } = state.servers[server] ?? { envIds: [], idle: [], queue: [] };
    if (new Set(leasedIds).size !== leasedIds.length) fail('one id leased twice');
    if (leasedIds.some((id) => idle.includes(id))) fail('a leased id is also idle');
    if ([...leasedIds, ...idle].some((id) => !envIds.includes(id))) fail('an id outside the pool');
    const creating = leases.filter((lease) => lease.envId === null).length;
    if (envIds.length + creating > pool.capOf(server)) fail('cap exceeded');
    const holders = leases.map((lease) => lease.holderId);
    if (new Set(holders).size !== holders.length) fail('a holder with two leases on one server');
    const queued = queue.map((waiter) => waiter.holderId);
    if (new Set(queued).size !== queued.length) fail('a holder queued twice');
    if (queued.some((holder) => holders.includes(holder))) fail('a holder both queued and leasing');
  }
}

describe('EnvLeasePool env positions', () => {
  const pathOf = (...keys: string[]) => keys;

  function pooled(ids: number[]) {
    const pool = new EnvLeasePool({ ...config, defaultCap: ids.length });
    const leases = ids.map((id, i) => {
      const g = grant(pool.lease(A, `make-${i}`, 0));
      pool.registerCreated(g.leaseId, id, 0);
      return g;
    });
    return { pool, leases };
  }

  it('hands the id already on the way to the wanted path to the next holder, with its position', () => {
    const { pool, leases } = pooled([1, 2, 3]);
    pool.release(leases[0]!.leaseId, 1, 'ok', pathOf('r5', 'a'));
    pool.release(leases[1]!.leaseId, 1, 'ok', pathOf('r7', 'a', 'b'));
    pool.release(leases[2]!.leaseId, 1, 'ok', pathOf('r7'));
    // The longest position that is a prefix of the wanted path wins, whatever the release order.
    expect(pool.lease(A, 'next', 2, pathOf('r7', 'a', 'b', 'c'))).toMatchObject({
      kind: 'use',
      envId: 2,
      path: ['r7', 'a', 'b'],
    });
    expect(pool.lease(A, 'other', 2, pathOf('r7', 'x'))).toMatchObject({
      kind: 'use',
      envId: 3,
      path: ['r7'],
    });
  });

  it('prefers an id with no position over one whose position another task may still use', () => {
    const { pool, leases } = pooled([1, 2]);
    pool.release(leases[0]!.leaseId, 1, 'ok', pathOf('r5', 'a'));
    pool.release(leases[1]!.leaseId, 1, 'ok');
    expect(pool.lease(A, 'next', 2, pathOf('r9'))).toMatchObject({ envId: 2, path: null });
    // Nothing else idle: the positioned id is taken, and its position comes with it.
    expect(pool.lease(A, 'last', 2, pathOf('r9'))).toMatchObject({ envId: 1, path: ['r5', 'a'] });
  });

  it('forgets a position when the id comes back broken or without one, and a waiter gets its wanted id', () => {
    const { pool, leases } = pooled([1]);
    expect(pool.lease(A, 'waiter', 1, pathOf('r1', 'a', 'b'))).toMatchObject({ kind: 'wait' });
    const { grants } = pool.release(leases[0]!.leaseId, 2, 'ok', pathOf('r1', 'a'));
    expect(grants).toEqual([expect.objectContaining({ holderId: 'waiter', envId: 1, path: ['r1', 'a'] })]);
    pool.release(grants[0]!.leaseId, 3, 'ok'); // left without a position: unknown
    expect(pool.lease(A, 'again', 4, pathOf('r1', 'a'))).toMatchObject({ envId: 1, path: null });
    const broken = pooled([4]);
    broken.pool.release(broken.leases[0]!.leaseId, 1, 'broken', pathOf('r1'));
    expect(broken.pool.stats(A).envs).toBe(0);
    // The state survives a round trip through JSON (the EnvPool Durable Object persists it).
    const { pool: saved, leases: kept } = pooled([8]);
    saved.release(kept[0]!.leaseId, 1, 'ok', pathOf('r2'));
    const restored = new EnvLeasePool(config, JSON.parse(JSON.stringify(saved.toJSON())));
    expect(restored.lease(A, 'later', 2, pathOf('r2', 'z'))).toMatchObject({ envId: 8, path: ['r2'] });
  });
});
