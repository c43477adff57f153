import type { ExpandJob } from '../../shared/contracts/jobs';
import { consumeJobs } from '../../workers/common/consume';
import type { CoreBindings } from '../../workers/common/env';
import { expandNode, expandRoot } from '../../workers/expander/src/expand-node';

/**
 * Test-only: the integration worker's expand consumer is the product's (consumeJobs with the
 * expander's work) unless a test registered an attempt to hang here; that attempt's work first
 * awaits a request that a loopback server holds for minutes (`holdUrl`: a fault proxy namespace
 * armed with a long completionDelayMs), the way an await on a socket, a Durable Object or R2 that
 * does not answer hangs, and only then does the real work. (A promise nothing can ever settle is
 * no test: workerd sees it and fails the invocation with "Promise will never complete".) Nothing
 * here is reachable from product code.
 */
export interface Hang {
  /** The run's seed (unique per test): the hang is registered before the run exists. */
  seed: number;
  task: number;
  kind: ExpandJob['kind'];
  attempt: number;
  /** A URL whose POST is answered only after minutes. */
  holdUrl: string;
}

export const hangs: Hang[] = [];

/** The consumer invocations that held a hung attempt: when each began and returned. */
export const hungBatches: { size: number; began: number; returned: number | null }[] = [];

const hangOf = (job: ExpandJob) =>
  hangs.find(
    (h) =>
      h.seed === job.spec.seed && h.task === job.task && h.kind === job.kind && h.attempt === job.attempt,
  );

export async function expandWithHangs(batch: MessageBatch<unknown>, env: CoreBindings): Promise<void> {
  let held: (typeof hungBatches)[number] | null = null;
  await consumeJobs<ExpandJob>(batch, env, ['root', 'expand'], (job, context) => {
    const work = () => (job.kind === 'root' ? expandRoot(env, job, context) : expandNode(env, job, context));
    const hang = hangOf(job);
    if (!hang) return work();
    held ??= { size: batch.messages.length, began: Date.now(), returned: null };
    if (!hungBatches.includes(held)) hungBatches.push(held);
    return fetch(hang.holdUrl, { method: 'POST', body: '{}' }).then(work);
  });
  if (held) (held as (typeof hungBatches)[number]).returned = Date.now();
}
