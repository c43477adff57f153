import { z } from 'zod';

/**
 * The pure logic of an endpoint's concurrency gate (the EndpointGate Durable Object keeps one
 * per endpoint): at most `capacity` leases at once, waiting callers served by priority and then
 * in arrival order, leases that outlive their TTL (the holder died) reclaimed. Time is passed in, never read,
 * and the state is plain JSON so the DO can store it as is.
 */

export const slotLeaseSchema = z.object({
  leaseId: z.string(),
  holderId: z.string(),
  grantedAt: z.number(),
  expiresAt: z.number(),
  /** Slots this lease holds, granted together (absent: 1). */
  slots: z.number().int().min(1).optional(),
});
export type SlotLease = z.infer<typeof slotLeaseSchema>;

export const slotWaiterSchema = z.object({
  leaseId: z.string(),
  holderId: z.string(),
  enqueuedAt: z.number(),
  /** Last time the caller asked about it; used to drop waiters whose caller went away. */
  lastSeenAt: z.number(),
  /** Higher is served first (e.g. judge calls that hold up a task's end); 0 when absent. */
  priority: z.number().int().optional(),
  /** Slots wanted at once (absent: 1). */
  slots: z.number().int().min(1).optional(),
});
export type SlotWaiter = z.infer<typeof slotWaiterSchema>;

export const slotGateStateSchema = z.object({
  capacity: z.number().int().min(1),
  /** A lease not renewed for this long is taken back. */
  leaseTtlMs: z.number().int().positive(),
  /** A waiter not seen for this long is dropped; null keeps waiters until served or cancelled. */
  queueTtlMs: z.number().int().positive().nullable(),
  nextId: z.number().int().nonnegative(),
  leases: z.array(slotLeaseSchema),
  waiting: z.array(slotWaiterSchema),
});
export type SlotGateState = z.infer<typeof slotGateStateSchema>;

export type AcquireResult =
  | { status: 'granted'; lease: SlotLease }
  | { status: 'queued'; leaseId: string; position: number };

export type SlotStatus = AcquireResult | { status: 'unknown'; leaseId: string };

export interface ExpireResult {
  expired: SlotLease[];
  abandoned: SlotWaiter[];
  /** Waiters that got a slot freed by the expiry. */
  granted: SlotLease[];
}

export class SlotGate {
  private constructor(private readonly state: SlotGateState) {}

  static create(options: { capacity: number; leaseTtlMs?: number; queueTtlMs?: number | null }): SlotGate {
    return SlotGate.fromState({
      capacity: options.capacity,
      leaseTtlMs: options.leaseTtlMs ?? 120_000,
      queueTtlMs: options.queueTtlMs ?? null,
      nextId: 0,
      leases: [],
      waiting: [],
    });
  }

  static fromState(state: SlotGateState): SlotGate {
    return new SlotGate(structuredClone(slotGateStateSchema.parse(state)));
  }

  toState(): SlotGateState {
    return structuredClone(this.state);
  }

  get capacity(): number {
    return this.state.capacity;
  }
  /** Slots held (a lease may hold several). */
  get inUse(): number {
    return this.state.leases.reduce((sum, lease) => sum + (lease.slots ?? 1), 0);
  }
  get queued(): number {
    return this.state.waiting.length;
  }

  /**
   * A slot now, or a place at the back of the queue. Call `expire(now)` first (and on an alarm at
   * `nextDeadline()`) so dead holders are reclaimed; its grants must be delivered to their waiters.
   */
  acquire(holderId: string, now: number, priority = 0, slots = 1): AcquireResult {
    // `slots` are granted together or not at all: two callers can never each hold part of the
    // capacity and wait for the rest. More than the capacity could never be granted.
    if (!Number.isInteger(slots) || slots < 1 || slots > this.state.capacity)
      throw new RangeError(`cannot hold ${slots} slots at once: the capacity is ${this.state.capacity}`);
    const leaseId = `L${this.state.nextId++}`;
    // Never overtake someone already waiting, even if slots happen to be free.
    if (this.state.waiting.length === 0 && this.inUse + slots <= this.state.capacity) {
      return { status: 'granted', lease: this.grant(leaseId, holderId, now, slots) };
    }
    const waiter: SlotWaiter = { leaseId, holderId, enqueuedAt: now, lastSeenAt: now };
    if (priority !== 0) waiter.priority = priority;
    if (slots !== 1) waiter.slots = slots;
    this.state.waiting.push(waiter);
    return { status: 'queued', leaseId, position: this.state.waiting.length - 1 };
  }

  /** Where a lease id stands (a waiter's poll; it also counts as a sign of life). */
  status(leaseId: string, now: number): SlotStatus {
    const lease = this.state.leases.find((l) => l.leaseId === leaseId);
    if (lease) return { status: 'granted', lease: { ...lease } };
    const position = this.state.waiting.findIndex((w) => w.leaseId === leaseId);
    if (position < 0) return { status: 'unknown', leaseId };
    this.state.waiting[position]!.lastSeenAt = now;
    return { status: 'queued', leaseId, position };
  }

  /** Extends a held lease (a heartbeat during a long request); null if it is gone. */
  renew(leaseId: string, now: number): SlotLease | null {
    const lease = this.state.leases.find((l) => l.leaseId === leaseId);
    if (!lease) return null;
    lease.expiresAt = now + this.state.leaseTtlMs;
    return { ...lease };
  }

  /** Gives back a lease or leaves the queue; returns the waiters granted as a result. */
  release(leaseId: string, now: number): SlotLease[] {
    this.state.leases = this.state.leases.filter((l) => l.leaseId !== leaseId);
    this.state.waiting = this.state.waiting.filter((w) => w.leaseId !== leaseId);
    return this.fill(now);
  }

  /** Everything a holder has or waits for (its process is known to be gone). */
  releaseHolder(holderId: string, now: number): SlotLease[] {
    this.state.leases = this.state.leases.filter((l) => l.holderId !== holderId);
    this.state.waiting = this.state.waiting.filter((w) => w.holderId !== holderId);
    return this.fill(now);
  }

  /**
   * Drops the waiters whose holder id starts with `prefix` (their work was cancelled); leases
   * already granted stay until released. Returns the dropped waiters and the grants that follow.
   */
  dropWaiters(prefix: string, now: number): { dropped: SlotWaiter[]; granted: SlotLease[] } {
    const dropped = this.state.waiting.filter((w) => w.holderId.startsWith(prefix));
    if (dropped.length === 0) return { dropped, granted: [] };
    this.state.waiting = this.state.waiting.filter((w) => !w.holderId.startsWith(prefix));
    return { dropped, granted: this.fill(now) };
  }

  /** Reclaims leases past their expiry and waiters whose caller stopped asking. */
  expire(now: number): ExpireResult {
    const expired = this.state.leases.filter((l) => l.expiresAt <= now);
    this.state.leases = this.state.leases.filter((l) => l.expiresAt > now);
    const queueTtl = this.state.queueTtlMs;
    const abandoned =
      queueTtl === null ? [] : this.state.waiting.filter((w) => now - w.lastSeenAt >= queueTtl);
    if (abandoned.length > 0) this.state.waiting = this.state.waiting.filter((w) => !abandoned.includes(w));
    return { expired, abandoned, granted: this.fill(now) };
  }

  /** A new capacity (the endpoint record changed); a smaller one takes effect as leases end. */
  setCapacity(capacity: number, now: number): SlotLease[] {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be >= 1, got ${capacity}`);
    this.state.capacity = capacity;
    return this.fill(now);
  }

  /** The next moment something may expire (for scheduling a DO alarm); null if nothing can. */
  nextDeadline(): number | null {
    const times = this.state.leases.map((l) => l.expiresAt);
    const queueTtl = this.state.queueTtlMs;
    if (queueTtl !== null) times.push(...this.state.waiting.map((w) => w.lastSeenAt + queueTtl));
    return times.length === 0 ? null : Math.min(...times);
  }

  private grant(leaseId: string, holderId: string, now: number, slots = 1): SlotLease {
    const lease: SlotLease = { leaseId, holderId, grantedAt: now, expiresAt: now + this.state.leaseTtlMs };
    if (slots !== 1) lease.slots = slots;
    this.state.leases.push(lease);
    return { ...lease };
  }

  /**
   * Serves waiters while there is room: the highest priority first, then in arrival order. The
   * next waiter blocks those behind it until all its slots are free (no starvation of wide ones).
   */
  private fill(now: number): SlotLease[] {
    const granted: SlotLease[] = [];
    while (this.state.waiting.length > 0) {
      const index = this.nextWaiter();
      const next = this.state.waiting[index]!;
      const slots = next.slots ?? 1;
      if (this.inUse + slots > this.state.capacity) break;
      this.state.waiting.splice(index, 1);
      granted.push(this.grant(next.leaseId, next.holderId, now, slots));
    }
    return granted;
  }

  private nextWaiter(): number {
    let best = 0;
    let bestPriority = this.state.waiting[0]!.priority ?? 0;
    for (let i = 1; i < this.state.waiting.length; i++) {
      const priority = this.state.waiting[i]!.priority ?? 0;
      if (priority > bestPriority) {
        best = i;
        bestPriority = priority;
      }
    }
    return best;
  }
}
