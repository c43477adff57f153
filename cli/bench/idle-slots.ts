/**
 * Where an endpoint's slots sat idle during a build, from the sim-policy's served requests
 * ([start, end] in epoch ms, GET /stats/spans): before every slot was first busy (the ramp), after
 * they were last all busy (the tail), and between (the middle). Slot-seconds idle in each phase
 * add up to capacity x wall - busy, the utilisation's shortfall.
 */
export interface SlotIdle {
  /** From the POST to the first request at the endpoint. */
  first_request_s: number;
  /** From the POST to the first moment every slot was busy (null: never). */
  full_from_s: number | null;
  /** From the POST to the last moment every slot was busy (null: never). */
  full_until_s: number | null;
  /** From the end of the last request to the final status. */
  after_last_request_s: number;
  /** Idle slot-seconds before full_from, between full_from and full_until, after full_until. */
  idle_slot_s: { ramp: number; middle: number; tail: number };
}

const round = (value: number) => Math.round(value * 100) / 100;

export function slotIdle(
  spans: readonly (readonly [number, number])[],
  postedAt: number,
  wallMs: number,
  capacity: number,
): SlotIdle | null {
  if (spans.length === 0) return null;
  const endAt = postedAt + wallMs;
  // Ends before starts at the same instant: a slot handed straight on is not counted twice.
  const events: [number, number][] = spans
    .flatMap(([start, end]): [number, number][] => [
      [start, 1],
      [end, -1],
    ])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let fullFrom: number | null = null;
  let fullUntil: number | null = null;
  for (const [at, change] of events) {
    if (inFlight >= capacity && change < 0) fullUntil = at;
    inFlight += change;
    if (inFlight >= capacity) fullFrom ??= at;
  }
  const firstStart = Math.min(...spans.map(([start]) => start));
  const lastEnd = Math.max(...spans.map(([, end]) => end));
  const rampEnd = fullFrom ?? endAt;
  const tailStart = fullUntil ?? rampEnd;
  const busyIn = (from: number, to: number) =>
    spans.reduce((sum, [start, end]) => sum + Math.max(0, Math.min(end, to) - Math.max(start, from)), 0);
  const idle = (from: number, to: number) =>
    to > from ? round((capacity * (to - from) - busyIn(from, to)) / 1000) : 0;
  return {
    first_request_s: round((firstStart - postedAt) / 1000),
    full_from_s: fullFrom === null ? null : round((fullFrom - postedAt) / 1000),
    full_until_s: fullUntil === null ? null : round((fullUntil - postedAt) / 1000),
    after_last_request_s: round((endAt - lastEnd) / 1000),
    idle_slot_s: {
      ramp: idle(postedAt, rampEnd),
      middle: idle(rampEnd, tailStart),
      tail: idle(tailStart, endAt),
    },
  };
}
