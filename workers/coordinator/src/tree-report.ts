import { type CoordinatorBindings, runLedgerStub } from '../../common/env';
import type { MetaStore } from './sql';
import { isFinal, type TreeMeta } from './tree-meta';
import type { TreeProgress } from './tree-progress';

const REPORT_INTERVAL_MS = 1000;

/**
 * A TaskTree's reports to its RunLedger: at once when the status changes, otherwise at most once
 * per REPORT_INTERVAL_MS (counters of a searching tree change with every result). A report is
 * marked only once the ledger has it, so a failed one is sent again by the alarm.
 */
export class TreeReports {
  private reportedStatus: string | null | undefined;
  /** When the RunLedger last heard from this tree, and in which status. */
  private last = { at: 0, status: '' };

  constructor(
    private readonly meta: MetaStore,
    private readonly progress: () => Promise<TreeProgress | null>,
  ) {}

  async report(env: CoordinatorBindings, tree: TreeMeta, force = false): Promise<void> {
    const now = Date.now();
    const { reported } = this;
    if (!force && tree.status === reported && now - this.last.at < REPORT_INTERVAL_MS) return;
    if (force && tree.status === reported && isFinal(tree)) return;
    const progress = await this.progress();
    if (!progress) return;
    await runLedgerStub(env, tree.runId).reportTask(tree.task, progress);
    this.last = { at: now, status: tree.status };
    // Stored when it changes (a searching tree reports its counters every second).
    if (tree.status !== reported) this.meta.set('reported', tree.status);
    this.reportedStatus = tree.status;
  }

  /**
   * The tree has just been started by the RunLedger, which marks the task 'searching' once start
   * returns: that counts as reported (call inside start's transaction). It spares one RPC per tree
   * on the single local thread while the build's first jobs go out.
   */
  startedByLedger(status: string): void {
    this.meta.set('reported', status);
    this.reportedStatus = status;
    this.last = { at: Date.now(), status };
  }

  /** The status the RunLedger last acknowledged (stored; read once per activation). */
  get reported(): string | null {
    if (this.reportedStatus === undefined) this.reportedStatus = this.meta.get<string>('reported');
    return this.reportedStatus;
  }
}
