// The API's shapes as the dashboard reads them (see /openapi.json). Record and tree shapes come
// from the project's own definitions (type-only imports: nothing of shared/ is bundled).
import type { NativeRecord } from '../../shared/revision';
import type { ExportedTreeNode, TreeFile, TreeNode } from '../../shared/contracts/tree-file';

export type { NativeRecord, TreeFile, TreeNode };

/** Tree nodes as the API sends them: the Contract fields plus the optional extras. */
export type ApiTreeNode = ExportedTreeNode;

// Run statuses, counters, the run view and a task's status: the API's contracts (type-only).
export type {
  RunCounters,
  RunView,
  TaskView,
  TaskWait,
  TrajectoryRow,
} from '../../shared/contracts/run-view';
import type { TaskProgressView } from '../../shared/contracts/run-view';
import type { LiveMessage } from '../../shared/contracts/live-tree';
export type { RunManifest as Manifest } from '../../shared/contracts/manifest';

/**
 * A task's progress as the tree page holds it: the API's TaskProgressView (GET
 * /v1/runs/:id/tasks/:task), except that a task not started yet is filled in without pairs and
 * failures, and a live update sets the status as the live protocol sends it.
 */
export type TaskProgress = Omit<TaskProgressView, 'status' | 'pairs' | 'failures' | 'referenceJudgeCalls'> &
  Partial<Pick<TaskProgressView, 'pairs' | 'failures' | 'referenceJudgeCalls'>> &
  Pick<Extract<LiveMessage, { type: 'status' }>, 'status'>;

// Status and format names: plain lists (statuses.ts has no zod, so they bundle small).
export {
  EXPORT_FORMATS,
  isFinalRunStatus,
  isFinalTaskStatus,
  RUN_STATUSES,
} from '../../shared/contracts/statuses';
