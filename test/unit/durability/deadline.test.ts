import { describe, expect, it } from 'vitest';
import { DeadlineExceeded, withDeadline } from '../../../shared/deadline';

describe('withDeadline', () => {
  it('settles as the promise does when it answers in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('no')), 1000, 'x')).rejects.toThrow('no');
  });

  it('rejects with DeadlineExceeded (what, ms) once the deadline passes, and a late rejection is swallowed', async () => {
    let fail: (e: Error) => void = () => {};
    const late = new Promise<number>((_, reject) => {
      fail = reject;
    });
    const started = Date.now();
    const error = await withDeadline(late, 50, 'reporting the result').catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(error).toBeInstanceOf(DeadlineExceeded);
    expect((error as DeadlineExceeded).message).toBe('reporting the result: no answer within 50 ms');
    let unhandled = 0;
    const count = () => {
      unhandled += 1;
    };
    process.on('unhandledRejection', count);
    fail(new Error('late'));
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', count);
    expect(unhandled).toBe(0);
  });

  it('says whole seconds as seconds', async () => {
    const error = await withDeadline(new Promise(() => {}), 1000, 'taking the job').catch((e: unknown) => e);
    expect((error as Error).message).toBe('taking the job: no answer within 1 s');
  });
});
