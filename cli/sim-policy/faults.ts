import { z } from 'zod';

/**
 * Injected failures of an inference server: 5xx, 429 with retry-after, a hang past the client's
 * timeout, a garbage (non-JSON) body, an empty completion.
 */
export const faultKindSchema = z.enum(['5xx', '429', 'hang', 'garbage', 'empty']);
export type FaultKind = z.infer<typeof faultKindSchema>;
export const faultKinds: readonly FaultKind[] = faultKindSchema.options;

/** Probability per request of each fault. */
export const faultRatesSchema = z.object({
  '5xx': z.number().min(0).max(1).default(0),
  '429': z.number().min(0).max(1).default(0),
  hang: z.number().min(0).max(1).default(0),
  garbage: z.number().min(0).max(1).default(0),
  empty: z.number().min(0).max(1).default(0),
});
export type FaultRates = z.infer<typeof faultRatesSchema>;

export interface Fault {
  kind: FaultKind;
  /** HTTP status for 5xx and 429. */
  status?: number;
}

/**
 * Header values of `x-sim-fault`: a status (500, 502, 503, 429), hang, garbage, empty, or none
 * (no fault even if rates are configured); absent or unknown values leave it to the rates.
 */
export function faultFromHeader(value: string | undefined): Fault | null | undefined {
  const text = value?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === 'none') return null;
  if (/^5\d\d$/.test(text)) return { kind: '5xx', status: Number(text) };
  if (text === '429') return { kind: '429', status: 429 };
  const kind = faultKindSchema.safeParse(text);
  if (kind.success) return kind.data === '5xx' ? { kind: '5xx', status: 500 } : { kind: kind.data };
  return undefined;
}

/** One draw against the configured rates (each kind in its own slice of [0, 1)). */
export function drawFault(rates: FaultRates, random: () => number): Fault | null {
  let u = random();
  for (const kind of faultKinds) {
    const rate = rates[kind];
    if (u < rate) {
      if (kind === '5xx') return { kind, status: random() < 0.5 ? 500 : 503 };
      return kind === '429' ? { kind, status: 429 } : { kind };
    }
    u -= rate;
  }
  return null;
}
