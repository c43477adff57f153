/**
 * Callers parked inside a Durable Object until something is granted to them. The RPC call of a
 * waiting caller simply stays open; if the object is evicted the call fails and the caller retries.
 */
export class Waiters<T> {
  private readonly pending = new Map<
    string,
    { resolve: (value: T) => void; reject: (error: Error) => void }
  >();

  wait(key: string, timeoutMs: number, onTimeout: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        onTimeout();
        reject(new Error(`still waiting after ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(key, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** Hands `value` to the caller waiting on `key`; false when nobody waits (it went away). */
  grant(key: string, value: T): boolean {
    const waiter = this.pending.get(key);
    if (!waiter) return false;
    this.pending.delete(key);
    waiter.resolve(value);
    return true;
  }
}
