import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInput, scalePlanMarkdown } from '../../../cli/bench/scale-plan';
import { runCli } from '../../helpers/cli-process';

// A platform_ops section with round numbers: 100 policy calls, 1,000 revision records (10 per call).
const platformOps = {
  tasks: 4,
  policy_calls: 100,
  judge_calls: 10,
  revision_records: 1000,
  nodes: 300,
  load_avg_1m: 0.5,
  totals: { queue_messages: 200, do_rpcs: 800, 'do_rpcs.ENDPOINT_GATE': 250, 'do_rpcs.RUN_LEDGER': 20 },
  per_policy_call: {
    queue_messages: 2,
    do_rpcs: 8,
    'do_rpcs.ENDPOINT_GATE': 2.5,
    'do_rpcs.RUN_LEDGER': 0.2,
    'do_rpcs.TASK_TREE': 5.3,
    do_sql_rows_written: 30,
    d1_statements: 0.1,
    d1_rows_written: 20,
    d1_rows_read: 5,
    r2_puts: 0.05,
    r2_put_bytes: 10_000,
    outbound_fetches: 3,
    queue_send_calls: 2,
    'invocations.expander.queue': 0.2,
  },
  cpu_ms_per_policy_call: 5,
  storage_bytes_per_revision_record: { d1_bytes: 1000, r2_bytes: 2000, do_bytes: 10_000 },
};

describe('docs/scale.md from measured counts', () => {
  it('computes every figure from the bench.json sections it is given', () => {
    const md = scalePlanMarkdown(
      planInput([{ generated_at: '2026-12-03T00:00:00Z', platform_ops: platformOps }]),
    );
    // 10 records per call: per 1,000 records = per call x 100.
    expect(md).toContain('| queue messages sent | 200 | 2 | 200 | `queue_messages` |');
    // One gate object at 1,000 requests/s and 2.5 gate RPCs per call binds first, at 400 calls/s.
    expect(md).toContain('| 400 calls/s | 1,000 requests/s / 2.5 gate RPCs per call |');
    expect(md.indexOf('EndpointGate, one Durable Object')).toBeLessThan(
      md.indexOf('RunLedger, one Durable Object'),
    );
    // Per task from platform_ops (no scale section): 25 calls, 250 records; 100,000 tasks = 2.5 M calls.
    expect(md).toContain('**2,500,000 policy calls**');
    // D1: 25 M records x 1,000 B = 25 GB = 3 databases of 10 GB.
    expect(md).toContain('**3 databases**');
    // Queues 200 x 3 ops x $0.40/M = $0.00024; DO requests 800 x $0.15/M = $0.00012; DO rows 3,000 x $1/M
    // = $0.003; D1 rows 2,000 x $1/M = $0.002; D1 reads 500 x $0.001/M = $0.0000005; R2 puts 5 x $4.50/M
    // = $0.0000225; requests 20 x $0.30/M = $0.000006; CPU 500 ms x $0.02/M = $0.00001: $0.005399.
    expect(md).toContain('**$0.0054 per 1,000 revision records**');
    expect(md).toContain('`platform_ops` (cli/bench/platform-ops-section.ts; measured 2026-12-03T00:00:00Z)');
    // An older bench.json (file sizes, logs included) says so; a newer one says how it measured.
    expect(md).toContain('`storage_bytes_per_revision_record.d1_bytes`, WAL included');
    const measured = scalePlanMarkdown(
      planInput([{ platform_ops: { ...platformOps, storage_note: 'as SQLite counts it' } }]),
    );
    expect(measured).toContain(
      '10,000 bytes of DO storage per revision record (the database as SQLite counts it, not its log file)',
    );
  });

  it('takes tasks per build from the largest completed scale build when there is one', () => {
    const scale = {
      endpoint_capacity: 128,
      endpoint_latency_ms: 30,
      wall_per_task_ratio: 1.1,
      peak_rss_ratio: 1.2,
      builds: [100, 1000].map((tasks) => ({
        tasks,
        status: 'completed',
        wall_s: tasks / 2,
        wall_ms_per_task: 500,
        policy_calls: tasks * 80,
        revision_records: tasks * 300,
        endpoint_utilization: 0.05,
        orchestration_cpu_ms_per_call: 5,
        peak_rss_mb: 1500,
        load_avg_1m: 1,
      })),
    };
    const md = scalePlanMarkdown(planInput([{ platform_ops: platformOps }, { scale }]));
    expect(md).toContain(
      'the 1,000-task `scale` build (`scale.builds[1]`): 80,000 / 1,000 = 80 policy calls and 300,000 / 1,000 = 300 revision records',
    );
    expect(md).toContain('**8,000,000 policy calls**');
  });
});

describe('agent-r bench --scale-plan and --only (real CLI process)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-r-scale-plan-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the plan from a bench.json, and refuses a file without platform_ops with exit 2', async () => {
    const good = join(dir, 'bench.json');
    await writeFile(good, JSON.stringify({ platform_ops: platformOps }));
    const ok = await runCli(['bench', '--scale-plan', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^# Scaling agent-r to 100,000 tasks on Cloudflare/);
    const bad = join(dir, 'no-ops.json');
    await writeFile(bad, JSON.stringify({ scale: {} }));
    const refused = await runCli(['bench', '--scale-plan', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('platform_ops');
  });

  it('refuses an unknown part in --only with exit 2 before starting anything', async () => {
    const result = await runCli(['bench', '--only', 'scale,bogus']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('headline, scale, platform_ops, deep_tree, faults');
    expect(result.stderr).not.toContain('starting the local stack');
  });

  it('refuses a --scale-sizes entry that is not a positive integer with exit 2', async () => {
    const result = await runCli(['bench', '--only', 'scale', '--scale-sizes', '1000,0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--scale-sizes must be a positive integer, got "0"');
    expect(result.stderr).not.toContain('starting the local stack');
  });
});
