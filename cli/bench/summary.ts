import { formatTable, round, type TableRow, targets } from './metrics';

/** The plain-text summary printed at the end of `agent-r bench` (bench.json has everything). */

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function summaryTable(r: Record<string, unknown>): string {
  const fmt = (v: unknown, digits = 3) => (num(v) === null ? 'n/a' : String(round(num(v)!, digits)));
  const atLeast = (v: unknown, t: number) => (num(v) === null ? null : num(v)! >= t);
  const atMost = (v: unknown, t: number) => (num(v) === null ? null : num(v)! <= t);
  const rows: TableRow[] = [
    {
      metric: 'endpoint_utilization',
      value: fmt(r.endpoint_utilization),
      target: `>= ${targets.endpoint_utilization}`,
      ok: atLeast(r.endpoint_utilization, targets.endpoint_utilization),
    },
    {
      metric: 'speedup_vs_reference (1 process)',
      value: fmt(r.speedup_vs_reference, 2),
      target: `>= ${targets.speedup_vs_reference}`,
      ok: atLeast(r.speedup_vs_reference, targets.speedup_vs_reference),
    },
    {
      metric: `speedup_vs_reference_parallel (${String(r.speedup_vs_reference_parallel_processes ?? '?')} processes${(r.baseline_parallel as { exact?: boolean } | undefined)?.exact === false ? ', lower bound' : ''})`,
      value: fmt(r.speedup_vs_reference_parallel, 2),
      target: `>= ${targets.speedup_vs_reference_parallel}`,
      ok: atLeast(r.speedup_vs_reference_parallel, targets.speedup_vs_reference_parallel),
    },
    { metric: 'judge_calls_per_revision', value: fmt(r.judge_calls_per_revision, 5) },
    { metric: 'reference_judge_calls_per_revision', value: fmt(r.reference_judge_calls_per_revision, 5) },
    {
      metric: 'judge_calls_ratio_vs_reference',
      value: fmt(r.judge_calls_ratio_vs_reference, 5),
      target: '<= 0.25',
      ok: atMost(r.judge_calls_ratio_vs_reference, targets.judge_calls_ratio_vs_reference),
    },
    { metric: 'policy_calls', value: fmt(r.policy_calls, 0) },
    { metric: 'revision_records', value: fmt(r.revision_records, 0) },
    { metric: 'good_records', value: fmt(r.good_records, 0) },
    { metric: 'wall_s', value: fmt(r.wall_s, 2) },
    {
      metric: 'orchestration_cpu_ms_per_call',
      value: fmt(r.orchestration_cpu_ms_per_call, 2),
      target: `<= ${targets.orchestration_cpu_ms_per_call}`,
      ok: atMost(r.orchestration_cpu_ms_per_call, targets.orchestration_cpu_ms_per_call),
    },
    { metric: 'peak_rss_mb', value: fmt(r.peak_rss_mb, 1) },
    { metric: 'export_records_per_s', value: fmt(r.export_records_per_s, 0) },
    { metric: 'export_peak_rss_delta_mb', value: fmt(r.export_peak_rss_delta_mb, 1) },
  ];
  const baseline = r.baseline as { note?: string; wall_s?: number } | undefined;
  const lines = [
    `agent-r bench (${String(r.mode)}): ${String(r.tasks)} tasks, parallelism ${String(r.parallelism)}, endpoint C=${String(r.endpoint_capacity)} / ${String(r.endpoint_latency_ms)} ms`,
    formatTable(rows),
  ];
  if (baseline?.note)
    lines.push(`reference baseline, one process: ${fmt(baseline.wall_s, 1)} s; ${baseline.note}`);
  const parallel = r.baseline_parallel as { note?: string; wall_s?: number } | undefined;
  if (parallel?.note)
    lines.push(`reference baseline, in parallel: ${fmt(parallel.wall_s, 1)} s; ${parallel.note}`);
  return lines.join('\n');
}
