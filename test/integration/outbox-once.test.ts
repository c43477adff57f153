import { runInDurableObject } from 'cloudflare:test';
import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { JobMessage } from '../../shared/contracts/messages';
import { type CoordinatorBindings, taskTreeStub } from '../../workers/common/env';
import { JobTable } from '../../workers/coordinator/src/jobs';
import { Outbox } from '../../workers/coordinator/src/outbox';
import { type Fault, faultyQueue } from './fault-hooks';

const env = workerEnv as unknown as CoordinatorBindings;

/**
 * The real expand queues, each send recorded (job id per message) and slowed a little, so that
 * overlapping flushes really overlap while a sendBatch is on its way.
 */
function recordingQueues(sent: string[]): Partial<CoordinatorBindings> {
  const wrap = (real: Queue<JobMessage>): Queue<JobMessage> =>
    ({
      send: () => Promise.reject(new Error('the outbox sends batches')),
      sendBatch: async (messages: Iterable<MessageSendRequest<JobMessage>>) => {
        const list = [...messages];
        await new Promise((r) => setTimeout(r, 20));
        const result = await real.sendBatch(list);
        for (const m of list) sent.push(m.body.jobId);
        return result;
      },
    }) as unknown as Queue<JobMessage>;
  // The test worker binds one expand queue (no shards).
  return { EXPAND: wrap(env.EXPAND) };
}

describe('the outbox (real Durable Object SQL, real queues)', () => {
  it('sends each job once when flushes overlap, and a failed send goes out once on the next flush', async () => {
    // A TaskTree's storage with no tree: the consumers drop these messages at pickup.
    const stub = taskTreeStub(env, 'run_outbox_once', 0);
    await runInDurableObject(stub, async (_instance, state) => {
      const jobs = new JobTable(state.storage.sql);
      const now = Date.now();
      const ids = Array.from({ length: 12 }, (_, i) => `outbox-once-${i}`);
      for (const [i, id] of ids.entries()) jobs.add(id, 'expand', String(i + 1), now + 60_000, now);
      const sent: string[] = [];
      const queues = recordingQueues(sent);
      const outbox = new Outbox(() => ({ ...env, ...queues }), jobs);

      // Three results committed while the first flush still awaits its sendBatch.
      const first = outbox.flush('run_outbox_once', 0, 30_000);
      jobs.add('outbox-once-late', 'expand', '13', now + 60_000, now);
      const overlapping = await Promise.all([
        first,
        outbox.flush('run_outbox_once', 0, 30_000),
        outbox.flush('run_outbox_once', 0, 30_000),
      ]);
      expect(overlapping).toEqual([true, true, true]);
      expect([...sent].sort()).toEqual([...ids, 'outbox-once-late'].sort());
      expect(jobs.unsent()).toEqual([]);

      // One failing sendBatch: that flush says so, the overlapping one does not send the same job,
      // and the next flush (the alarm's) sends it, once.
      jobs.add('outbox-once-retry', 'expand', '14', now + 60_000, now);
      const fault: Fault = { on: true, hits: 0 };
      const failing = new Outbox(
        () => ({
          ...env,
          ...queues,
          EXPAND: faultyQueue(queues.EXPAND!, fault, true),
        }),
        jobs,
      );
      const before = sent.length;
      expect(
        await Promise.all([
          failing.flush('run_outbox_once', 0, 30_000),
          failing.flush('run_outbox_once', 0, 30_000),
        ]),
      ).toEqual([false, true]);
      expect(fault.hits).toBe(1);
      expect(sent.length).toBe(before);
      expect(jobs.unsent().map((j) => j.id)).toEqual(['outbox-once-retry']);
      expect(await failing.flush('run_outbox_once', 0, 30_000)).toBe(true);
      expect(sent.slice(before)).toEqual(['outbox-once-retry']);
      expect(jobs.unsent()).toEqual([]);
    });
  });
});
