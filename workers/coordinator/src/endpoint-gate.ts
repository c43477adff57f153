import { DurableObject } from 'cloudflare:workers';
import { SlotGate, type SlotLease } from '../../../shared/inference/slot-gate';
import type { CoordinatorBindings } from '../../common/env';
import { MetaStore } from './sql';
import { Waiters } from './waiters';

const LEASE_TTL_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;

/**
 * One per inference endpoint, shared by every run and worker: never more requests in flight than
 * the endpoint's maxConcurrency; waiting callers are served in arrival order; a holder that dies
 * does not leak its slot (leases expire and the alarm takes them back).
 */
export class EndpointGate extends DurableObject<CoordinatorBindings> {
  private readonly meta: MetaStore;
  private readonly waiters = new Waiters<SlotLease>();
  private gate: SlotGate | null = null;

  constructor(ctx: DurableObjectState, env: CoordinatorBindings) {
    super(ctx, env);
    this.meta = new MetaStore(ctx.storage.sql);
    const saved = this.meta.get<ReturnType<SlotGate['toState']>>('gate');
    // Waiters lived in memory only, so after a restart nobody is waiting any more.
    if (saved) this.gate = SlotGate.fromState({ ...saved, waiting: [] });
  }

  /** Resolves once the caller holds a slot. */
  async acquire(holderId: string, capacity: number): Promise<SlotLease> {
    const now = Date.now();
    const gate = this.gateWith(capacity, now);
    this.deliver(gate.expire(now).granted);
    const answer = gate.acquire(holderId, now);
    this.save(gate);
    if (answer.status === 'granted') return answer.lease;
    return this.waiters.wait(answer.leaseId, MAX_WAIT_MS, () => {
      this.deliver(gate.release(answer.leaseId, Date.now()));
      this.save(gate);
    });
  }

  async release(leaseId: string): Promise<void> {
    const gate = this.gate;
    if (!gate) return;
    this.deliver(gate.release(leaseId, Date.now()));
    this.save(gate);
  }

  async stats(): Promise<{ capacity: number; inUse: number; queued: number }> {
    const gate = this.gate;
    return { capacity: gate?.capacity ?? 0, inUse: gate?.inUse ?? 0, queued: gate?.queued ?? 0 };
  }

  override async alarm(): Promise<void> {
    const gate = this.gate;
    if (!gate) return;
    this.deliver(gate.expire(Date.now()).granted);
    this.save(gate);
  }

  private gateWith(capacity: number, now: number): SlotGate {
    if (!this.gate) this.gate = SlotGate.create({ capacity, leaseTtlMs: LEASE_TTL_MS });
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

  private save(gate: SlotGate): void {
    this.meta.set('gate', gate.toState());
    const next = gate.nextDeadline();
    if (next !== null) void this.ctx.storage.setAlarm(next);
  }
}
