import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type ExportFormat, exportRecords } from '../../shared/formats/export';
import { jsonlStream } from '../../shared/formats/jsonl';
import type { LossMessage } from '../../shared/revision/conversation';
import type { NativeRecord } from '../../shared/revision/native-record';

/**
 * Export throughput: synthetic native records (the size and shape of real crafting records)
 * generated one at a time, through `exportRecords` and `jsonlStream` (the pipeline behind
 * GET /v1/runs/:id/dataset), into a sink that only counts bytes. Run in a child process so its
 * memory is measured alone: the peak RSS above the level before the export must not grow with
 * the number of records.
 */

const INSTRUCTION =
  'You are given few useful crafting recipes to craft items in Minecraft. Crafting commands are of the format ' +
  '"craft [target object] using [input ingredients]". You can either "fetch" an object (ingredients) from the ' +
  'inventory or "craft" (target) using any of the crafting commands. You can use ONLY these crafting commands ' +
  'provided, do not use your own crafting commands. However, if the crafting command uses a generic ingredient ' +
  'like "planks", you can use special types of the same ingredient e.g. "dark oak planks" in the command instead.';

function observation(i: number, step: number): string {
  return `Got 1 item ${i % 97}-${step}. Inventory: [oak planks] (${(i + step) % 9}) [stick] (${step % 4})`;
}

function response(i: number, step: number): string {
  return (
    `Thought: I need item ${(i * 7 + step) % 113} next, so I fetch what the recipe asks for first.\n` +
    `Action: craft ${step % 3} item ${(i + step) % 50} using ${step % 4} oak planks, 1 stick`
  );
}

/** One synthetic revision record: 6 bad steps kept, the reflection, 5 good steps (about 5 KB). */
export function syntheticRecord(i: number): NativeRecord {
  const prefix: LossMessage[] = [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: INSTRUCTION },
    { role: 'assistant', content: 'Ok.' },
    {
      role: 'user',
      content: `Crafting commands:\n${'craft 1 item using 2 planks\n'.repeat(8)}Goal: craft item ${i % 200}.`,
    },
  ];
  const bad: LossMessage[] = [];
  for (let s = 1; s <= 6; s++) {
    bad.push({ role: 'assistant', content: response(i, s), loss: false });
    bad.push({ role: 'user', content: observation(i, s) });
  }
  const good: LossMessage[] = [];
  for (let s = 7; s <= 11; s++) {
    good.push({ role: 'assistant', content: response(i + 1, s), loss: true });
    good.push({ role: 'user', content: observation(i + 1, s) });
  }
  const revision: LossMessage[] = [
    {
      role: 'assistant',
      content: 'Thought: I realize my approach was flawed. I need to revise it.\nAction: wait',
      loss: true,
    },
    { role: 'user', content: 'ok.' },
  ];
  return {
    task_num: String(i % 200),
    revise_log: [...prefix, ...bad, ...revision, ...good],
    high_log: [...prefix, ...good],
    low_log: [...prefix, ...bad],
    task_description: prefix[3]!.content,
    revise: true,
    revise_feedback: [],
    id: `synthetic-${i}`,
    kind: 'revision',
    run_id: 'bench-export',
    task: i % 200,
    env: 'crafting:default',
    model: 'sim',
    first_error_step: 6,
    branch_step: 7,
    reward_good: 1,
    reward_bad: 0,
    good_leaf: String(i * 2),
    bad_leaf: String(i * 2 + 1),
  };
}

function* syntheticRecords(count: number): Generator<NativeRecord> {
  for (let i = 0; i < count; i++) yield syntheticRecord(i);
}

export interface ExportMeasurement {
  records: number;
  format: ExportFormat;
  seconds: number;
  bytes: number;
  recordsPerSecond: number;
  /** RSS before the export (after a warm-up) and its peak during the export. */
  rssBeforeMb: number;
  peakRssMb: number;
  peakRssDeltaMb: number;
  /**
   * Largest live heap seen mid-stream right after a forced GC, above the level before the export
   * (a second pass; null without --expose-gc): what the pipeline actually holds, GC slack excluded.
   */
  retainedHeapDeltaMb: number | null;
}

/** Streams `count` records through the export pipeline in this process and measures it. */
export async function measureExportInProcess(
  count: number,
  format: ExportFormat,
): Promise<ExportMeasurement> {
  // Warm-up: compile the code paths so their memory is in the "before" level.
  await drain(jsonlStream(exportRecords(syntheticRecords(2000), format)), () => {});
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  let chunks = 0;
  const started = performance.now();
  const bytes = await drain(jsonlStream(exportRecords(syntheticRecords(count), format)), () => {
    if (++chunks % 8 === 0) peak = Math.max(peak, process.memoryUsage.rss());
  });
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage.rss());
  const mb = (n: number) => n / (1024 * 1024);
  const retained = await measureRetainedHeap(count, format);
  return {
    records: count,
    format,
    seconds,
    bytes,
    recordsPerSecond: count / seconds,
    rssBeforeMb: mb(rssBefore),
    peakRssMb: mb(peak),
    peakRssDeltaMb: mb(peak - rssBefore),
    retainedHeapDeltaMb: retained === null ? null : mb(retained),
  };
}

async function measureRetainedHeap(count: number, format: ExportFormat): Promise<number | null> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  gc();
  const before = process.memoryUsage().heapUsed;
  let retained = 0;
  let chunks = 0;
  await drain(jsonlStream(exportRecords(syntheticRecords(count), format)), () => {
    if (++chunks % 64 === 0) {
      gc();
      retained = Math.max(retained, process.memoryUsage().heapUsed - before);
    }
  });
  return retained;
}

async function drain(stream: ReadableStream<Uint8Array>, onChunk: () => void): Promise<number> {
  const reader = stream.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
    onChunk();
  }
}

/** Runs the measurement in a fresh Node process (tsx), so nothing else shares its heap. */
export function measureExport(
  count: number,
  format: ExportFormat,
  timeoutMs = 600_000,
): Promise<ExportMeasurement> {
  const script = resolve(import.meta.dirname, 'export-child.ts');
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', script, String(count), format], {
      cwd: resolve(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`export measurement failed (${code}):\n${stderr.slice(-2000)}`));
        return;
      }
      resolveRun(JSON.parse(line) as ExportMeasurement);
    });
  });
}
