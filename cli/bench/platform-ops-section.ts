import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OPS_LINE_PREFIX } from '../../shared/contracts/ops-meter';
import { ApiClient } from '../api-client';
import { startLocalStack } from '../stack';
import { measureBuild } from './measure-build';
import { sqliteDatabaseBytes } from './sqlite-size';
import { perCall, round } from './metrics';
import type { BenchSection, SectionContext } from './section';

/**
 * bench.json `platform_ops`: what one real local build asks of the platform, per policy call and per
 * revision record. The stack runs with OPS_METER=1 (workers/common/ops-meter.ts wraps the bindings
 * in counters and logs `agent-r-ops {...}` deltas); this sums those lines, adds the CPU of the
 * stack's processes from /proc and the bytes left in local D1, R2 and Durable Object storage
 * (databases measured as SQLite counts them: cli/bench/sqlite-size.ts).
 */
export const opsSim = { capacity: 32, latencyMs: 20, perTokenMs: 0.2, seed: 0 } as const;

/** Sums every `agent-r-ops {json}` line in `text` into `totals`; returns the unfinished tail. */
export function sumOpsLines(text: string, totals: Record<string, number>): string {
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  for (const line of lines) {
    const at = line.indexOf(OPS_LINE_PREFIX);
    if (at < 0) continue;
    try {
      const counts = JSON.parse(line.slice(at + OPS_LINE_PREFIX.length)) as Record<string, number>;
      for (const [key, n] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + n;
    } catch {
      // a line cut by the terminal: ignored
    }
  }
  return tail;
}

/** Bytes of the files under `dir` whose path matches, each measured by `size`. */
async function bytesUnder(
  dir: string,
  match: (path: string) => boolean,
  size: (path: string) => Promise<number> = async (path) => (await stat(path)).size,
): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if (match(path)) total += await size(path);
  }
  return total;
}

/** The SQLite databases' own sizes (pages x page size, the WAL's commits included, not the log file). */
const sqliteBytesUnder = (dir: string) => bytesUnder(dir, (p) => p.endsWith('.sqlite'), sqliteDatabaseBytes);

async function runPlatformOps(ctx: SectionContext): Promise<unknown> {
  const { options, log } = ctx;
  const tasks = options.quick ? 10 : 40;
  const totals: Record<string, number> = {};
  let tail = '';
  let otherOutput = '';
  const stateDir = join(ctx.workDir, 'state');
  log(
    `platform_ops: metered stack (OPS_METER=1), build of ${tasks} tasks on a ${opsSim.latencyMs} ms endpoint`,
  );
  const stack = await startLocalStack({
    stateDir,
    simOptions: { ...opsSim },
    vars: { OPS_METER: '1' },
    logLevel: 'log',
    onOutput: (text) => {
      tail = sumOpsLines(tail + text, totals);
      if (!text.includes(OPS_LINE_PREFIX)) otherOutput = (otherOutput + text).slice(-40_000);
    },
    log: (l) => log(`  ${l}`),
  });
  let m: Awaited<ReturnType<typeof measureBuild>>;
  try {
    const api = new ApiClient(stack.apiUrl, stack.token);
    for (const key of Object.keys(totals)) delete totals[key]; // start-up traffic is not the build's
    m = await measureBuild(stack, api, tasks, options.parallelism, opsSim.capacity, log).catch((error) => {
      log(`  the metered build failed; the stack said:\n${otherOutput}`);
      throw error;
    });
    await new Promise((r) => setTimeout(r, 2000)); // the last deltas (flushed every 250 ms)
  } finally {
    await stack.stop();
  }
  const calls = m.policyCalls + m.judgeCalls;
  const keys = Object.keys(totals).sort();
  const per = (n: number) => Object.fromEntries(keys.map((k) => [k, round(perCall(totals[k]!, n), 4)]));
  const storage = {
    d1_bytes: await sqliteBytesUnder(join(stateDir, 'v3', 'd1')),
    r2_bytes: await bytesUnder(join(stateDir, 'v3', 'r2'), (p) => p.includes('blobs')),
    do_bytes: await sqliteBytesUnder(join(stateDir, 'v3', 'do')),
  };
  log(`  ${m.status}: ${m.policyCalls} policy calls, ${JSON.stringify(per(m.policyCalls))}`);
  return {
    tasks,
    status: m.status,
    policy_calls: m.policyCalls,
    judge_calls: m.judgeCalls,
    revision_records: m.revision,
    good_records: m.good,
    nodes: m.nodes,
    wall_s: round(m.wallMs / 1000, 2),
    load_avg_1m: m.loadAvg1,
    totals,
    per_policy_call: per(m.policyCalls),
    per_revision_record: per(m.revision),
    cpu_ms_per_call: round(perCall(m.cpuMs, calls), 3),
    cpu_ms_per_policy_call: round(perCall(m.cpuMs, m.policyCalls), 3),
    cpu_note:
      'CPU of the whole local stack (wrangler + workerd + esbuild) from /proc, counters on: an upper bound of the workers CPU',
    storage_bytes: storage,
    storage_note:
      'D1 and Durable Object bytes: each SQLite database as SQLite counts it (pages x page size after its last commit, WAL commits included; the -wal and -shm files themselves not counted); R2: object bytes',
    storage_bytes_per_revision_record: Object.fromEntries(
      Object.entries(storage).map(([k, v]) => [k, round(perCall(v, m.revision), 1)]),
    ),
  };
}

export const platformOpsSection: BenchSection = {
  key: 'platform_ops',
  enabled: () => true,
  run: runPlatformOps,
  besideBaseline: true,
};
