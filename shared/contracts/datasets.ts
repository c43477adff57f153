import { z } from 'zod';
import { seedSchema } from './seed';
import { curationSchema, curationSettingsSchema } from './datacard';
import { exportFormatSchema, exportOptionsSchema } from '../formats/export';
import { exportManifestSchema } from '../formats/manifest';

// POST /v1/datasets (and agent-r dataset create): a dataset assembled from finished runs.

/** The name of an uploaded general chat file (PUT /v1/datasets/general-chat/{name}). */
export const generalChatNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-" (at most 100)');

export const datasetCreateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    runIds: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(100)
      .refine((ids) => new Set(ids).size === ids.length, 'run ids must be unique'),
    format: exportFormatSchema.default('openai'),
    kinds: z
      .array(z.enum(['revision', 'good']))
      .min(1)
      .max(2)
      .refine((k) => new Set(k).size === k.length, 'kinds must be unique')
      .default(['revision', 'good']),
    /** Agent share of the mix; default 0.2 (the paper) with general chat data, else 1. */
    eta: z.number().gt(0).max(1).optional(),
    /** What eta counts: `records` (default) or `tokens` (characters / 4 over every turn). */
    etaBasis: z.enum(['records', 'tokens']).default('records'),
    generalChatKey: z
      .string()
      .regex(
        /^general-chat\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.jsonl$/,
        'a key from PUT /v1/datasets/general-chat/{name}',
      )
      .optional(),
    dedupe: z.boolean().default(true),
    /** Curation of the pooled agent records (README: Curation); `reference` keeps them all. */
    curation: curationSchema.default('reference'),
    /** Limits of the `clean` rules (README: Curation); ignored by `reference`. */
    curationOptions: curationSettingsSchema.optional(),
    seed: seedSchema.default(0),
    validationFraction: z.number().min(0).max(0.5).default(0),
    formatOptions: exportOptionsSchema.partial().strict().optional(),
  })
  .strict();
export type DatasetCreateInput = z.input<typeof datasetCreateSchema>;

/** A dataset as GET/POST /v1/datasets answer it; `manifest` is set once it is ready. */
export const datasetViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['building', 'ready', 'failed']),
  format: z.string(),
  runIds: z.array(z.string()),
  createdAt: z.number(),
  error: z.string().nullable(),
  manifest: exportManifestSchema.nullable(),
  links: z.object({ manifest: z.string(), files: z.record(z.string(), z.string()) }),
});
export type DatasetView = z.infer<typeof datasetViewSchema>;

/** GET /v1/datasets: the newest datasets without their manifests. */
export const datasetListSchema = z.object({ datasets: z.array(datasetViewSchema.omit({ manifest: true })) });

/** PUT /v1/datasets/general-chat/{name}: what was stored. */
export const generalChatViewSchema = z.object({
  name: z.string(),
  key: z.string(),
  records: z.number(),
  bytes: z.number(),
});
export type GeneralChatView = z.infer<typeof generalChatViewSchema>;

/** GET /v1/datasets/general-chat: the uploaded files. */
export const generalChatListSchema = z.object({
  files: z.array(z.object({ key: z.string(), bytes: z.number(), uploadedAt: z.number() })),
});
export type GeneralChatList = z.infer<typeof generalChatListSchema>;
