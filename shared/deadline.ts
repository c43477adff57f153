/** An await that did not settle within its deadline (the awaited work may still be running). */
export class DeadlineExceeded extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${formatMs(ms)}`);
    this.name = 'DeadlineExceeded';
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Settles as `promise` does, or rejects with `DeadlineExceeded` once `ms` have passed. A promise
 * cannot be stopped: after the deadline it runs on unobserved (its rejection is swallowed), so
 * whatever it does late must be harmless (an attempt-numbered result the TaskTree ignores).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(what, ms)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
