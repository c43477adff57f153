// The status and format names every side shows or filters by, as plain lists: no zod here, so the
// dashboard's browser bundle can import them too. The zod enums (run-view.ts, formats/export.ts)
// are built from these lists.

export const RUN_STATUSES = ['queued', 'running', 'completed', 'partial', 'failed', 'cancelled'] as const;

/** The statuses a run never leaves. */
export const FINAL_RUN_STATUSES = ['completed', 'partial', 'failed', 'cancelled'] as const;
export const isFinalRunStatus = (status: string | null | undefined): boolean =>
  (FINAL_RUN_STATUSES as readonly string[]).includes(status ?? '');

export const TASK_STATUSES = [
  'pending',
  'searching',
  'critiquing',
  'splicing',
  'done',
  'failed',
  'cancelled',
] as const;

/** The statuses a task never leaves. */
export const FINAL_TASK_STATUSES = ['done', 'failed', 'cancelled'] as const;
export const isFinalTaskStatus = (status: string | null | undefined): boolean =>
  (FINAL_TASK_STATUSES as readonly string[]).includes(status ?? '');

/** The export formats of records (GET .../records?format=, agent-r export --format). */
export const EXPORT_FORMATS = ['native', 'openai', 'xtuner', 'agentgym', 'sharegpt', 'trl'] as const;
