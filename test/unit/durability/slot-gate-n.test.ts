import { describe, expect, it } from 'vitest';
import { SlotGate } from '../../../shared/inference/slot-gate';

describe('SlotGate: n slots at once', () => {
  it('grants all n slots of a caller together or none: two wide callers never split the capacity', () => {
    const gate = SlotGate.create({ capacity: 4 });
    const a = gate.acquire('a', 0, 0, 4);
    const b = gate.acquire('b', 0, 0, 4);
    expect(a.status).toBe('granted');
    expect(b.status).toBe('queued');
    expect(gate.inUse).toBe(4);
    if (a.status !== 'granted') throw new Error('unreachable');
    const granted = gate.release(a.lease.leaseId, 1);
    expect(granted.map((l) => [l.holderId, l.slots])).toEqual([['b', 4]]);
    gate.release(granted[0]!.leaseId, 2);
    expect(gate.inUse).toBe(0);
  });

  it('makes narrow callers behind a wide one wait (no starvation), then serves them', () => {
    const gate = SlotGate.create({ capacity: 4 });
    const one = gate.acquire('one', 0);
    const wide = gate.acquire('wide', 0, 0, 4);
    const late = gate.acquire('late', 0);
    expect([one.status, wide.status, late.status]).toEqual(['granted', 'queued', 'queued']);
    if (one.status !== 'granted') throw new Error('unreachable');
    const next = gate.release(one.lease.leaseId, 1);
    expect(next.map((l) => l.holderId)).toEqual(['wide']);
    expect(gate.release(next[0]!.leaseId, 2).map((l) => l.holderId)).toEqual(['late']);
  });

  it('refuses more slots than the capacity at once instead of queueing forever', () => {
    const gate = SlotGate.create({ capacity: 3 });
    expect(() => gate.acquire('x', 0, 0, 4)).toThrow('cannot hold 4 slots at once: the capacity is 3');
    expect(gate.queued).toBe(0);
  });

  it('counts a lease of n slots as n until it expires', () => {
    const gate = SlotGate.create({ capacity: 4, leaseTtlMs: 100 });
    gate.acquire('a', 0, 0, 3);
    expect(gate.inUse).toBe(3);
    expect(gate.acquire('b', 10, 0, 2).status).toBe('queued');
    const { expired, granted } = gate.expire(100);
    expect(expired.map((l) => l.slots)).toEqual([3]);
    expect(granted.map((l) => [l.holderId, l.slots])).toEqual([['b', 2]]);
    expect(gate.inUse).toBe(2);
  });
});
