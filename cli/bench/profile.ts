/**
 * Where the local stack's CPU goes during a real build, by isolate and function.
 *
 *   node --experimental-websocket --import tsx cli/bench/profile.ts [--tasks 10] [--interval-us 1000]
 *        [--only REGEX] [--out out/profile] [--latency-ms 150] [--parallelism 16] [--perf]
 *        [--state-parent DIR]   (where the throwaway state dir goes; default the system temp dir)
 *
 * (Node >= 22 needs no --experimental-websocket.) It starts a fresh local stack (own state dir in the
 * temp dir, sim-policy set up like the bench's: 32 slots), connects to workerd's own inspector (one
 * target per isolate: `core:user:agent-r-*` workers with their Durable Objects, and miniflare's
 * queue brokers, D1, R2, entry), starts V8's CPU profiler on every target (or those matching
 * --only), runs one build of N tasks through the API, stops the profilers and writes:
 *   out/profile/<target>.cpuprofile   each isolate's profile (open in Chrome DevTools)
 *   out/profile/summary.json          busy/GC ms per isolate, top self-time functions, CPU of the
 *                                     stack's processes and of workerd's threads from /proc
 * and prints the same as text. --perf also samples workerd's main thread with Linux `perf record -g`
 * (native frames: what the thread does outside JavaScript) into perf.data and perf-report.txt.
 * Not part of the test suite or the bench.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { ApiClient } from '../api-client';
import { projectRoot } from '../project';
import { startLocalStack } from '../stack';
import { type CallFrame, type CpuProfile, summariseProfile } from './cpu-profile';
import { CdpSession, findInspectorTargets, inspectedWorkerd } from './inspector';
import { measureBuild } from './measure-build';
import { perCall, round } from './metrics';
import { clockTicksPerSecond } from './proc';
import { type RawSourceMap, SourceMapIndex, shortSource } from './source-map';

interface ProfileOptions {
  tasks: number;
  parallelism: number;
  intervalUs: number;
  only: RegExp | null;
  outDir: string;
  latencyMs: number;
  perf: boolean;
  /** Where the fresh state dir is made (default the system temp dir), e.g. /dev/shm (tmpfs). */
  stateParent: string;
}

const usage = `usage: node --experimental-websocket --import tsx cli/bench/profile.ts [--tasks N] [--parallelism N]
       [--interval-us N] [--only REGEX] [--out DIR] [--latency-ms N] [--perf]
       [--state-parent DIR]`;

function parseArgs(argv: string[]): ProfileOptions {
  const o: ProfileOptions = {
    tasks: 10,
    parallelism: 16,
    intervalUs: 1000,
    only: null,
    outDir: 'out/profile',
    latencyMs: 150,
    perf: false,
    stateParent: tmpdir(),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--perf') {
      o.perf = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value\n${usage}`);
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer\n${usage}`);
      return n;
    };
    if (flag === '--tasks') o.tasks = int();
    else if (flag === '--parallelism') o.parallelism = int();
    else if (flag === '--interval-us') o.intervalUs = int();
    else if (flag === '--latency-ms') o.latencyMs = int();
    else if (flag === '--only') o.only = new RegExp(value);
    else if (flag === '--out') o.outDir = value;
    else if (flag === '--state-parent') o.stateParent = value;
    else throw new Error(`unknown option ${flag}\n${usage}`);
  }
  return o;
}

/** CPU ms of each thread of a process (by thread name; workerd names few of its threads). */
function threadCpuMs(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const comm = text.slice(text.indexOf('(') + 1, close);
      const rest = text
        .slice(close + 1)
        .trim()
        .split(/\s+/);
      const ticks = Number(rest[11]) + Number(rest[12]); // utime, stime (fields 14, 15)
      out[`${comm}#${tid}`] = (ticks * 1000) / clockTicksPerSecond();
    } catch {
      // thread ended
    }
  }
  return out;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = round(v - (before[k] ?? 0), 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/**
 * The source map of a user worker's bundle (`core:user:agent-r-<name>`): wrangler dev writes it to
 * <worker dir>/.wrangler/tmp/dev-XXXX/index.js.map and deletes it when it stops, so it is read while
 * the stack runs. Frames of other scripts (miniflare's) keep their own names.
 */
function bundleResolver(
  targetId: string,
  copy?: (mapText: string) => void,
): ((frame: CallFrame) => string | null) | undefined {
  const m = /^core:user:agent-r-(\w+)$/.exec(targetId);
  if (!m) return undefined;
  const workerDir = m[1] === 'gateway' ? projectRoot : join(projectRoot, 'workers', m[1]!);
  const tmp = join(workerDir, '.wrangler', 'tmp');
  let dirs: string[] = [];
  try {
    dirs = readdirSync(tmp).filter((d) => d.startsWith('dev-'));
  } catch {
    return undefined;
  }
  const newest = dirs
    .map((d) => join(tmp, d, 'index.js.map'))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    })
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!newest) return undefined;
  const text = readFileSync(newest, 'utf8');
  copy?.(text);
  const map = JSON.parse(text) as RawSourceMap;
  const index = new SourceMapIndex(map);
  const root = map.sourceRoot || dirname(newest);
  return (frame) => {
    if (!frame.url.endsWith('index.js')) return null;
    const hit = index.lookup(frame.lineNumber, frame.columnNumber);
    if (!hit) return null;
    return `${shortSource(relative(projectRoot, resolve(root, hit.source)))}:${hit.line}`;
  };
}

/**
 * `perf record -g` of workerd's main thread (its tid is its pid) for the build; afterwards
 * perf-report.txt: self time by shared object and by symbol (JIT-compiled JavaScript shows as
 * unresolved addresses: the inspector's profiles name those).
 */
function startPerf(pid: number, outDir: string): { stop(): Promise<void> } {
  const data = join(outDir, 'perf.data');
  const child = spawn('perf', ['record', '-F', '499', '-g', '-t', String(pid), '-o', data], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const report = (sort: string) =>
        execFileSync(
          'perf',
          [
            'report',
            '-i',
            data,
            '--stdio',
            '--no-children',
            '-g',
            'none',
            '--sort',
            sort,
            '--percent-limit',
            '0.3',
          ],
          { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
        );
      writeFileSync(join(outDir, 'perf-report.txt'), `${report('dso')}\n${report('dso,sym')}`);
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const o = parseArgs(argv);
  const log = (line: string) => console.error(line);
  const stateDir = mkdtempSync(join(o.stateParent, 'agent-r-profile-'));
  const stack = await startLocalStack({
    stateDir,
    simOptions: { capacity: 32, latencyMs: o.latencyMs, seed: 0 },
    log: (l) => log(`  ${l}`),
  });
  const sessions: { id: string; cdp: CdpSession }[] = [];
  try {
    const workerd = inspectedWorkerd(stack.wranglerPid);
    if (workerd === null) throw new Error('no workerd with an inspector in the stack');
    const { port, targets } = await findInspectorTargets(workerd);
    const chosen = targets.filter((t) => !o.only || o.only.test(t.id));
    log(`workerd ${workerd}, inspector on ${port}: profiling ${chosen.length} of ${targets.length} isolates`);
    for (const t of chosen) {
      const cdp = await CdpSession.open(t.webSocketDebuggerUrl);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: o.intervalUs });
      sessions.push({ id: t.id, cdp });
    }
    const threadsBefore = threadCpuMs(workerd);
    for (const s of sessions) await s.cdp.send('Profiler.start');
    const api = new ApiClient(stack.apiUrl, stack.token);
    mkdirSync(o.outDir, { recursive: true });
    const perf = o.perf ? startPerf(workerd, o.outDir) : null;
    const m = await measureBuild(stack, api, o.tasks, o.parallelism, 32, log);
    if (perf) await perf.stop();
    const threads = diff(threadCpuMs(workerd), threadsBefore);
    mkdirSync(o.outDir, { recursive: true });
    // The bundles' source maps go beside the profiles (wrangler deletes its copies when it stops).
    const fileOf = (id: string) => id.replace(/[^\w.-]+/g, '_');
    const resolvers = new Map(
      sessions.map((s) => [
        s.id,
        bundleResolver(s.id, (text) => writeFileSync(join(o.outDir, `${fileOf(s.id)}.js.map`), text)),
      ]),
    );
    const isolates: Record<string, unknown>[] = [];
    for (const s of sessions) {
      const { profile } = await s.cdp.send<{ profile: CpuProfile }>('Profiler.stop', {}, 180_000);
      const file = `${fileOf(s.id)}.cpuprofile`;
      writeFileSync(join(o.outDir, file), JSON.stringify(profile));
      const sum = summariseProfile(profile, o.intervalUs, 25, resolvers.get(s.id));
      if (sum.busyMs > 0) isolates.push({ target: s.id, file, ...sum });
    }
    isolates.sort((a, b) => (b.busyMs as number) - (a.busyMs as number));
    const calls = m.policyCalls + m.judgeCalls;
    const summary = {
      tasks: o.tasks,
      status: m.status,
      wall_s: round(m.wallMs / 1000, 2),
      policy_calls: m.policyCalls,
      judge_calls: m.judgeCalls,
      cpu_ms_per_call: round(perCall(m.cpuMs, calls), 3),
      cpu_ms_by_process: m.cpuMsByCommand,
      workerd_thread_cpu_ms: threads,
      load_avg_1m: m.loadAvg1,
      sampling_interval_us: o.intervalUs,
      isolates: isolates.map((i) => ({
        ...i,
        busy_ms_per_call: round(perCall(i.busyMs as number, calls), 3),
      })),
    };
    writeFileSync(join(o.outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    printSummary(summary);
    log(`profiles and summary.json in ${resolve(o.outDir)}`);
  } finally {
    for (const s of sessions) s.cdp.close();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function printSummary(s: {
  isolates: Record<string, unknown>[];
  cpu_ms_per_call: number;
  cpu_ms_by_process: Record<string, number>;
  workerd_thread_cpu_ms: Record<string, number>;
  [k: string]: unknown;
}): void {
  const lines = [
    `${s.tasks} tasks, ${s.status}, wall ${s.wall_s} s, ${s.policy_calls} policy + ${s.judge_calls} judge calls, load ${s.load_avg_1m}`,
    `stack CPU ${s.cpu_ms_per_call} ms/call; by process ${JSON.stringify(s.cpu_ms_by_process)}`,
    `workerd threads (ms): ${JSON.stringify(s.workerd_thread_cpu_ms)}`,
  ];
  for (const i of s.isolates) {
    lines.push(
      `\n== ${i.target}: busy ${round(i.busyMs as number, 0)} ms (${i.busy_ms_per_call} ms/call), gc ${round(i.gcMs as number, 0)}, program ${round(i.programMs as number, 0)}`,
    );
    const list = (title: string, rows: unknown, n: number) => {
      lines.push(`  ${title}`);
      for (const f of (rows as { key: string; ms: number }[]).slice(0, n))
        lines.push(`  ${round(f.ms, 0).toString().padStart(7)} ms  ${f.key}`);
    };
    list('self time', i.top, 15);
    list('total time', i.topTotal, 12);
    list('self time by file', i.byFile, 10);
  }
  console.log(lines.join('\n'));
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
