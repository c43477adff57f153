import { env as workerEnv } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { RunFinishedMessage } from '../../shared/contracts/messages';
import { runCountersSchema } from '../../shared/contracts/run-view';
import type { CoreBindings } from '../../workers/common/env';
import { emitRunCompleted } from '../../workers/gateway/src/services/webhooks';
import { eventually } from './helpers';
import { deliveriesFor, runCompletedHook } from './settled';

const env = workerEnv as unknown as CoreBindings;
const ZERO = ['tasksFailed', 'nodes', 'policyCalls', 'judgeCalls', 'promptTokens', 'completionTokens'];
const MORE_ZERO = ['revision', 'good', 'failedJobs', 'referenceJudgeCalls'];

// The bench's 3 MB-completion scenario once saw run.completed arrive twice: the run's end was
// reported to the gateway twice at once (a report and the ledger's alarm both draining its
// outbox), so two queue messages carried the one delivery, and both copies, read together, sent it.

describe('durability: run.completed is delivered once when its run.finished comes twice at once', () => {
  it('two emits of one run end, processed together, POST the webhook once', async () => {
    const bucket = await runCompletedHook();
    const runId = `run_twice${crypto.randomUUID().slice(0, 8)}`;
    const message: RunFinishedMessage = {
      type: 'run.finished',
      runId,
      status: 'completed',
      counters: runCountersSchema.parse({
        tasks: 1,
        tasksDone: 1,
        ...Object.fromEntries([...ZERO, ...MORE_ZERO].map((k) => [k, 0])),
      }),
      completedAt: Date.now(),
    };
    await Promise.all([emitRunCompleted(env, message), emitRunCompleted(env, message)]);
    await eventually(async () => (await deliveriesFor(bucket, runId)).length > 0, 200);
    // Both queue messages are handled by now; wait a little more for a second POST.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await deliveriesFor(bucket, runId)).toHaveLength(1);
  });
});
