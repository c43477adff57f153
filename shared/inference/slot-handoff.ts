/**
 * One process's side of an endpoint gate: the slots its callers hold and how many callers the
 * gate said were waiting. While the gate is busy, a caller can wait here for a slot another caller
 * of this process is about to give back, and carry that release to the gate with its own ask (one
 * call instead of a release and an acquire). The gate still decides who gets slots: a caller
 * waiting here joins the gate's queue at the release it carries, as it would have joined it
 * behind everyone already waiting.
 */

/** A caller waiting here is sent to the gate on its own after this long without a hand-off. */
export const HAND_OFF_WAIT_MS = 200;

/** How busy the gate was when it last answered: callers waiting, slots free. */
export interface GateLoad {
  waiting: number;
  free: number;
}

interface Deferred {
  resolve: (leaseId: string | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SlotHandOff {
  private held = 0;
  private load: GateLoad = { waiting: 0, free: Number.POSITIVE_INFINITY };
  private capacity = Number.POSITIVE_INFINITY;
  private readonly deferred: Deferred[] = [];

  constructor(private readonly waitMs = HAND_OFF_WAIT_MS) {}

  /**
   * Whether a caller asking now should wait here. Only at the base priority (a judge call is
   * never held back behind expansions), only for as many callers as this process holds leases
   * (each release serves one), and only while the gate is busy (`busy`).
   */
  shouldDefer(capacity: number, priority: number): boolean {
    this.capacity = capacity;
    return priority === 0 && this.deferred.length < this.held && this.busy();
  }

  /** Resolves with a lease id handed over by `handOver`, or null: ask the gate alone. */
  defer(): Promise<string | null> {
    return new Promise((resolve) => {
      const entry: Deferred = {
        resolve,
        timer: setTimeout(() => {
          const at = this.deferred.indexOf(entry);
          if (at >= 0) this.deferred.splice(at, 1);
          resolve(null);
        }, this.waitMs),
      };
      this.deferred.push(entry);
    });
  }

  /** Slots granted to a caller of this process, and the gate's load when it answered. */
  granted(slots: number, load: GateLoad): void {
    this.held += slots;
    this.seen(load);
  }

  /**
   * A caller's request ended: true if its lease went to a caller waiting here (who gives it back
   * with its own ask), false if the caller must give it back to the gate itself.
   */
  handOver(leaseId: string, slots: number): boolean {
    this.held = Math.max(0, this.held - slots);
    const next = this.deferred.shift();
    if (!next) return false;
    clearTimeout(next.timer);
    next.resolve(leaseId);
    return true;
  }

  /** The gate's load as it last answered; callers waiting here ask alone once it is not busy. */
  seen(load: GateLoad): void {
    this.load = { waiting: load.waiting, free: load.free };
    if (this.busy()) return;
    for (const next of this.deferred.splice(0)) {
      clearTimeout(next.timer);
      next.resolve(null);
    }
  }

  /**
   * No slot is free and an ask sent now would not be served before this process's next release
   * anyway: holding `held` of `capacity` slots, about capacity / held releases happen before one
   * of ours, and the ask would be served at release number `waiting` + 1.
   */
  private busy(): boolean {
    const { waiting, free } = this.load;
    return this.held > 0 && free === 0 && (waiting + 1) * this.held >= this.capacity;
  }

  /** Slots held by this process's callers (for tests and stats). */
  get holding(): number {
    return this.held;
  }
  get deferring(): number {
    return this.deferred.length;
  }
}
