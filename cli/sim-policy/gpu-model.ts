/**
 * A GPU inference server as a queueing model: at most `capacity` requests in service at once,
 * the rest wait in arrival order; a request occupies its slot for its service time. Busy time is
 * the sum of measured service times, so utilisation = busy / (capacity x wall time).
 */

export interface GpuStats {
  capacity: number;
  inFlight: number;
  maxInFlight: number;
  queued: number;
  maxQueued: number;
  served: number;
  busyMs: number;
}

export interface GpuModel {
  /** Waits for a slot, holds it for `serviceMs`; false if cancelled while still queued. */
  serve(serviceMs: number, cancelled?: AbortSignal): Promise<boolean>;
  stats(): GpuStats;
  /** Each request served since the last reset: [start, end] in epoch ms (at most MAX_SPANS). */
  spans(): Array<[number, number]>;
  resetStats(): void;
}

const MAX_SPANS = 200_000;

export function createGpuModel(capacity: number): GpuModel {
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let maxQueued = 0;
  let served = 0;
  let busyMs = 0;
  let spans: Array<[number, number]> = [];

  function startNext() {
    while (inFlight < capacity && waiting.length > 0) waiting.shift()!();
  }

  async function serve(serviceMs: number, cancelled?: AbortSignal): Promise<boolean> {
    if (inFlight < capacity && waiting.length === 0) {
      inFlight += 1;
    } else {
      // The slot is taken over synchronously by startNext, so no one can slip in between.
      const admitted = await new Promise<boolean>((resolve) => {
        const admit = () => {
          inFlight += 1;
          cancelled?.removeEventListener('abort', drop);
          resolve(true);
        };
        const drop = () => {
          const at = waiting.indexOf(admit);
          if (at >= 0) waiting.splice(at, 1);
          resolve(false);
        };
        waiting.push(admit);
        maxQueued = Math.max(maxQueued, waiting.length);
        cancelled?.addEventListener('abort', drop, { once: true });
      });
      if (!admitted) return false;
    }
    maxInFlight = Math.max(maxInFlight, inFlight);
    const started = performance.now();
    const startedAt = Date.now();
    try {
      await new Promise<void>((resolve) => {
        if (serviceMs <= 0) setImmediate(resolve);
        else setTimeout(resolve, serviceMs);
      });
    } finally {
      busyMs += performance.now() - started;
      if (spans.length < MAX_SPANS) spans.push([startedAt, Date.now()]);
      served += 1;
      inFlight -= 1;
      startNext();
    }
    return true;
  }

  return {
    serve,
    stats: () => ({
      capacity,
      inFlight,
      maxInFlight,
      queued: waiting.length,
      maxQueued,
      served,
      busyMs: Math.round(busyMs),
    }),
    spans: () => spans,
    resetStats() {
      spans = [];
      maxInFlight = inFlight;
      maxQueued = waiting.length;
      served = 0;
      busyMs = 0;
    },
  };
}
