import { z } from 'zod';
import type { World } from '../env/crafting/world';
import { createSha256 } from '../formats/sha256';
import type { RunSpec } from './run-spec';

// Where a run's data came from, in every record (`provenance`) and every manifest: the model ids
// the servers reported in their completions (the `model` field; vLLM answers with its served
// name, OpenAI with the dated snapshot an alias resolved to) next to the endpoint names, the
// agent-r version and commit that made it, the environment's identity and the sampling settings.

const modelOfSchema = z.object({
  /** The registered endpoint's name. */
  endpoint: z.string(),
  /** The model id its server reported in its completions (null: none reported, or not yet). */
  model: z.string().nullable(),
});

export const runProvenanceSchema = z.object({
  agent_r_version: z.string().nullable(),
  git_commit: z.string().nullable(),
  policy: modelOfSchema,
  /** Present when the judge is another endpoint than the policy. */
  judge: modelOfSchema.optional(),
  environment: z.union([
    z.object({
      env: z.literal('crafting'),
      world: z.string(),
      /** SHA-256 of the world's JSON with sorted keys (null when the world could not be read). */
      world_sha256: z.string().nullable(),
    }),
    z.object({ env: z.literal('agentgym'), server: z.string(), flavor: z.string() }),
  ]),
  sampling: z.object({
    temperature: z.number(),
    max_tokens: z.number().int(),
    context_tokens: z.number().int(),
    seed: z.number().int(),
    width: z.number().int(),
    preset: z.string(),
    judge_sampling: z.string(),
  }),
});
export type RunProvenance = z.infer<typeof runProvenanceSchema>;

/** What the run spec does not say: the build's identity and what the servers reported. */
export interface ProvenanceFacts {
  version: string | null;
  commit: string | null;
  policyModel: string | null;
  judgeModel: string | null;
  worldSha256: string | null;
}

/** Stable JSON (sorted keys), so a world's hash does not depend on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The content hash of a crafting world (the same in the CLI, the workers and for any key order). */
export function worldSha256(world: World): string {
  return createSha256().update(stableJson(world)).digestHex();
}

export function runProvenance(spec: RunSpec, facts: ProvenanceFacts): RunProvenance {
  const judge = spec.judge !== undefined && spec.judge !== spec.policy ? spec.judge : null;
  return {
    agent_r_version: facts.version,
    git_commit: facts.commit,
    policy: { endpoint: spec.policy, model: facts.policyModel },
    ...(judge ? { judge: { endpoint: judge, model: facts.judgeModel } } : {}),
    environment:
      spec.env === 'agentgym'
        ? { env: 'agentgym', server: spec.envServer ?? '', flavor: spec.flavor ?? 'textcraft' }
        : { env: 'crafting', world: spec.world, world_sha256: facts.worldSha256 },
    sampling: {
      temperature: spec.temperature,
      max_tokens: spec.maxTokens,
      context_tokens: spec.contextTokens,
      seed: spec.seed,
      width: spec.width,
      preset: spec.preset,
      judge_sampling: spec.judgeSampling,
    },
  };
}
