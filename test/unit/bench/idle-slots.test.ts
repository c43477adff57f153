import { describe, expect, it } from 'vitest';
import { slotIdle } from '../../../cli/bench/idle-slots';

describe('slotIdle: where the endpoint slots sat idle', () => {
  it('splits idle slot-seconds into ramp, middle and tail; they add up to capacity x wall - busy', () => {
    // Capacity 2, POST at 1000, final status at 1000 + 10000.
    const spans: [number, number][] = [
      [2000, 5000], // slot A
      [3000, 4000], // slot B: both busy from 3000
      [4000, 8000], // B handed straight on: still full until A ends at 5000
      [6000, 9000], // A again: full from 6000 to 8000
    ];
    const idle = slotIdle(spans, 1000, 10_000, 2)!;
    expect(idle.first_request_s).toBe(1);
    expect(idle.full_from_s).toBe(2);
    expect(idle.full_until_s).toBe(7);
    expect(idle.after_last_request_s).toBe(2);
    // Ramp 1000-3000: 2 x 2 s - 1 s busy = 3; middle 3000-8000: 10 - 9 = 1 (A idle 5000-6000);
    // tail 8000-11000: 6 - 1 (A until 9000) = 5.
    expect(idle.idle_slot_s).toEqual({ ramp: 3, middle: 1, tail: 5 });
    const busy = spans.reduce((sum, [s, e]) => sum + e - s, 0) / 1000;
    const { ramp, middle, tail } = idle.idle_slot_s;
    expect(ramp + middle + tail).toBeCloseTo(2 * 10 - busy, 6);
  });

  it('an endpoint never full: all idle time is ramp, no full window', () => {
    const idle = slotIdle([[1500, 2500]], 1000, 2000, 4)!;
    expect(idle.full_from_s).toBeNull();
    expect(idle.full_until_s).toBeNull();
    expect(idle.idle_slot_s).toEqual({ ramp: 7, middle: 0, tail: 0 });
    expect(slotIdle([], 0, 1000, 4)).toBeNull();
  });
});
