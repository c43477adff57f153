import type { BenchOptions } from './options';

/**
 * Extra sections of bench.json, each measured on its own (own stack, own state directory under
 * `workDir`) after the headline build, the scaling table and the baseline. To add one: write a
 * module exporting a `BenchSection` and list it in `benchSections` in sections.ts; its result lands in
 * bench.json under `key`.
 */
export interface SectionContext {
  options: BenchOptions;
  /** A temporary directory removed when the bench ends; use a sub-directory of your own. */
  workDir: string;
  log: (line: string) => void;
}

export interface BenchSection {
  /** The bench.json key (never rename one that has shipped). */
  key: string;
  /** Whether it runs in this mode (e.g. `(o) => !o.quick` for full-bench-only sections). */
  enabled: (options: BenchOptions) => boolean;
  run: (ctx: SectionContext) => Promise<unknown>;
  /**
   * Runs while the headline part waits for the reference baseline's processes (after the scaling
   * builds), instead of after the headline. Only for sections whose figures are counts and CPU
   * time, not wall time: the baseline's processes (mostly waiting on their endpoint) barely move
   * those, and the section's stack barely moves theirs. Its bench.json entry then says so.
   */
  besideBaseline?: boolean;
}
