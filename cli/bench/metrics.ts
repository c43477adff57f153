/** Pure arithmetic and formatting of the benchmark (unit-tested). */

export interface Targets {
  endpoint_utilization: number;
  /** The reference as ONE process (tasks one after another). */
  speedup_vs_reference: number;
  /** The reference as one process per task range, as many as the endpoint has slots (issue 20). */
  speedup_vs_reference_parallel: number;
  /** Ours divided by the reference's judge calls per revision record. */
  judge_calls_ratio_vs_reference: number;
  orchestration_cpu_ms_per_call: number;
}

export const targets: Targets = {
  endpoint_utilization: 0.93,
  speedup_vs_reference: 10,
  speedup_vs_reference_parallel: 10,
  judge_calls_ratio_vs_reference: 0.25,
  orchestration_cpu_ms_per_call: 3,
};

/** Busy time of the endpoint over what C slots could have served in the wall time. */
export function utilisation(busyMs: number, capacity: number, wallMs: number): number {
  if (capacity <= 0 || wallMs <= 0) return 0;
  return busyMs / (capacity * wallMs);
}

export function perCall(total: number, calls: number): number {
  return calls > 0 ? total / calls : 0;
}

/** A wall time measured on `measured` tasks, scaled linearly to `total` tasks. */
export function extrapolateLinear(value: number, measured: number, total: number): number {
  if (measured <= 0) throw new Error('nothing measured to extrapolate from');
  return (value * total) / measured;
}

export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface TableRow {
  metric: string;
  value: string;
  target?: string;
  ok?: boolean | null;
}

/** A plain-text table: metric | value | target | ok. */
export function formatTable(rows: readonly TableRow[]): string {
  const head = { metric: 'metric', value: 'value', target: 'target', ok: '' };
  const cells = rows.map((r) => ({
    metric: r.metric,
    value: r.value,
    target: r.target ?? '',
    ok: r.ok === undefined || r.ok === null ? '' : r.ok ? 'ok' : 'MISSED',
  }));
  const all = [head, ...cells];
  const w = (k: keyof typeof head) => Math.max(...all.map((c) => c[k].length));
  const line = (c: typeof head) =>
    `${c.metric.padEnd(w('metric'))}  ${c.value.padStart(w('value'))}  ${c.target.padEnd(w('target'))}  ${c.ok}`.trimEnd();
  return [line(head), '-'.repeat(w('metric') + w('value') + w('target') + 8), ...cells.map(line)].join('\n');
}

export function formatScaling(
  rows: readonly {
    tasks: number;
    wall_s: number;
    policy_calls: number;
    judge_calls: number;
    endpoint_utilization: number;
  }[],
): string {
  const header = 'tasks   wall_s   policy_calls   judge_calls   utilisation';
  const lines = rows.map(
    (r) =>
      `${String(r.tasks).padStart(5)}  ${r.wall_s.toFixed(1).padStart(7)}  ${String(r.policy_calls).padStart(13)}  ${String(r.judge_calls).padStart(12)}  ${r.endpoint_utilization.toFixed(3).padStart(12)}`,
  );
  return [header, ...lines].join('\n');
}

/**
 * Splits task ids into `shards` contiguous ranges of nearly equal size (the larger ones first), the
 * way users shard the reference implementation by task range (`--min/--max`), one process each.
 */
export function shardRanges(tasks: readonly number[], shards: number): number[][] {
  const count = Math.max(1, Math.min(Math.floor(shards), tasks.length));
  const base = Math.floor(tasks.length / count);
  const extra = tasks.length % count;
  const out: number[][] = [];
  let at = 0;
  for (let s = 0; s < count; s++) {
    const size = base + (s < extra ? 1 : 0);
    out.push(tasks.slice(at, at + size));
    at += size;
  }
  return out;
}
