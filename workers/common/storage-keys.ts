// Where a run's files live in R2. One JSONL file per task and kind, rewritten whole by the splicer,
// so a repeated splice replaces rather than appends (no duplicates).

export const taskRecordsKey = (runId: string, task: number, kind: 'revision' | 'good') =>
  `runs/${runId}/tasks/${String(task).padStart(6, '0')}/${kind}.jsonl`;

export const taskTreeKey = (runId: string, task: number) =>
  `runs/${runId}/trees/${String(task).padStart(6, '0')}.json`;

export const runRecordsPrefix = (runId: string) => `runs/${runId}/tasks/`;

export const exportKey = (datasetId: string, fileName: string) => `datasets/${datasetId}/${fileName}`;

/** A run's `startFrom` histories (JSON), written once when the run is created (D1 holds the rest of its spec). */
export const runStartFromKey = (runId: string) => `runs/${runId}/start-from.json`;
