import { type CoordinatorBindings, taskTreeStub } from '../../common/env';
import type { LedgerRecord } from './ledger-record';
import { all } from './sql';

/** Trees started per chunk: a run of thousands of tasks starts in chunks, each a bounded fan-out. */
const TREES_PER_CHUNK = 50;

/**
 * A RunLedger's tree starts, one chunk at a time: the first chunk from `RunLedger.start` itself
 * (not after the alarm's delivery), the next ones and any retry from the alarm. Never two chunks at
 * once, so the request path and the alarm never start the same trees.
 */
export class TreeStarts {
  /** The chunk in progress. */
  private chunk: Promise<boolean> | null = null;

  constructor(
    private readonly env: CoordinatorBindings,
    private readonly sql: SqlStorage,
    private readonly stored: LedgerRecord,
  ) {}

  /** Starts the next chunk (after the one in progress); true when every tree has been started. */
  async next(): Promise<boolean> {
    while (this.chunk) await this.chunk.catch(() => false);
    const run = this.stored.run;
    if (run?.status !== 'running') return true;
    this.chunk = this.startChunk(run.runId);
    try {
      return await this.chunk;
    } finally {
      this.chunk = null;
    }
  }

  private async startChunk(runId: string): Promise<boolean> {
    const pending = all<{ task: number }>(
      this.sql,
      'SELECT task FROM tasks WHERE started = 0 ORDER BY task LIMIT ?',
      TREES_PER_CHUNK,
    );
    await Promise.all(
      pending.map(async ({ task }) => {
        const tree = taskTreeStub(this.env, runId, task);
        await tree.start(runId, task, this.stored.taskSpec(task));
        this.stored.markStarted(task);
        // A cancel that came while this tree was starting did not see it started: stop it here.
        if (this.stored.run?.status === 'cancelled') await tree.cancel('run cancelled');
      }),
    );
    return pending.length < TREES_PER_CHUNK;
  }
}
