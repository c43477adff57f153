import { describe, expect, it } from 'vitest';
import { SlotHandOff } from '../../../shared/inference/slot-handoff';

const full = (waiting: number) => ({ waiting, free: 0 });

describe('SlotHandOff (one process side of an endpoint gate)', () => {
  it('asks the gate directly while it holds nothing, a slot is free or its ask would come sooner', () => {
    const local = new SlotHandOff();
    expect(local.shouldDefer(4, 0)).toBe(false); // holds nothing: no release will come
    local.granted(1, { waiting: 0, free: 3 });
    expect(local.shouldDefer(4, 0)).toBe(false); // slots are free: ask now
    local.granted(1, full(0));
    expect(local.shouldDefer(4, 0)).toBe(false); // (0 + 1) x 2 held < 4: ours is not next
    local.granted(1, full(1));
    expect(local.shouldDefer(4, 0)).toBe(true); // (1 + 1) x 3 held >= 4
    local.seen({ waiting: 5, free: 1 });
    expect(local.shouldDefer(4, 0)).toBe(false);
  });

  it('never holds back a higher priority (judge calls go ahead of expansions)', () => {
    const local = new SlotHandOff();
    local.granted(4, full(10));
    expect(local.shouldDefer(4, 0)).toBe(true);
    expect(local.shouldDefer(4, 1)).toBe(false);
  });

  it('hands a released lease to the first caller waiting here, at most one caller per held lease', async () => {
    const local = new SlotHandOff(10_000);
    local.granted(1, full(8));
    local.granted(1, full(8));
    expect(local.shouldDefer(2, 0)).toBe(true);
    const first = local.defer();
    expect(local.shouldDefer(2, 0)).toBe(true);
    const second = local.defer();
    // Two held leases: a third caller would wait for more than one release.
    expect(local.shouldDefer(2, 0)).toBe(false);
    expect(local.handOver('L1', 1)).toBe(true);
    expect(local.handOver('L2', 1)).toBe(true);
    expect(await first).toBe('L1');
    expect(await second).toBe('L2');
    // Nobody waits here any more: the next release goes back to the gate.
    expect(local.handOver('L3', 1)).toBe(false);
    expect(local.holding).toBe(0);
  });

  it('sends callers waiting here to the gate once a slot is free there, or after the wait bound', async () => {
    const local = new SlotHandOff(30);
    local.granted(2, full(8));
    const released = local.defer();
    local.seen({ waiting: 0, free: 1 });
    expect(await released).toBeNull();
    expect(local.deferring).toBe(0);
    local.seen(full(8));
    const timedOut = local.defer();
    const started = Date.now();
    expect(await timedOut).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(local.handOver('L1', 2)).toBe(false);
  });
});
