import type { RecordedCall } from '../../../cli/bench/fakes/fastapi-like';

/** Quick retries so fault tests stay fast; outcomes are asserted, never durations. */
export const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
export const TIMEOUT_MS = 5_000;
/** Short time limit for tests against a server that never answers. */
export const HANG_TIMEOUT_MS = 200;

export function callsTo(calls: readonly RecordedCall[], path: string): RecordedCall[] {
  return calls.filter((call) => call.path === path);
}

/** Awaits a promise that must reject, and returns the reason. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
