import { z } from 'zod';
import { curationSchema, curationSettingsSchema } from '../contracts/datacard';
import type { NativeRecord } from '../revision/native-record';
import { exportFormatSchema, exportOptionsSchema } from './export';
import { createSha256 } from './sha256';
import { asExample, type TrainingExample } from './training-example';

/** One written file: what it holds and its SHA-256, so a trainer can verify what it got. */
export const manifestFileSchema = z.object({
  name: z.string().min(1),
  /** e.g. 'train', 'validation', 'revision', 'good', 'all'. */
  split: z.string().min(1),
  records: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

/**
 * The manifest written next to an export. `created_at` is supplied by the caller (this code
 * stays pure). Counts may carry extra numeric tallies (e.g. tasks, judge_calls).
 */
export const exportManifestSchema = z.object({
  manifest_version: z.literal(1),
  run_ids: z.array(z.string().min(1)).min(1),
  model: z.string().nullable(),
  envs: z.array(z.string()),
  thresholds: z.object({
    alpha: z.number().min(0).max(1),
    beta: z.number().min(0).max(1),
    rule: z.enum(['gap', 'band']).default('gap'),
  }),
  transition: z.enum(['model', 'end']),
  seed: z.number().int(),
  format: exportFormatSchema,
  format_options: exportOptionsSchema.partial().optional(),
  /** The curation preset the records went through (README: Curation). */
  curation: curationSchema.default('reference'),
  /** The limits given to the preset's rules, when not their defaults (curationSettingsSchema). */
  curation_options: curationSettingsSchema.optional(),
  counts: z.looseObject({
    records: z.number().int().nonnegative(),
    revision: z.number().int().nonnegative(),
    good: z.number().int().nonnegative(),
    general: z.number().int().nonnegative().default(0),
  }),
  /** Present for assembled datasets (assemble.ts). */
  mixing: z
    .object({
      eta: z.number().gt(0).max(1),
      /** What eta counts: records (default) or tokens (characters / 4). */
      eta_basis: z.enum(['records', 'tokens']).default('records'),
      achieved_eta: z.number().min(0).max(1),
      validation_fraction: z.number().min(0).max(1),
      duplicates_removed: z.number().int().nonnegative(),
    })
    .optional(),
  created_at: z.iso.datetime(),
  files: z.array(manifestFileSchema),
  /** How to keep the loss mask with this format, or that the mode loses it (exportWarnings). */
  warnings: z.array(z.string()).default([]),
  /** Where the data came from: agent-r version and commit, served model ids, environment identity, sampling. */
  provenance: z.record(z.string(), z.unknown()).optional(),
});
export type ExportManifestInput = z.input<typeof exportManifestSchema>;
export type ExportManifest = z.output<typeof exportManifestSchema>;

export interface JsonlSummary {
  records: number;
  bytes: number;
  sha256: string;
}

/**
 * Passes JSONL lines through while counting them and hashing their UTF-8 bytes, so the
 * manifest entry is known once the file has streamed out. `summary()` works after the
 * lines are consumed to the end.
 */
export function measureJsonl(lines: AsyncIterable<string>): {
  lines: AsyncGenerator<string>;
  summary(): JsonlSummary;
} {
  const hash = createSha256();
  const encoder = new TextEncoder();
  let records = 0;
  let bytes = 0;
  let result: JsonlSummary | null = null;
  async function* pass(): AsyncGenerator<string> {
    for await (const line of lines) {
      const encoded = encoder.encode(line);
      hash.update(encoded);
      bytes += encoded.length;
      records++;
      yield line;
    }
    result = { records, bytes, sha256: hash.digestHex() };
  }
  return {
    lines: pass(),
    summary() {
      if (!result) throw new Error('measureJsonl: read the lines to the end before asking for the summary');
      return result;
    },
  };
}

export interface KindCounts {
  records: number;
  revision: number;
  good: number;
  general: number;
}

/** Passes records through while counting them by kind (for the manifest's counts). */
export function countKinds<T extends NativeRecord | TrainingExample>(
  records: AsyncIterable<T> | Iterable<T>,
): { records: AsyncGenerator<T>; counts(): KindCounts } {
  const counts: KindCounts = { records: 0, revision: 0, good: 0, general: 0 };
  async function* pass(): AsyncGenerator<T> {
    for await (const record of records) {
      counts.records++;
      counts[asExample(record).kind]++;
      yield record;
    }
  }
  return { records: pass(), counts: () => ({ ...counts }) };
}

/** Validates (and fills defaults of) a manifest. */
export function buildManifest(input: ExportManifestInput): ExportManifest {
  return exportManifestSchema.parse(input);
}
