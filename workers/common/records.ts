import { createInternedJsonlReader } from '../../shared/formats/interned-jsonl';
import { parseJsonl } from '../../shared/formats/jsonl';
import { type NativeRecord, nativeRecordSchema } from '../../shared/revision';
import type { CoreBindings } from './env';
import { taskRecordsKey } from './storage-keys';

export type RecordKind = 'revision' | 'good';

/**
 * A run's records, task by task, streamed from R2 one line at a time: memory stays flat however
 * large the run is. Tasks without a file (not spliced, or skipped) are passed over.
 */
export async function* readRunRecords(
  env: CoreBindings,
  runId: string,
  tasks: readonly number[],
  kinds: readonly RecordKind[],
): AsyncGenerator<NativeRecord> {
  for (const task of tasks) {
    for (const kind of kinds) {
      const object = await env.BUCKET.get(taskRecordsKey(runId, task, kind));
      if (!object) continue;
      yield* readRecordsFile(object.body as ReadableStream<Uint8Array>);
    }
  }
}

/** A task's records file: interned JSONL (plain JSONL from before interning reads too). */
function readRecordsFile(body: ReadableStream<Uint8Array>): AsyncGenerator<NativeRecord> {
  return parseJsonl(body, nativeRecordSchema, createInternedJsonlReader().value);
}

/** One record by its index row (R2 key + line). */
export async function readRecordAt(
  env: CoreBindings,
  r2Key: string,
  line: number,
): Promise<NativeRecord | null> {
  const object = await env.BUCKET.get(r2Key);
  if (!object) return null;
  let index = 0;
  for await (const record of readRecordsFile(object.body as ReadableStream<Uint8Array>)) {
    if (index++ === line) return record;
  }
  return null;
}
