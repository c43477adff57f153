import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorkerdScenarios } from '../../cli/bench/faults/workerd';

// The bench's way to the workerd-only durability scenarios (bench.json `faults`): a child vitest
// runs test/integration/durability.test.ts, the tests post what they measured. `npm test` runs
// that file itself; this checks the bench's plumbing, in `npm run test:faults` only.
const full = process.env.AGENT_R_FAULTS_FULL === '1';

describe.skipIf(!full)('the bench runs the workerd durability scenarios (AGENT_R_FAULTS_FULL=1)', () => {
  it(
    'a child vitest measures queue.send failing once and a cancel while a splice writes; their figures reach the bench',
    async () => {
      const workDir = await mkdtemp(join(tmpdir(), 'agent-r-workerd-faults-'));
      try {
        const outcome = await runWorkerdScenarios({
          workDir,
          timeoutMs: 8 * 60_000,
          only: ['queue_send_fails_once_in_dispatch', 'cancel_while_splice_writes'],
          log: (line) => console.log(line),
        });
        expect(outcome.missing).toEqual([]);
        expect(outcome.exitCode).toBe(0);
        expect(outcome.results).toHaveLength(2);
        const r = outcome.results.find((x) => x.scenario === 'queue_send_fails_once_in_dispatch');
        expect(r!.scenario).toBe('queue_send_fails_once_in_dispatch');
        expect(r!.status).toBe('completed');
        expect(r!.lost).toBe(0);
        expect(r!.duplicated).toBe(0);
        expect(r!.webhooks).toBe(1);
        expect(r!.facts.queue_send_failures).toBe(1);
        expect(r!.facts.records).toBeGreaterThan(0);
        expect(r!.facts.test).toBe('passed');
        // Cancel is final: nothing of the task visible at the answer or after, no write after it.
        const c = outcome.results.find((x) => x.scenario === 'cancel_while_splice_writes');
        expect(c).toMatchObject({ status: 'cancelled', lost: 0, duplicated: 0, webhooks: 1 });
        expect(c!.facts).toMatchObject({
          test: 'passed',
          splice_writes_after_answer: 0,
          records_visible_at_answer: 0,
          records_seen_after_answer: 0,
          records: 0,
          index_rows: 0,
        });
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    },
    9 * 60_000,
  );
});
