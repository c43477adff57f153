import { z } from 'zod';
import type { Curation, CurationRuleName, CurationStep } from '../contracts/datacard';
import type { RecordFeatures } from './features';
import {
  capPerTask,
  dropErrorRepeats,
  dropFailureLoops,
  preferShortestPartners,
  removeDuplicates,
} from './rules';

export const curationOptionsSchema = z.object({
  /** Records of each kind kept per task by `cap-per-task`. */
  maxPerTask: z.number().int().min(1).default(32),
  /** Revision records kept per bad path by `shortest-partner`. */
  perBadPath: z.number().int().min(1).default(1),
  seed: z.number().int().default(0),
});
export type CurationOptionsInput = z.input<typeof curationOptionsSchema>;

export interface CurationResult {
  kept: RecordFeatures[];
  steps: CurationStep[];
}

/** Applies a preset; `steps` shows each rule's effect (empty for `reference`). */
export function curate(
  records: readonly RecordFeatures[],
  preset: Curation,
  optionsInput: CurationOptionsInput = {},
): CurationResult {
  if (preset === 'reference') return { kept: [...records], steps: [] };
  const options = curationOptionsSchema.parse(optionsInput);
  const rules: [CurationRuleName, (r: readonly RecordFeatures[]) => RecordFeatures[]][] = [
    ['dedupe', (r) => removeDuplicates(r)],
    ['no-failure-loops', (r) => dropFailureLoops(r)],
    ['no-error-repeat', (r) => dropErrorRepeats(r)],
    ['shortest-partner', (r) => preferShortestPartners(r, options)],
    ['cap-per-task', (r) => capPerTask(r, options)],
  ];
  let kept = [...records];
  const steps: CurationStep[] = [];
  for (const [rule, apply] of rules) {
    const next = apply(kept);
    steps.push({ rule, before: kept.length, after: next.length, removed: kept.length - next.length });
    kept = next;
  }
  return { kept, steps };
}
