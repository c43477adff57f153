import type { RunSpecInput } from '../../shared/contracts/run-spec';

export interface BenchOptions {
  quick: boolean;
  /** Where bench.json goes (default out/bench.json). */
  outFile: string;
  /** Tasks of the headline build (default 40). */
  tasks: number;
  /** Descents in flight per tree in our builds. */
  parallelism: number;
  /** Task counts of the scaling table (default 10, 20, 40, 80; quick: 10, 20). */
  scaling: number[];
  /** Tasks the reference baseline is measured on (all of them unless quick). */
  baselineTasks: number;
  /**
   * Processes the reference pattern runs as, side by side, one per contiguous task range (users
   * shard it by --min/--max): the endpoint's slots (32).
   */
  baselineShards: number;
  /** Run the three fault scenarios and add a `faults` section. */
  faults: boolean;
  skipBaseline: boolean;
  /**
   * Only these parts (`headline` = the 40-task build, scaling table, reference baseline and export;
   * or section keys: scale, platform_ops, deep_tree, faults), each run even where its mode would
   * skip it; null = everything of the mode.
   */
  only: string[] | null;
  /** Task counts of the scale section's builds, ascending; null = the mode's default. */
  scaleSizes: number[] | null;
  log: (line: string) => void;
}

/** The benchmark's endpoint: a GPU-like server with 32 slots and ~150 ms per request. */
export const benchSim = { capacity: 32, latencyMs: 150, seed: 0 } as const;

export function defaultBenchOptions(quick: boolean, log: (line: string) => void): BenchOptions {
  return {
    quick,
    outFile: 'out/bench.json',
    tasks: 40,
    parallelism: 16,
    // The main build is the table's 40-task row (not built twice).
    scaling: quick ? [10, 20, 40] : [10, 20, 40, 80],
    baselineTasks: quick ? 8 : 40,
    // Never more processes than the endpoint has slots (so it never queues).
    baselineShards: benchSim.capacity,
    faults: !quick,
    skipBaseline: false,
    only: null,
    scaleSizes: null,
    log,
  };
}

export function tasksSpec(n: number, parallelism: number): RunSpecInput {
  return { tasks: Array.from({ length: n }, (_, i) => i), parallelism, seed: 0 };
}

/** The parts `--only` can name: the headline part, then the sections of sections.ts, then faults. */
export const benchParts = ['headline', 'scale', 'platform_ops', 'deep_tree', 'faults'] as const;

/** Whether a part runs: named in `only`, or (no `only`) the mode's default. */
export function partRuns(options: BenchOptions, part: string, byDefault: boolean): boolean {
  return options.only === null ? byDefault : options.only.includes(part);
}
