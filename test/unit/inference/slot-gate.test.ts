import { describe, expect, it } from 'vitest';
import { createLocalGate } from '../../../shared/inference/local-gate';
import { createRng } from '../../../shared/random';
import { SlotGate } from '../../../shared/inference/slot-gate';

describe('SlotGate', () => {
  it('grants up to capacity, then queues', () => {
    const gate = SlotGate.create({ capacity: 2, leaseTtlMs: 1000 });
    const a = gate.acquire('a', 0);
    const b = gate.acquire('b', 0);
    const c = gate.acquire('c', 0);
    expect(a.status).toBe('granted');
    expect(b.status).toBe('granted');
    expect(c).toEqual({ status: 'queued', leaseId: expect.any(String), position: 0 });
    expect(gate.inUse).toBe(2);
    expect(gate.queued).toBe(1);
  });

  it('serves waiters in arrival order and never lets a newcomer overtake', () => {
    const gate = SlotGate.create({ capacity: 1 });
    const first = gate.acquire('h0', 0);
    const waiting = ['h1', 'h2', 'h3'].map((h) => gate.acquire(h, 1));
    if (first.status !== 'granted') throw new Error('expected a grant');
    const served: string[] = [];
    let current = first.lease.leaseId;
    for (let i = 0; i < 3; i++) {
      const granted = gate.release(current, 2 + i);
      expect(granted).toHaveLength(1);
      served.push(granted[0]!.holderId);
      // A newcomer arriving while someone waits queues behind them.
      if (i === 0) expect(gate.acquire('late', 2).status).toBe('queued');
      current = granted[0]!.leaseId;
    }
    expect(served).toEqual(['h1', 'h2', 'h3']);
    expect(gate.status(waiting[0]!.status === 'queued' ? waiting[0]!.leaseId : '', 9).status).toBe('unknown');
    expect(gate.release(current, 10)[0]?.holderId).toBe('late');
  });

  it('drops the waiters of a cancelled prefix only; a wide one dropped lets narrower ones in', () => {
    const gate = SlotGate.create({ capacity: 4 });
    const held = gate.acquire('run_a:0:j1#1', 0, 0, 2);
    const wide = gate.acquire('run_a:1:j2#1', 1, 0, 4);
    const other = gate.acquire('run_b:0:j1#1', 2, 0, 2);
    const sameStart = gate.acquire('run_aa:0:j1#1', 3);
    expect([held.status, wide.status, other.status, sameStart.status]).toEqual([
      'granted',
      'queued',
      'queued',
      'queued',
    ]);
    const { dropped, granted } = gate.dropWaiters('run_a:', 4);
    expect(dropped.map((w) => w.holderId)).toEqual(['run_a:1:j2#1']);
    // The wide waiter blocked the others; without it both fit beside the held lease.
    expect(granted.map((l) => l.holderId)).toEqual(['run_b:0:j1#1']);
    expect(gate.inUse).toBe(4);
    expect(gate.queued).toBe(1);
    // A held lease of the prefix stays until released.
    if (held.status !== 'granted') throw new Error('expected a grant');
    expect(gate.release(held.lease.leaseId, 5).map((l) => l.holderId)).toEqual(['run_aa:0:j1#1']);
    expect(gate.dropWaiters('run_a:', 6)).toEqual({ dropped: [], granted: [] });
  });

  it('serves a higher priority first, arrival order within a priority', () => {
    const gate = SlotGate.create({ capacity: 1 });
    const first = gate.acquire('h0', 0);
    if (first.status !== 'granted') throw new Error('expected a grant');
    gate.acquire('low-1', 1);
    gate.acquire('high-1', 2, 1);
    gate.acquire('low-2', 3);
    gate.acquire('high-2', 4, 1);
    const served: string[] = [];
    let current = first.lease.leaseId;
    for (let i = 0; i < 4; i++) {
      const [granted] = gate.release(current, 5 + i);
      served.push(granted!.holderId);
      current = granted!.leaseId;
    }
    expect(served).toEqual(['high-1', 'high-2', 'low-1', 'low-2']);
  });

  it('reclaims leases whose holder died and gives them to waiters', () => {
    const gate = SlotGate.create({ capacity: 1, leaseTtlMs: 100 });
    const dead = gate.acquire('dead', 0);
    const waiter = gate.acquire('alive', 10);
    expect(gate.expire(50)).toEqual({ expired: [], abandoned: [], granted: [] });
    const result = gate.expire(100);
    expect(result.expired.map((l) => l.holderId)).toEqual(['dead']);
    expect(result.granted.map((l) => l.holderId)).toEqual(['alive']);
    expect(result.granted[0]!.expiresAt).toBe(200);
    if (dead.status === 'granted') expect(gate.status(dead.lease.leaseId, 100).status).toBe('unknown');
    if (waiter.status === 'queued') expect(gate.status(waiter.leaseId, 100).status).toBe('granted');
  });

  it('renews leases and reports the next deadline', () => {
    const gate = SlotGate.create({ capacity: 2, leaseTtlMs: 100, queueTtlMs: 30 });
    const a = gate.acquire('a', 0);
    if (a.status !== 'granted') throw new Error('expected a grant');
    expect(gate.renew(a.lease.leaseId, 80)?.expiresAt).toBe(180);
    expect(gate.expire(150).expired).toEqual([]);
    expect(gate.nextDeadline()).toBe(180);
    expect(gate.renew('nope', 0)).toBeNull();
  });

  it('drops waiters whose caller stopped polling (queueTtlMs)', () => {
    const gate = SlotGate.create({ capacity: 1, leaseTtlMs: 10_000, queueTtlMs: 30 });
    gate.acquire('holder', 0);
    const quiet = gate.acquire('quiet', 0);
    const polling = gate.acquire('polling', 0);
    if (quiet.status !== 'queued' || polling.status !== 'queued') throw new Error('expected queueing');
    gate.status(polling.leaseId, 20);
    const result = gate.expire(40);
    expect(result.abandoned.map((w) => w.holderId)).toEqual(['quiet']);
    expect(gate.status(polling.leaseId, 40)).toEqual({
      status: 'queued',
      leaseId: polling.leaseId,
      position: 0,
    });
  });

  it('round-trips through its JSON state', () => {
    const gate = SlotGate.create({ capacity: 1 });
    gate.acquire('a', 0);
    const queued = gate.acquire('b', 0);
    const restored = SlotGate.fromState(JSON.parse(JSON.stringify(gate.toState())));
    expect(restored.toState()).toEqual(gate.toState());
    const lease = restored.toState().leases[0]!;
    expect(restored.release(lease.leaseId, 5).map((l) => l.leaseId)).toEqual([
      queued.status === 'queued' ? queued.leaseId : '',
    ]);
  });

  it('releaseHolder and setCapacity grant waiters', () => {
    const gate = SlotGate.create({ capacity: 1 });
    gate.acquire('a', 0);
    gate.acquire('a', 0);
    gate.acquire('b', 0);
    expect(gate.releaseHolder('a', 1).map((l) => l.holderId)).toEqual(['b']);
    gate.acquire('c', 2);
    gate.acquire('d', 2);
    expect(gate.setCapacity(3, 3).map((l) => l.holderId)).toEqual(['c', 'd']);
    expect(() => gate.setCapacity(0, 4)).toThrow(RangeError);
  });

  it('never exceeds capacity under a random schedule, and grants in arrival order', () => {
    const random = createRng(7).next;
    const gate = SlotGate.create({ capacity: 3, leaseTtlMs: 50 });
    const held: string[] = [];
    const arrival = new Map<string, number>();
    const grantOrder: number[] = [];
    let now = 0;
    for (let step = 0; step < 2000; step++) {
      now += 1;
      const roll = random();
      if (roll < 0.5) {
        const result = gate.acquire(`h${step}`, now);
        const id = result.status === 'granted' ? result.lease.leaseId : result.leaseId;
        arrival.set(id, step);
        if (result.status === 'granted') {
          held.push(id);
          grantOrder.push(step);
        }
      } else if (roll < 0.9 && held.length > 0) {
        const [id] = held.splice(Math.floor(random() * held.length), 1);
        for (const l of gate.release(id!, now)) {
          held.push(l.leaseId);
          grantOrder.push(arrival.get(l.leaseId)!);
        }
      } else {
        const { expired, granted } = gate.expire(now);
        for (const l of expired) held.splice(held.indexOf(l.leaseId), 1);
        for (const l of granted) {
          held.push(l.leaseId);
          grantOrder.push(arrival.get(l.leaseId)!);
        }
      }
      expect(gate.inUse).toBeLessThanOrEqual(3);
      expect(gate.inUse).toBe(held.length);
    }
    // Every grant went to an earlier arrival than the grant after it.
    for (let i = 1; i < grantOrder.length; i++) expect(grantOrder[i]).toBeGreaterThan(grantOrder[i - 1]!);
  });
});

describe('createLocalGate', () => {
  it('runs at most capacity tasks at once, in arrival order', async () => {
    const gate = createLocalGate(2);
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = Array.from({ length: 6 }, (_, i) =>
      gate.run(async () => {
        started.push(i);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return i;
      }),
    );
    for (let round = 0; round < 20 && releases.length + started.length > 0; round++) {
      await new Promise((r) => setImmediate(r));
      releases.shift()?.();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(maxRunning).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(gate.inUse).toBe(0);
  });

  it('frees the slot when the work throws', async () => {
    const gate = createLocalGate(1);
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
  });
});
