import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeRecordSchema } from '../../../shared/revision';
import { measureExportInProcess, syntheticRecord } from '../../../cli/bench/export-bench';
import { quickShards } from '../../../cli/bench/baseline-section';
import {
  extrapolateLinear,
  formatTable,
  perCall,
  shardRanges,
  utilisation,
} from '../../../cli/bench/metrics';
import { sumOpsLines } from '../../../cli/bench/platform-ops-section';
import { scaleRatios } from '../../../cli/bench/scale-section';
import { groupStats, meterGroup, parseProcStat, sampleGroup } from '../../../cli/bench/proc';

describe('benchmark arithmetic', () => {
  it('utilisation is busy time over capacity x wall', () => {
    expect(utilisation(32_000, 32, 1000)).toBe(1);
    expect(utilisation(8_000, 32, 1000)).toBe(0.25);
    expect(utilisation(100, 32, 0)).toBe(0);
  });

  it('extrapolates a wall time linearly per task', () => {
    expect(extrapolateLinear(80, 8, 40)).toBe(400);
    expect(() => extrapolateLinear(1, 0, 40)).toThrow();
    expect(perCall(10, 0)).toBe(0);
  });

  it('shards task ids into contiguous ranges like --min/--max, larger ranges first', () => {
    const tasks = Array.from({ length: 40 }, (_, i) => i);
    const ranges = shardRanges(tasks, 32);
    expect(ranges).toHaveLength(32);
    expect(ranges.slice(0, 8).every((r) => r.length === 2)).toBe(true);
    expect(ranges.slice(8).every((r) => r.length === 1)).toBe(true);
    expect(ranges.flat()).toEqual(tasks);
    expect(ranges[8]).toEqual([16]);
    expect(shardRanges([3, 4, 5], 8)).toEqual([[3], [4], [5]]);
    expect(shardRanges([1, 2, 3, 4, 5], 2)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('picks the quick bench shards among those of one task each', () => {
    expect(quickShards(40, 32, 8)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(quickShards(40, 32, null)).toBeNull();
    expect(quickShards(40, 32, 32)).toBeNull();
    expect(quickShards(64, 32, 3)).toEqual([0, 1, 2]);
  });

  it('compares the largest scale build with the smallest', () => {
    const row = (tasks: number, wallMsPerTask: number, rss: number) =>
      ({ tasks, wall_ms_per_task: wallMsPerTask, peak_rss_mb: rss }) as Parameters<typeof scaleRatios>[0][0];
    expect(scaleRatios([row(100, 200, 400), row(1000, 250, 500)])).toEqual({
      wall_per_task_ratio: 1.25,
      peak_rss_ratio: 1.25,
    });
    expect(scaleRatios([row(100, 200, 400)])).toEqual({ wall_per_task_ratio: null, peak_rss_ratio: null });
  });

  it("sums the workers' agent-r-ops lines across chunks, ignoring everything else", () => {
    const totals: Record<string, number> = {};
    let tail = sumOpsLines(
      'noise\n[wrangler] agent-r-ops {"queue_messages":2,"do_rpcs":1}\nagent-r-ops {"do_r',
      totals,
    );
    tail = sumOpsLines(`${tail}pcs":4}\nagent-r-ops {broken\n`, totals);
    expect(tail).toBe('');
    expect(totals).toEqual({ queue_messages: 2, do_rpcs: 5 });
  });

  it('formats a table with targets', () => {
    const text = formatTable([
      { metric: 'endpoint_utilization', value: '0.9', target: '>= 0.85', ok: true },
      { metric: 'speedup_vs_reference', value: '3', target: '>= 10', ok: false },
      { metric: 'wall_s', value: '12.5' },
    ]);
    expect(text).toMatch(/endpoint_utilization\s+0\.9\s+>= 0\.85\s+ok/);
    expect(text).toMatch(/speedup_vs_reference\s+3\s+>= 10\s+MISSED/);
    expect(text.split('\n')).toHaveLength(5);
  });
});

describe('/proc sampling', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    // Fields 3.. after the name: state, ppid, pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17) ... rss(24).
    fields[0] = 'S';
    fields[5 - 3] = '4242';
    fields[14 - 3] = '100';
    fields[15 - 3] = '50';
    fields[16 - 3] = '7';
    fields[17 - 3] = '3';
    fields[24 - 3] = '2560';
    const stat = parseProcStat(`1234 (my (odd) name) ${fields.join(' ')}`);
    expect(stat).toEqual({
      pid: 1234,
      comm: 'my (odd) name',
      pgrp: 4242,
      cpuTicks: 150,
      childTicks: 10,
      rssPages: 2560,
    });
    expect(parseProcStat('garbage')).toBeNull();
  });

  it.skipIf(!existsSync('/proc/self/stat'))('finds and meters the processes of a process group', async () => {
    // A detached child leads its own group, like wrangler in the local stack.
    const child = spawn(
      process.execPath,
      ['-e', 'const end = Date.now() + 400; while (Date.now() < end); setTimeout(() => {}, 5000)'],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    try {
      const pid = child.pid!;
      const meter = meterGroup(pid, 50);
      await new Promise((r) => setTimeout(r, 600));
      expect(groupStats(pid).map((s) => s.pid)).toContain(pid);
      const sample = sampleGroup(pid);
      expect(sample.processes).toBeGreaterThanOrEqual(1);
      expect(sample.rssMb).toBeGreaterThan(1);
      const used = meter.stop();
      expect(used.cpuMs).toBeGreaterThanOrEqual(0);
      expect(used.peakRssMb).toBeGreaterThan(1);
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });
});

describe('export measurement', () => {
  it('synthesises valid native records', () => {
    const record = syntheticRecord(7);
    expect(nativeRecordSchema.safeParse(record).success).toBe(true);
    expect(JSON.stringify(record).length).toBeGreaterThan(2000);
  });

  it('streams records through the export pipeline and reports a rate', async () => {
    const result = await measureExportInProcess(500, 'openai');
    expect(result.records).toBe(500);
    expect(result.bytes).toBeGreaterThan(500 * 1000);
    expect(result.recordsPerSecond).toBeGreaterThan(0);
  });
});
