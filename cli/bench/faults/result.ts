import { z } from 'zod';

/**
 * One durability scenario's measured outcome (bench.json `faults.<scenario>`). The wrangler-dev
 * scenarios (durability.ts) build it in the bench; the workerd ones (workerd.ts) come as JSON lines
 * from test/integration/durability.test.ts, which is why it is a schema: parsed, never trusted.
 *
 * lost / duplicated: records the ledger counts but R2 lacks, and records R2 or D1's index holds
 * twice (plus, where the fault leaves the data unchanged, the difference to the fault-free run).
 */
export const durabilityResultSchema = z.object({
  scenario: z.string().min(1),
  status: z.string(),
  endS: z.number().nonnegative(),
  lost: z.number().int().nonnegative(),
  duplicated: z.number().int().nonnegative(),
  /** run.completed deliveries received (1 is right). */
  webhooks: z.number().int().nonnegative(),
  /** Scenario-specific facts (peak in flight, calls after cancel, records identical, ...). */
  facts: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])),
});
export type DurabilityResult = z.infer<typeof durabilityResultSchema>;

/** A result as bench.json shows it under `faults`. */
export function benchEntry(r: DurabilityResult): Record<string, unknown> {
  return {
    status: r.status,
    end_s: Math.round(r.endS * 10) / 10,
    lost: r.lost,
    duplicated: r.duplicated,
    webhooks: r.webhooks,
    ...r.facts,
  };
}
