/**
 * Pure analysis of V8 CPU profiles (the DevTools protocol's `Profiler.Profile`), as workerd's
 * inspector returns them for each of its isolates: self time by function and by category.
 * Used by cli/bench/profile.ts; unit-tested.
 */

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
  scriptId?: string;
}

export interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  /** Microseconds between a sample and the previous one (the first: since startTime). */
  timeDeltas?: number[];
}

/** V8's pseudo-frames: not JavaScript, but what the isolate did when it was sampled. */
const pseudoFrames = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

export interface FunctionSelf {
  /** `name (file:line)`, line 1-based as editors show it. */
  key: string;
  ms: number;
}

export interface ProfileSummary {
  /** Samples taken while the isolate ran JavaScript or collected garbage (not idle). */
  busyMs: number;
  /** Of busyMs: in the garbage collector. */
  gcMs: number;
  /** Of busyMs: `(program)`, the isolate's native work outside any JavaScript frame. */
  programMs: number;
  idleMs: number;
  samples: number;
  /** Functions by self time, largest first. */
  top: FunctionSelf[];
  /** Functions by total time (self + callees; a recursive function counted once per sample). */
  topTotal: FunctionSelf[];
  /** Self time by source file (the key without its function name and line). */
  byFile: FunctionSelf[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const slash = url.lastIndexOf('/');
  return slash >= 0 ? url.slice(slash + 1) : url;
}

export function frameKey(frame: CallFrame, resolve?: (frame: CallFrame) => string | null): string {
  const name = frame.functionName || '(anonymous)';
  if (pseudoFrames.has(name) && !frame.url) return name;
  const where = resolve?.(frame) ?? `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  return `${name} (${where})`;
}

/**
 * Self time per function, as samples x the sampling interval. Not from `timeDeltas`: V8 records a
 * sample only while its isolate is entered, and workerd runs many isolates on one thread, so the
 * delta before a sample also spans the time other isolates ran (summing deltas gives every isolate
 * the whole wall time). Each recorded sample stands for one interval of this isolate's own work.
 */
export function summariseProfile(
  profile: CpuProfile,
  intervalUs: number,
  limit = 25,
  resolve?: (frame: CallFrame) => string | null,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  for (const id of samples) selfUs.set(id, (selfUs.get(id) ?? 0) + intervalUs);
  let busyUs = 0;
  let gcUs = 0;
  let programUs = 0;
  let idleUs = 0;
  const byKey = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const name = frame.functionName;
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    if (name === '(garbage collector)') gcUs += us;
    if (name === '(program)') programUs += us;
    const key = frameKey(frame, resolve);
    byKey.set(key, (byKey.get(key) ?? 0) + us);
  }
  const byFile = new Map<string, number>();
  for (const [key, us] of byKey) {
    const file = fileOfKey(key);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  return {
    busyMs: busyUs / 1000,
    gcMs: gcUs / 1000,
    programMs: programUs / 1000,
    idleMs: idleUs / 1000,
    samples: samples.length,
    top: largest(byKey, limit),
    topTotal: largest(totalByKey(profile, intervalUs, resolve), limit),
    byFile: largest(byFile, limit),
  };
}

function largest(m: Map<string, number>, limit: number): FunctionSelf[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => ({ key, ms: us / 1000 }));
}

/** `file` of `name (file:line)`; a pseudo-frame's own name. */
export function fileOfKey(key: string): string {
  const m = /\(([^()]*):\d+\)$/.exec(key);
  return m ? m[1] || '(native)' : key;
}

/** Total time per function key: every sample adds the interval once to each key on its stack. */
function totalByKey(
  profile: CpuProfile,
  intervalUs: number,
  resolve?: (frame: CallFrame) => string | null,
): Map<string, number> {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map(profile.nodes.map((n) => [n.id, frameKey(n.callFrame, resolve)]));
  const hits = new Map<number, number>();
  for (const id of profile.samples ?? []) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = new Map<string, number>();
  for (const [id, count] of hits) {
    if (keyOf.get(id) === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf.get(cur)!;
      if (key === '(root)' || seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + count * intervalUs);
    }
  }
  return total;
}
