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
export type { RunManifest as Manifest } from '../../shared/contracts/manifest';

/** A task's progress as the tree page holds it (a pending task is filled in before it started). */
export interface TaskProgress {
  task: number;
  status: string;
  nodes: number;
  policyCalls: number;
  judgeCalls: number;
  promptTokens: number;
  completionTokens: number;
  revision: number;
  good: number;
  failedJobs: number;
  error: string | null;
  pairs?: number;
  failures?: { id: string; reason: string | null }[];
}

export const FINAL_RUN_STATUSES = ['completed', 'partial', 'failed', 'cancelled'];
export const FINAL_TASK_STATUSES = ['done', 'failed', 'cancelled'];
export const RUN_STATUSES = ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled'];
export const EXPORT_FORMATS = ['native', 'openai', 'xtuner', 'agentgym', 'sharegpt', 'trl'] as const;
