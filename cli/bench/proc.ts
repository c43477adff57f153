import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time and memory of a process group from /proc (Linux only): what the local stack
 * (wrangler and its workerd children, one process group since it is spawned detached) costs.
 */

export interface ProcStat {
  pid: number;
  /** The command name (field 2, without the parentheses). */
  comm: string;
  pgrp: number;
  /** utime + stime of the process itself, in clock ticks. */
  cpuTicks: number;
  /** cutime + cstime: CPU of its children that have exited and been waited for. */
  childTicks: number;
  rssPages: number;
}

let ticksPerSecond: number | null = null;
let pageBytes: number | null = null;

function getconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

export function clockTicksPerSecond(): number {
  ticksPerSecond ??= getconf('CLK_TCK', 100);
  return ticksPerSecond;
}

export function pageSizeBytes(): number {
  pageBytes ??= getconf('PAGESIZE', 4096);
  return pageBytes;
}

/**
 * Parses one /proc/<pid>/stat line. The command name (field 2) is in parentheses and may itself
 * contain spaces or parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // After ')': field 3 (state) is rest[0], so field k is rest[k - 3].
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (k: number) => Number(rest[k - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    pgrp: field(5),
    cpuTicks: field(14) + field(15),
    childTicks: field(16) + field(17),
    rssPages: field(24),
  };
  const { comm: _comm, ...numbers } = stat;
  return Object.values(numbers).every(Number.isFinite) ? stat : null;
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone
  }
}

/** Every live process of a process group. */
export function groupStats(pgid: number): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.pgrp === pgid) out.push(stat);
  }
  return out;
}

export interface GroupSample {
  /** CPU ms of the group: live processes plus their reaped children. */
  cpuMs: number;
  rssMb: number;
  processes: number;
  /** CPU ms by command name (e.g. node for wrangler, workerd). */
  cpuMsByCommand: Record<string, number>;
}

export function sampleGroup(pgid: number): GroupSample {
  const stats = groupStats(pgid);
  const toMs = (ticks: number) => (ticks * 1000) / clockTicksPerSecond();
  const byCommand: Record<string, number> = {};
  for (const s of stats) byCommand[s.comm] = (byCommand[s.comm] ?? 0) + toMs(s.cpuTicks + s.childTicks);
  const ticks = stats.reduce((sum, s) => sum + s.cpuTicks + s.childTicks, 0);
  const pages = stats.reduce((sum, s) => sum + s.rssPages, 0);
  return {
    cpuMs: toMs(ticks),
    rssMb: (pages * pageSizeBytes()) / (1024 * 1024),
    processes: stats.length,
    cpuMsByCommand: byCommand,
  };
}

export interface GroupMeter {
  /** Stops sampling; returns CPU used since start and the peak RSS seen. */
  stop(): {
    cpuMs: number;
    peakRssMb: number;
    samples: number;
    maxProcesses: number;
    cpuMsByCommand: Record<string, number>;
  };
}

/**
 * Samples the group every `intervalMs` until stopped: CPU is the difference between the last and
 * the first sample (processes that appear in between count from zero), RSS the largest total.
 */
export function meterGroup(pgid: number, intervalMs = 250): GroupMeter {
  const first = sampleGroup(pgid);
  let last = first;
  let peakRssMb = first.rssMb;
  let maxProcesses = first.processes;
  let samples = 1;
  const take = () => {
    const sample = sampleGroup(pgid);
    samples += 1;
    // A CPU total that shrinks means a process left without being reaped into the group: keep the higher one.
    if (sample.cpuMs >= last.cpuMs) last = sample;
    peakRssMb = Math.max(peakRssMb, sample.rssMb);
    maxProcesses = Math.max(maxProcesses, sample.processes);
  };
  const timer = setInterval(take, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      const cpuMsByCommand: Record<string, number> = {};
      for (const [comm, ms] of Object.entries(last.cpuMsByCommand))
        cpuMsByCommand[comm] = ms - (first.cpuMsByCommand[comm] ?? 0);
      return { cpuMs: last.cpuMs - first.cpuMs, peakRssMb, samples, maxProcesses, cpuMsByCommand };
    },
  };
}

/** This process's own peak RSS so far (VmHWM), in MB; null off Linux. */
export function ownPeakRssMb(): number | null {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}
