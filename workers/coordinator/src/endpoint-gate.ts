import { DurableObject } from 'cloudflare:workers';
import type { EndpointGateApi, GateGrant, GateRefusal } from '../../common/durable-objects';
import type { GateLoad } from '../../../shared/inference/slot-handoff';
import { SlotGate, type SlotLease } from '../../../shared/inference/slot-gate';
import type { CoordinatorBindings } from '../../common/env';
import { Waiters } from './waiters';

/** A lease not renewed for this long is taken back (holders renew every third of it). */
export const LEASE_TTL_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
/** A revoked holder prefix (a cancelled run) is refused for this long (no acquire waits longer). */
const REVOKED_FOR_MS = MAX_WAIT_MS;

/**
 * One per inference endpoint, shared by every run and worker: never more requests in flight than
 * the endpoint's maxConcurrency; waiting callers are served by priority, then in arrival order; a
 * holder that dies does not leak its slot (leases expire and the alarm takes them back).
 *
 * The gate lives in memory: it is on the path of every model call, and a storage write per
 * acquire and release cost more than the rest of the call's orchestration. The object is busy
 * (never evicted) while anyone holds a slot; if it restarts anyway (a deploy), it starts empty and
 * the calls already in flight are not counted until they end, and their releases are ignored
 * (lease ids carry the start time, so they never match a new lease).
 */
const revokedAnswer: GateRefusal = { refused: 'its work was cancelled', revoked: true };

const loadOf = (gate: SlotGate): GateLoad => ({
  waiting: gate.queued,
  free: Math.max(0, gate.capacity - gate.inUse),
});

export class EndpointGate extends DurableObject<CoordinatorBindings> implements EndpointGateApi {
  private readonly waiters = new Waiters<SlotLease | GateRefusal>();
  /** Holder id prefixes whose work was cancelled -> until when their acquires are refused. */
  private readonly revoked = new Map<string, number>();
  private gate: SlotGate | null = null;
  /** The alarm last set (null: none); re-set only when a lease expires earlier. */
  private alarmAt: number | null = null;

  /**
   * Resolves once the caller holds `slots` slots, all granted together (one lease); a higher
   * `priority` is served first. More slots than the capacity are refused at once. A lease the
   * caller waited for says so (`queued`): what it checked before asking may have changed since.
   */
  async acquire(
    holderId: string,
    capacity: number,
    priority = 0,
    slots = 1,
  ): Promise<GateGrant | GateRefusal> {
    if (slots > capacity)
      return { refused: `cannot hold ${slots} slots at once: the capacity is ${capacity}` };
    const now = Date.now();
    const revoked = this.revokedFor(holderId, now);
    if (revoked) return revoked;
    const gate = this.gateWith(capacity, now);
    this.deliver(gate.expire(now).granted);
    const answer = gate.acquire(holderId, now, priority, slots);
    this.scheduleExpiry(gate);
    if (answer.status === 'granted') return { ...answer.lease, ...loadOf(gate) };
    const lease = await this.waiters.wait(answer.leaseId, MAX_WAIT_MS, () => {
      this.deliver(gate.release(answer.leaseId, Date.now()));
    });
    return 'refused' in lease ? lease : { ...lease, queued: true, ...loadOf(gate) };
  }

  /**
   * The slots of `leaseId` come back (first: they may go to a caller already waiting), then the
   * caller asks for its next request's slots as `acquire` does: two calls' work in one.
   */
  async exchange(
    leaseId: string,
    holderId: string,
    capacity: number,
    priority = 0,
    slots = 1,
  ): Promise<GateGrant | GateRefusal> {
    await this.release(leaseId);
    return this.acquire(holderId, capacity, priority, slots);
  }

  /**
   * The work of every holder whose id starts with `prefix` was cancelled (a run: "runId:"): its
   * waiting callers are answered with a refusal at once, and so are its acquires for the next
   * REVOKED_FOR_MS. Slots already granted stay held until released. Returns the waiters dropped.
   */
  async revoke(prefix: string): Promise<number> {
    const now = Date.now();
    for (const [key, until] of this.revoked) if (until <= now) this.revoked.delete(key);
    this.revoked.set(prefix, now + REVOKED_FOR_MS);
    const gate = this.gate;
    if (!gate) return 0;
    const { dropped, granted } = gate.dropWaiters(prefix, now);
    for (const waiter of dropped) this.waiters.grant(waiter.leaseId, revokedAnswer);
    this.deliver(granted);
    return dropped.length;
  }

  private revokedFor(holderId: string, now: number): GateRefusal | null {
    for (const [prefix, until] of this.revoked)
      if (until > now && holderId.startsWith(prefix)) return revokedAnswer;
    return null;
  }

  /** A holder whose request is still running keeps its lease (false: it already expired). */
  async renew(leaseId: string): Promise<boolean> {
    const lease = this.gate?.renew(leaseId, Date.now()) ?? null;
    if (lease) this.scheduleExpiry(this.gate!);
    return lease !== null;
  }

  async release(leaseId: string): Promise<GateLoad> {
    const gate = this.gate;
    if (!gate) return { waiting: 0, free: 0 };
    this.deliver(gate.release(leaseId, Date.now()));
    return loadOf(gate);
  }

  async stats(): Promise<{ capacity: number; inUse: number; queued: number }> {
    const gate = this.gate;
    return { capacity: gate?.capacity ?? 0, inUse: gate?.inUse ?? 0, queued: gate?.queued ?? 0 };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const gate = this.gate;
    if (!gate) return;
    this.deliver(gate.expire(Date.now()).granted);
    this.scheduleExpiry(gate);
  }

  private gateWith(capacity: number, now: number): SlotGate {
    if (!this.gate)
      this.gate = SlotGate.fromState({
        capacity,
        leaseTtlMs: LEASE_TTL_MS,
        queueTtlMs: null,
        nextId: now,
        leases: [],
        waiting: [],
      });
    else if (this.gate.capacity !== capacity) this.deliver(this.gate.setCapacity(capacity, now));
    return this.gate;
  }

  /** Grants go to their waiting callers; a grant nobody waits for any more is given back. */
  private deliver(granted: SlotLease[]): void {
    const gate = this.gate!;
    let pending = granted;
    while (pending.length) {
      const next: SlotLease[] = [];
      for (const lease of pending) {
        if (!this.waiters.grant(lease.leaseId, lease)) next.push(...gate.release(lease.leaseId, Date.now()));
      }
      pending = next;
    }
  }

  /** Leases expire LEASE_TTL_MS after their grant: one alarm covers all that are newer. */
  private scheduleExpiry(gate: SlotGate): void {
    const next = gate.nextDeadline();
    if (next === null || (this.alarmAt !== null && this.alarmAt <= next)) return;
    this.alarmAt = next;
    void this.ctx.storage.setAlarm(next);
  }
}
