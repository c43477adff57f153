import { fig, limits, n, type PlanInput, page, prices, s, TARGET_TASKS, usd } from './scale-plan-inputs';

export { planInput, planInputSchema } from './scale-plan-inputs';

/**
 * docs/scale.md, generated from bench.json (`agent-r bench --scale-plan FILE[,FILE...]`): the plan
 * for 100,000 tasks on Cloudflare from the measured `platform_ops` counts (and the `scale` and
 * `deep_tree` sections when present). Every number in the document is computed here from those
 * figures and the list prices and limits below, so new measurements give a new document.
 */

interface Derived {
  per: (key: string) => number;
  recordsPerCall: number;
  perThousandRecords: (perCall: number) => number;
  callsPerTask: number;
  recordsPerTask: number;
  perTaskSource: string;
  /** The build the per-task figures come from. */
  perTaskBuild: { tasks: number; policy_calls: number; revision_records: number };
}

function derive(input: PlanInput): Derived {
  const ops = input.platform_ops;
  const per = (key: string) => fig(ops.per_policy_call[key] ?? 0);
  const recordsPerCall = fig(ops.revision_records / ops.policy_calls);
  const largest = input.scale?.builds.filter((b) => b.status === 'completed').at(-1);
  const perTask = largest ?? {
    tasks: ops.tasks,
    policy_calls: ops.policy_calls,
    revision_records: ops.revision_records,
  };
  return {
    per,
    recordsPerCall,
    perThousandRecords: (perCall) => fig((perCall * 1000) / recordsPerCall),
    perTaskBuild: perTask,
    callsPerTask: fig(perTask.policy_calls / perTask.tasks),
    recordsPerTask: fig(perTask.revision_records / perTask.tasks),
    perTaskSource: largest
      ? `the ${n(largest.tasks)}-task \`scale\` build (\`scale.builds[${input.scale!.builds.indexOf(largest)}]\`)`
      : `the \`platform_ops\` build (${n(ops.tasks)} tasks)`,
  };
}

const opsRows: [key: string, label: string][] = [
  ['queue_messages', 'queue messages sent'],
  ['do_rpcs', 'Durable Object RPCs (all)'],
  ['do_rpcs.TASK_TREE', '- to TaskTree (one object per task)'],
  ['do_rpcs.ENDPOINT_GATE', '- to EndpointGate (one object per endpoint)'],
  ['do_rpcs.RUN_LEDGER', '- to RunLedger (one object per run)'],
  ['do_sql_statements', 'Durable Object SQL statements'],
  ['do_sql_rows_written', 'Durable Object SQL rows written'],
  ['d1_statements', 'D1 statements'],
  ['d1_batches', 'D1 batches'],
  ['d1_rows_written', 'D1 rows written'],
  ['d1_rows_read', 'D1 rows read'],
  ['r2_puts', 'R2 puts'],
  ['r2_put_bytes', 'R2 bytes put'],
  ['outbound_fetches', 'outbound fetches (policy and judge endpoint)'],
];

function sources(input: PlanInput): string {
  const ops = input.platform_ops;
  const lines = [
    '## Where every figure comes from',
    '',
    `- \`platform_ops\` (cli/bench/platform-ops-section.ts; measured ${ops.measured_at ?? '?'}): a build of ${n(ops.tasks)} default-world tasks on a local stack (wrangler dev + workerd: D1, R2, Queues and Durable Objects run for real) with the workers' binding counters on (\`OPS_METER=1\`, workers/common/ops-meter.ts). ${n(ops.policy_calls)} policy calls, ${n(ops.judge_calls)} judge calls, ${n(ops.nodes)} nodes, ${n(ops.revision_records)} revision records; load average ${ops.load_avg_1m} when it ended (the counts do not depend on load; the CPU figure does).`,
    '  Per policy call: `platform_ops.per_policy_call.<counter>`; CPU: `platform_ops.cpu_ms_per_policy_call`; bytes left in storage: `platform_ops.storage_bytes_per_revision_record`.',
  ];
  if (input.scale)
    lines.push(
      `- \`scale\` (cli/bench/scale-section.ts; measured ${input.scale.measured_at ?? '?'}): builds of ${input.scale.builds.map((b) => n(b.tasks)).join(', ')} tasks on one stack against a sim-policy with ${input.scale.endpoint_capacity} slots and ${input.scale.endpoint_latency_ms} ms per request: \`scale.builds[i]\`.`,
    );
  if (input.deep_tree)
    lines.push(
      `- \`deep_tree\` (cli/bench/deep-tree.ts; measured ${input.deep_tree.measured_at ?? '?'}): one task with 64 iterations: \`deep_tree.*\`.`,
    );
  lines.push(
    '- Prices and limits: the Workers Paid list prices and platform limits in cli/bench/scale-plan-inputs.ts (`prices`, `limits`), each linked to its page below.',
    '',
    'Regenerate after a new measurement: `agent-r bench --scale-plan out/bench.json > docs/scale.md` (several files, comma-separated, are merged left to right, e.g. a quick run for `platform_ops` and a full run for `scale`).',
  );
  return lines.join('\n');
}

function countsTable(input: PlanInput, d: Derived): string {
  const ops = input.platform_ops;
  const rows = opsRows.map(([key, label]) => {
    const per = d.per(key);
    return `| ${label} | ${n(ops.totals[key] ?? 0)} | ${s(per)} | ${s(d.perThousandRecords(per))} | \`${key}\` |`;
  });
  const inv = Object.keys(ops.per_policy_call)
    .filter((k) => k.startsWith('invocations.'))
    .sort();
  const invPer = inv.reduce((sum, k) => sum + d.per(k), 0);
  const invTotal = inv.reduce((sum, k) => sum + (ops.totals[k] ?? 0), 0);
  rows.push(
    `| worker invocations (${inv.map((k) => `${k.slice('invocations.'.length)} ${n(ops.totals[k] ?? 0)}`).join(', ')}) | ${n(invTotal)} | ${s(invPer)} | ${s(d.perThousandRecords(invPer))} | \`invocations.*\` |`,
    `| CPU of the local stack, ms (an upper bound of Workers CPU) | ${n(ops.cpu_ms_per_policy_call * ops.policy_calls)} | ${s(fig(ops.cpu_ms_per_policy_call))} | ${s(d.perThousandRecords(fig(ops.cpu_ms_per_policy_call)))} | \`cpu_ms_per_policy_call\` |`,
  );
  return [
    '## Measured counts',
    '',
    `One policy call yields ${s(d.recordsPerCall)} revision records here (${n(ops.revision_records)} / ${n(ops.policy_calls)}), so per 1,000 records = per call x 1,000 / ${s(d.recordsPerCall)}.`,
    '',
    '| operation | whole build | per policy call | per 1,000 revision records | `platform_ops.per_policy_call` key |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    "The CPU figure is the /proc CPU of every process of the local stack (wrangler, workerd, esbuild) with the counters on; Workers bill only the isolates' CPU, so this overstates it.",
  ].join('\n');
}

function scaleSection(input: PlanInput): string {
  const sc = input.scale;
  const lines = ['## Builds of 100 to 1,000 tasks (`scale`)', ''];
  if (!sc) return [...lines, 'No `scale` section in the input.'].join('\n');
  lines.push(
    '| tasks | status | wall s | wall ms per task | policy calls | revision records | utilisation | stack CPU ms per call | peak RSS MB | load |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...sc.builds.map(
      (b) =>
        `| ${n(b.tasks)} | ${b.status} | ${s(b.wall_s, 4)} | ${s(b.wall_ms_per_task, 4)} | ${n(b.policy_calls)} | ${n(b.revision_records)} | ${b.endpoint_utilization} | ${b.orchestration_cpu_ms_per_call} | ${s(b.peak_rss_mb, 4)} | ${b.load_avg_1m} |`,
    ),
    '',
    `Wall per task, largest over smallest build: **${sc.wall_per_task_ratio ?? 'n/a'}** (\`scale.wall_per_task_ratio\`; about 1 = linear in tasks). Peak RSS of the stack, largest over smallest: **${sc.peak_rss_ratio ?? 'n/a'}** (\`scale.peak_rss_ratio\`; target <= 1.5). The builds are bound by the local stack's CPU, not the endpoint (utilisation well below 1), and all builds share one stack, so what a build leaves in memory counts in the next one's peak. Timings move with the machine's load (last column).`,
  );
  const largest = Math.max(...sc.builds.map((b) => b.tasks));
  if (largest < 1000)
    lines.push(
      '',
      `The largest build in this input has ${n(largest)} tasks: the 1,000-task build is the full bench's (\`agent-r bench --only scale\`); regenerate with its bench.json.`,
    );
  const dt = input.deep_tree;
  if (dt)
    lines.push(
      '',
      `**deep_tree** (one task, 64 iterations, ${n(dt.nodes)} nodes, ${n(dt.expansions)} expansions, ${dt.status} in ${dt.wall_s} s at load ${dt.load_avg_1m}): stack CPU per expansion ${dt.cpu_ms_per_expansion_start ?? 'n/a'} ms over the first quarter of the expansions and ${dt.cpu_ms_per_expansion_end ?? 'n/a'} ms over the last, end over start **${dt.end_over_start ?? 'n/a'}** (target <= 2); the stack's RSS grew ${dt.splice_rss_growth_mb ?? 'n/a'} MB from ${dt.stack_rss_mb_before_splice ?? 'n/a'} MB while the task spliced (${n(dt.revision_records ?? 0)} revision records); status polls left unanswered (120 s each): ${dt.polls_unanswered}.`,
    );
  return lines.join('\n');
}

interface Bound {
  name: string;
  /** Policy calls per second at which the limit binds (null: not a rate limit). */
  callsPerSecond: number;
  arithmetic: string;
  remedy: string;
}

function rateBounds(d: Derived): Bound[] {
  const gate = d.per('do_rpcs.ENDPOINT_GATE');
  const ledger = d.per('do_rpcs.RUN_LEDGER');
  const q = d.per('queue_messages');
  const d1 = d.per('d1_statements');
  const bound = (limit: number, perCall: number) =>
    perCall > 0 ? limit / perCall : Number.POSITIVE_INFINITY;
  return [
    {
      name: `EndpointGate, one Durable Object per endpoint ([DO FAQ](${page.doFaq}))`,
      callsPerSecond: bound(limits.doRequestsPerSecond, gate),
      arithmetic: `${n(limits.doRequestsPerSecond)} requests/s / ${s(gate)} gate RPCs per call`,
      remedy:
        'shard the gate (k objects per endpoint, each owning C/k slots, picked by job hash) and lease slots per expansion instead of acquire + release per call',
    },
    {
      name: `RunLedger, one Durable Object per run ([DO FAQ](${page.doFaq}))`,
      callsPerSecond: bound(limits.doRequestsPerSecond, ledger),
      arithmetic: `${n(limits.doRequestsPerSecond)} requests/s / ${s(ledger)} ledger RPCs per call`,
      remedy:
        'ledger shards per task range folded into the run ledger on an alarm, or counters kept in the TaskTree and summed at the end',
    },
    {
      name: `D1 write rate, one database ([D1 limits](${page.d1Limits}))`,
      callsPerSecond: bound(limits.d1QueriesPerSecond, d1),
      arithmetic: `${n(limits.d1QueriesPerSecond)} queries/s / ${s(d1)} D1 statements per call`,
      remedy: 'the record index in one database per run shard (task range); larger insert batches',
    },
    {
      name: `Queue throughput, ${limits.expandQueues} expand queues ([Queues limits](${page.queuesLimits}))`,
      callsPerSecond: bound(limits.queueMessagesPerSecond * limits.expandQueues, q),
      arithmetic: `${limits.expandQueues} x ${n(limits.queueMessagesPerSecond)} messages/s / ${s(q)} messages per call (all messages counted against the expand queues: an upper bound of their share)`,
      remedy: "more queue shards; `sendBatch` of a node's children",
    },
  ].sort((a, b) => a.callsPerSecond - b.callsPerSecond);
}

function totalsSection(d: Derived): string {
  const calls = TARGET_TASKS * d.callsPerTask;
  const records = TARGET_TASKS * d.recordsPerTask;
  const line = (label: string, key: string, unit = '') =>
    `| ${label} | ${s(d.per(key))} | ${n(calls)} x ${s(d.per(key))} | ${s(calls * d.per(key), 3)}${unit} |`;
  return [
    `## ${n(TARGET_TASKS)} tasks: totals`,
    '',
    `Per task, from ${d.perTaskSource}: ${n(d.perTaskBuild.policy_calls)} / ${n(d.perTaskBuild.tasks)} = ${s(d.callsPerTask)} policy calls and ${n(d.perTaskBuild.revision_records)} / ${n(d.perTaskBuild.tasks)} = ${s(d.recordsPerTask)} revision records. ${n(TARGET_TASKS)} tasks = ${n(TARGET_TASKS)} x ${s(d.callsPerTask)} = **${s(calls, 3)} policy calls** and ${n(TARGET_TASKS)} x ${s(d.recordsPerTask)} = **${s(records, 3)} revision records**. Each total below is policy calls x the count per call.`,
    '',
    '| operation | per policy call | arithmetic | total |',
    '| --- | ---: | --- | ---: |',
    line('queue messages', 'queue_messages'),
    line('Durable Object RPCs', 'do_rpcs'),
    line('Durable Object SQL rows written', 'do_sql_rows_written'),
    line('D1 statements', 'd1_statements'),
    line('D1 rows written', 'd1_rows_written'),
    line('R2 bytes put', 'r2_put_bytes', ' B'),
    line('outbound fetches', 'outbound_fetches'),
  ].join('\n');
}

function limitsSection(input: PlanInput, d: Derived): string {
  const ops = input.platform_ops;
  const bounds = rateBounds(d);
  const records = TARGET_TASKS * d.recordsPerTask;
  const d1PerRecord = fig(ops.storage_bytes_per_revision_record.d1_bytes);
  const doPerRecord = fig(ops.storage_bytes_per_revision_record.do_bytes);
  // Bench files before cli/bench/sqlite-size.ts added the databases' log files to their size.
  const measuredHow = ops.storage_note
    ? 'the database as SQLite counts it, not its log file'
    : 'WAL included';
  const d1Records = limits.d1DatabaseBytes / d1PerRecord;
  const d1Total = records * d1PerRecord;
  const treeBytes = d.recordsPerTask * doPerRecord;
  const inv = Object.keys(ops.per_policy_call)
    .filter((k) => k.startsWith('invocations.') && !k.startsWith('invocations.gateway'))
    .reduce((sum, k) => sum + d.per(k), 0);
  const subrequests =
    d.per('outbound_fetches') +
    d.per('queue_send_calls') +
    d.per('do_rpcs') +
    d.per('d1_statements') +
    d.per('r2_puts');
  const perInvocation = inv > 0 ? subrequests / inv : 0;
  const cpuPerInvocation = inv > 0 ? fig(ops.cpu_ms_per_policy_call) / inv : 0;
  const first = bounds[0]!;
  const lines = [
    '## Which limits bind first',
    '',
    `Totals are not the problem; rates at single objects and sizes of single databases are. A build runs at R policy calls per second, set by the endpoint (C slots / seconds per request). Each single object below sees R x its count per call; it binds when that reaches its limit:`,
    '',
    '| limit | binds at R = | arithmetic | remedy |',
    '| --- | ---: | --- | --- |',
    ...bounds.map((b) => `| ${b.name} | ${n(b.callsPerSecond)} calls/s | ${b.arithmetic} | ${b.remedy} |`),
    '',
    `The first rate limit is the ${first.name.split(' (')[0]} at **~${n(first.callsPerSecond)} policy calls/s** (e.g. ${n(first.callsPerSecond)} GPU slots at 1 s per request). At that rate ${n(TARGET_TASKS)} tasks take ${n(TARGET_TASKS * d.callsPerTask)} / ${n(first.callsPerSecond)} = ${s((TARGET_TASKS * d.callsPerTask) / first.callsPerSecond / 3600, 3)} hours.`,
    '',
    'Sizes and per-invocation limits:',
    '',
    `- **D1 size, ${n(limits.d1DatabaseBytes / 1e9)} GB per database** ([D1 limits](${page.d1Limits})): the build left ${s(d1PerRecord, 4)} bytes of D1 per revision record (\`storage_bytes_per_revision_record.d1_bytes\`, ${measuredHow}). One database holds ${n(limits.d1DatabaseBytes / 1e9)} GB / ${s(d1PerRecord, 4)} B = ${s(d1Records, 3)} records = ${s(d1Records / d.recordsPerTask, 3)} tasks; ${n(TARGET_TASKS)} tasks need ${s(d1Total / 1e9, 3)} GB = **${Math.ceil(d1Total / limits.d1DatabaseBytes)} databases** (index per run shard, the gateway fanning reads out). This binds before any rate limit for a ${n(TARGET_TASKS)}-task build.`,
    `- **Durable Object storage, ${n(limits.doObjectBytes / 1e9)} GB per object** ([DO limits](${page.doLimits})): ${s(doPerRecord, 4)} bytes of DO storage per revision record (${measuredHow}) x ${s(d.recordsPerTask)} records per task = ${s(treeBytes / 1e6, 3)} MB per TaskTree. Not a limit.`,
    `- **Subrequests, ${n(limits.subrequestsPerInvocation)} per invocation, and D1 queries, ${n(limits.d1QueriesPerInvocation)} per invocation** ([Workers limits](${page.workersLimits}), [D1 limits](${page.d1Limits})): (fetches + queue sends + DO RPCs + D1 statements + R2 puts) / queue consumer invocations = ${s(subrequests)} / ${s(inv)} = ${s(perInvocation)} per invocation on average (DO RPCs made by Durable Objects themselves included, so an upper bound). Not a limit at the average; the splice job's work grows with a task's pairs.`,
    `- **CPU, ${n(limits.cpuMsPerInvocation / 60_000)} minutes per invocation** ([Workers limits](${page.workersLimits})): ${s(fig(ops.cpu_ms_per_policy_call))} ms per call / ${s(inv)} invocations per call = ${s(cpuPerInvocation)} ms per invocation on average (whole-stack CPU: an upper bound). Not a limit.`,
  ];
  return lines.join('\n');
}

function costSection(input: PlanInput, d: Derived): string {
  const ops = input.platform_ops;
  const k = (key: string) => d.perThousandRecords(d.per(key));
  const inv = Object.keys(ops.per_policy_call)
    .filter((key) => key.startsWith('invocations.'))
    .reduce((sum, key) => sum + k(key), 0);
  const gb = (bytes: number) => bytes / 1e9;
  const storage = ops.storage_bytes_per_revision_record;
  const rows: [item: string, count: string, price: string, cost: number][] = [
    [
      `Queues: 3 operations per message (write, read, delete) ([pricing](${page.queuesPricing}))`,
      `${s(k('queue_messages'))} x 3 = ${s(3 * k('queue_messages'))} ops`,
      `$${prices.queueOpPerM} / M ops`,
      (3 * k('queue_messages') * prices.queueOpPerM) / 1e6,
    ],
    [
      `Durable Object requests, one per RPC ([pricing](${page.doPricing}))`,
      s(k('do_rpcs')),
      `$${prices.doRequestPerM} / M`,
      (k('do_rpcs') * prices.doRequestPerM) / 1e6,
    ],
    [
      `Durable Object SQL rows written ([pricing](${page.doPricing}))`,
      s(k('do_sql_rows_written')),
      `$${prices.doRowWrittenPerM} / M`,
      (k('do_sql_rows_written') * prices.doRowWrittenPerM) / 1e6,
    ],
    [
      `D1 rows written ([pricing](${page.d1Pricing}))`,
      s(k('d1_rows_written')),
      `$${prices.d1RowWrittenPerM} / M`,
      (k('d1_rows_written') * prices.d1RowWrittenPerM) / 1e6,
    ],
    [
      `D1 rows read`,
      s(k('d1_rows_read')),
      `$${prices.d1RowReadPerM} / M`,
      (k('d1_rows_read') * prices.d1RowReadPerM) / 1e6,
    ],
    [
      `R2 Class A (puts) ([pricing](${page.r2Pricing}))`,
      s(k('r2_puts')),
      `$${prices.r2ClassAPerM} / M`,
      (k('r2_puts') * prices.r2ClassAPerM) / 1e6,
    ],
    [
      `Workers requests (queue consumer invocations + gateway requests) ([pricing](${page.workersPricing}))`,
      s(inv),
      `$${prices.workersRequestPerM} / M`,
      (inv * prices.workersRequestPerM) / 1e6,
    ],
    [
      'Workers CPU (whole local stack: an upper bound)',
      `${s(d.perThousandRecords(fig(ops.cpu_ms_per_policy_call)))} ms`,
      `$${prices.workersCpuMsPerM} / M ms`,
      (d.perThousandRecords(fig(ops.cpu_ms_per_policy_call)) * prices.workersCpuMsPerM) / 1e6,
    ],
  ];
  const total = rows.reduce((sum, r) => sum + r[3], 0);
  const monthly: [item: string, bytes: number, price: number][] = [
    [`R2 storage ([pricing](${page.r2Pricing}))`, storage.r2_bytes * 1000, prices.r2StoredGbMonth],
    [
      `Durable Object SQL storage ([pricing](${page.doPricing}))`,
      storage.do_bytes * 1000,
      prices.doStoredGbMonth,
    ],
    [`D1 storage ([pricing](${page.d1Pricing}))`, storage.d1_bytes * 1000, prices.d1StoredGbMonth],
  ];
  const monthlyTotal = monthly.reduce((sum, [, bytes, price]) => sum + gb(bytes) * price, 0);
  const thousands = (TARGET_TASKS * d.recordsPerTask) / 1000;
  const share = (i: number) => Math.round((rows[i]![3] / total) * 100);
  return [
    '## Platform cost per 1,000 revision records (Workers Paid list prices, beyond the included usage)',
    '',
    '| item | count per 1,000 records | price | cost |',
    '| --- | ---: | --- | ---: |',
    ...rows.map(([item, count, price, cost]) => `| ${item} | ${count} | ${price} | ${usd(cost)} |`),
    `| **operations, total** | | | **${usd(total)}** |`,
    ...monthly.map(
      ([item, bytes, price]) =>
        `| ${item}, one month | ${s(bytes / 1e6, 3)} MB | $${price} / GB-month | ${usd(gb(bytes) * price)} |`,
    ),
    '',
    `Sum of operations: ${rows.map((r) => usd(r[3])).join(' + ')} = **${usd(total)} per 1,000 revision records**. ${n(TARGET_TASKS)} tasks (${s(thousands * 1000, 3)} records = ${n(thousands)} thousands) cost ${n(thousands)} x ${usd(total)} = **${usd(thousands * total)}** of platform operations, plus ${n(thousands)} x ${usd(monthlyTotal)} = ${usd(thousands * monthlyTotal)} per month while the records, trees and index are kept (delete a run's TaskTree storage after export to stop most of it), before the included allowances and the $5 monthly base.`,
    '',
    `Rows written dominate: Durable Object SQL ${share(2)}% and D1 ${share(3)}% of the operations cost. Batching pays there (a node's children in one row set, fewer indexed D1 columns). Not counted: Durable Object duration (GB-s; not measured locally), DO SQL rows read (not metered) and the inference endpoint itself, which dwarfs all of this.`,
  ].join('\n');
}

/** The whole docs/scale.md. */
export function scalePlanMarkdown(input: PlanInput): string {
  const d = derive(input);
  return `${[
    `# Scaling agent-r to ${n(TARGET_TASKS)} tasks on Cloudflare`,
    '',
    '<!-- Generated by `agent-r bench --scale-plan FILE` (cli/bench/scale-plan.ts) from measured bench.json sections; edit the generator, not the numbers. -->',
    '',
    sources(input),
    '',
    countsTable(input, d),
    '',
    scaleSection(input),
    '',
    totalsSection(d),
    '',
    limitsSection(input, d),
    '',
    costSection(input, d),
  ].join('\n')}\n`;
}
