import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../api-client';
import { type LocalStack, startLocalStack } from '../stack';
import type { RunSpecInput } from '../../shared/contracts/run-spec';
import type { RunCounters } from '../../shared/contracts/run-view';
import { isFinal, type RunView, submitRun } from './build-run';
import { round } from './metrics';
import { sampleGroup } from './proc';
import type { BenchSection } from './section';

// The `deep_tree` case of the bench: one task searched with many iterations, so its tree grows to
// thousands of nodes. Whatever a TaskTree does per event that grows with the tree shows up as CPU
// per expansion rising from the start of the search to its end; whatever the splice holds per
// (good, bad) pair shows up as the stack's RSS rising while the task splices.

export interface DeepTreeOptions {
  iterations: number;
  width: number;
  depth: number;
  parallelism: number;
  /** Poll interval: every sample is one run view request (it costs the stack a little CPU). */
  sampleMs: number;
  timeoutMs: number;
}

export const defaultDeepTree: DeepTreeOptions = {
  iterations: 64,
  width: 4,
  depth: 20,
  parallelism: 4,
  sampleMs: 500,
  timeoutMs: 30 * 60_000,
};

interface Sample {
  at: number;
  cpuMs: number;
  rssMb: number;
  expansions: number;
  status: string;
  /** The task's status (null when the poll got no answer). */
  task: string | null;
}

/** CPU ms per expansion between the samples that cover the first and the last `share` of the expansions. */
export function cpuPerExpansionWindows(
  samples: readonly Pick<Sample, 'cpuMs' | 'expansions'>[],
  share = 0.25,
): { start: number | null; end: number | null } {
  const total = samples.at(-1)?.expansions ?? 0;
  if (total === 0) return { start: null, end: null };
  const window = (from: number, to: number): number | null => {
    const a = samples.find((s) => s.expansions >= from);
    const b = samples.find((s) => s.expansions >= to);
    if (!a || !b || b.expansions <= a.expansions) return null;
    return (b.cpuMs - a.cpuMs) / (b.expansions - a.expansions);
  };
  return { start: window(0, Math.ceil(total * share)), end: window(Math.floor(total * (1 - share)), total) };
}

function expansionsOf(view: RunView): number {
  return view.counters?.expansions ?? 0;
}

/** Runs the deep-tree build on a running stack and returns the `deep_tree` section of bench.json. */
export async function measureDeepTree(
  stack: LocalStack,
  api: ApiClient,
  log: (line: string) => void,
  options: DeepTreeOptions = defaultDeepTree,
): Promise<Record<string, unknown>> {
  const spec: RunSpecInput = {
    tasks: [0],
    iterations: options.iterations,
    width: options.width,
    depth: options.depth,
    parallelism: options.parallelism,
    seed: 0,
  };
  const started = performance.now();
  const samples: Sample[] = [];
  const take = (view: RunView | null, task: string | null) => {
    const group = sampleGroup(stack.wranglerPid);
    samples.push({
      at: performance.now() - started,
      cpuMs: group.cpuMs,
      rssMb: group.rssMb,
      expansions: view ? expansionsOf(view) : (samples.at(-1)?.expansions ?? 0),
      status: view?.status ?? 'unanswered',
      task,
    });
  };
  const rssAtStart = sampleGroup(stack.wranglerPid).rssMb;
  const runId = await submitRun(api, spec);
  let lastLog = 0;
  let view: RunView | null = null;
  let unreachable = 0;
  const deadline = Date.now() + options.timeoutMs;
  // Polled by hand (not waitForRun): a stack too busy to answer for a while (a splice holding
  // the isolate) is part of what this case measures, so a failed poll is counted, not fatal.
  while (Date.now() < deadline) {
    try {
      const v = await api.json<RunView>('GET', `/v1/runs/${runId}`);
      const task = await taskStatus(api, runId);
      take(v, task);
      if (isFinal(v.status)) {
        view = v;
        break;
      }
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`  deep tree: ${expansionsOf(v)} expansions, ${v.counters?.nodes ?? 0} nodes, ${v.status}`);
      }
    } catch (error) {
      unreachable += 1;
      const group = sampleGroup(stack.wranglerPid);
      log(
        `  deep tree: the API did not answer (${String(error).slice(0, 120)}); stack RSS ${group.rssMb.toFixed(0)} MB`,
      );
    }
    await new Promise((r) => setTimeout(r, options.sampleMs));
  }
  if (!view)
    throw new Error(`the deep-tree run ${runId} did not finish within ${options.timeoutMs / 1000} s`);
  const wallMs = performance.now() - started;
  // Only samples taken while the task searched: the critique and the splice (and a counter the
  // ledger hears of late) would otherwise land in the last window.
  const search = samples.filter((x) => x.task === 'searching');
  const windows = cpuPerExpansionWindows(search);
  // The splice: RSS before it (the last sample of a task still searching or critiquing) and the
  // peak from there on (a splice holding its records shows up here).
  const beforeSplice = samples.filter((x) => x.task === 'searching' || x.task === 'critiquing').at(-1);
  const rssBeforeSplice = beforeSplice?.rssMb ?? null;
  const peakAfter = beforeSplice
    ? Math.max(...samples.slice(samples.indexOf(beforeSplice)).map((x) => x.rssMb))
    : null;
  const counters: Partial<RunCounters> = view.counters ?? {};
  const ratio = windows.start && windows.end ? windows.end / windows.start : null;
  return {
    spec,
    status: view.status,
    run_id: runId,
    wall_s: round(wallMs / 1000, 2),
    nodes: counters.nodes ?? 0,
    expansions: counters.expansions ?? 0,
    policy_calls: counters.policyCalls ?? 0,
    judge_calls: counters.judgeCalls ?? 0,
    revision_records: counters.revision ?? 0,
    samples: samples.length,
    polls_unanswered: unreachable,
    cpu_ms_per_expansion_start: windows.start === null ? null : round(windows.start, 2),
    cpu_ms_per_expansion_end: windows.end === null ? null : round(windows.end, 2),
    end_over_start: ratio === null ? null : round(ratio, 2),
    stack_rss_mb_at_start: round(rssAtStart, 1),
    stack_rss_mb_before_splice: rssBeforeSplice === null ? null : round(rssBeforeSplice, 1),
    stack_rss_mb_peak_from_splice: peakAfter === null ? null : round(peakAfter, 1),
    splice_rss_growth_mb:
      rssBeforeSplice === null || peakAfter === null ? null : round(peakAfter - rssBeforeSplice, 1),
    load_avg_1m: round(loadavg()[0] ?? 0, 2),
    targets: { end_over_start_max: 2 },
    meets_target: ratio !== null && ratio <= 2,
  };
}

async function taskStatus(api: ApiClient, runId: string): Promise<string | null> {
  const tasks = await api.json<{ tasks?: { task: number; status: string }[] }>(
    'GET',
    `/v1/runs/${runId}/tasks`,
  );
  return tasks.tasks?.[0]?.status ?? null;
}

/** The deep tree's endpoint: fast, so the search, not the endpoint, is what takes the time. */
export const deepTreeSim = { capacity: 32, latencyMs: 20, seed: 0 } as const;

/** bench.json `deep_tree` (full bench only: one 64-iteration task takes minutes here). */
export const deepTreeSection: BenchSection = {
  key: 'deep_tree',
  enabled: (options) => !options.quick,
  run: async ({ workDir, log }) => {
    log(`deep tree: own stack, sim-policy C=${deepTreeSim.capacity}, ${deepTreeSim.latencyMs} ms`);
    const stack = await startLocalStack({
      stateDir: join(workDir, 'state'),
      simOptions: { ...deepTreeSim },
      log: (l) => log(`  ${l}`),
    });
    try {
      return await measureDeepTree(stack, new ApiClient(stack.apiUrl, stack.token), log);
    } finally {
      await stack.stop();
    }
  },
};
