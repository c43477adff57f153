import { z } from 'zod';
import { seedSchema } from './seed';
import { judgeTemplateProblem } from '../prompts/judge-template';
import { curationSchema } from './datacard';

/** Task ids as the CLI writes them: `0-19`, `0,3,7`, `0-4,10`. */
export function parseTaskList(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const piece = part.trim();
    if (!piece) continue;
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(piece);
    if (range) {
      const from = Number(range[1]);
      const to = Number(range[2]);
      if (to < from) throw new Error(`task range "${piece}" ends before it starts`);
      if (to - from >= MAX_TASKS_PER_RUN)
        throw new Error(`task range "${piece}" is larger than ${MAX_TASKS_PER_RUN}`);
      for (let t = from; t <= to; t++) out.add(t);
    } else if (/^\d+$/.test(piece)) {
      out.add(Number(piece));
    } else {
      throw new Error(`"${piece}" is not a task id or range (examples: 0-19, 0,3,7)`);
    }
  }
  if (out.size === 0) throw new Error('no tasks given');
  return [...out].sort((a, b) => a - b);
}

export const MAX_TASKS_PER_RUN = 5000;

/** Task ids of an eval or a loop: a list, or the CLI's list syntax "0-19,25". */
export const taskIdsSchema = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    try {
      return parseTaskList(value);
    } catch {
      return value; // fails the array check below with zod's own message
    }
  },
  z.array(z.number().int().nonnegative().max(1_000_000)).min(1).max(MAX_TASKS_PER_RUN),
);

/** Reference defaults (agent-r.md section 3 and 5). */
export const searchDefaults = {
  iterations: 8,
  width: 4,
  depth: 20,
  alpha: 0.5,
  beta: 0.2,
  c: 0.25,
  transition: 'model',
  parallelism: 1,
  seed: 0,
} as const;

/** What a build does: validated at every entrance (API, webhook, CLI). */
export const runSpecSchema = z
  .object({
    env: z.enum(['crafting', 'agentgym']).default('crafting'),
    flavor: z.enum(['textcraft', 'webshop', 'sciworld']).optional(),
    /** AgentGym server: a registered env server's name or a URL. */
    envServer: z.string().min(1).max(500).optional(),
    world: z.string().min(1).max(100).default('default'),
    tasks: z.array(z.number().int().nonnegative().max(1_000_000)).min(1).max(MAX_TASKS_PER_RUN),
    /** A registered endpoint's name. */
    policy: z.string().min(1).max(100).default('sim'),
    /** The judge; defaults to the policy (Agent-R uses the actor model itself). */
    judge: z.string().min(1).max(100).optional(),
    iterations: z.number().int().min(1).max(256).default(searchDefaults.iterations),
    width: z.number().int().min(1).max(16).default(searchDefaults.width),
    depth: z.number().int().min(1).max(100).default(searchDefaults.depth),
    alpha: z.number().min(0).max(1).default(searchDefaults.alpha),
    beta: z.number().min(0).max(1).default(searchDefaults.beta),
    c: z.number().min(0).max(100).default(searchDefaults.c),
    transition: z.enum(['model', 'end']).default(searchDefaults.transition),
    parallelism: z.number().int().min(1).max(64).default(searchDefaults.parallelism),
    seed: seedSchema.default(searchDefaults.seed),
    temperature: z.number().min(0).max(2).default(1),
    maxTokens: z.number().int().min(1).max(8192).default(500),
    /** The model's context window: old steps are dropped from the prompt to fit (agent-r.md s.3). */
    contextTokens: z.number().int().min(512).max(1_000_000).default(8192),
    preset: z.enum(['agent-r', 'agentgym']).default('agent-r'),
    maxPairsPerTask: z.number().int().min(1).max(100_000).optional(),
    /**
     * Steps of a bad path judged in one round (1 = one at a time, as the reference). The records
     * are the same for any value; a larger one trades a few extra judge calls for fewer rounds.
     */
    judgeLookahead: z.number().int().min(1).max(100).default(4),
    /**
     * Judge a bad path's steps as soon as it pairs with a good leaf, while the search goes on,
     * instead of after it. Same judged steps and records (without maxPairsPerTask, pairs only
     * grow during a search); the task no longer waits for critique rounds at its end.
     */
    judgeDuringSearch: z.boolean().default(true),
    /**
     * How the judge is sampled. `per-node` (default, cheaper): each step is judged once and the
     * verdict shared by every pair through it. `per-pair`: as the reference, every pair re-judges
     * its bad path's steps, sampled afresh at temperature 1.
     */
    judgeSampling: z.enum(['per-node', 'per-pair']).default('per-node'),
    /**
     * Your own judge prompt instead of ours: a template with the placeholders {task}, {history},
     * {action} and {observation} (checked at run creation). The reply must end with
     * `Judgment: Good|Bad|Uncertain`.
     */
    judgePrompt: z.string().min(1).max(20_000).optional(),
    /** Newlines and tabs of observations become spaces, as the reference's MCTS does. */
    cleanObservations: z.boolean().default(false),
    /**
     * SciWorld only (default on there): map each action to a valid one before stepping, as the
     * reference does: exact match, else the valid action sharing the most words (the rules are in
     * shared/env/agentgym/sciworld-actions.ts). Nodes keep the policy's text as `rawAction`.
     */
    mapActions: z.boolean().optional(),
    revisionSentences: z.array(z.string().min(1).max(500)).min(1).max(100).optional(),
    label: z.string().max(200).optional(),
    /**
     * How the run's records are curated when they are read (export, dataset, data card):
     * `reference` (the reference's data, unfiltered) or `clean` (README: Curation). The
     * stored records are never changed, so a run can always be read both ways.
     */
    curation: curationSchema.default('reference'),
    /**
     * A job taken by a consumer that is silent (no heartbeat, no result) this long is retried
     * (attempts and backoff in the TaskTree); one not taken yet is re-sent using up no attempt.
     */
    jobTimeoutMs: z.number().int().min(1000).max(3_600_000).default(120_000),
    /**
     * Longest policy or judge response kept, in characters (default 262144); a longer one is cut
     * with a marker saying so, so one runaway completion never breaks its tree. A policy response
     * is also cut to what fits a child's prompt (shared/text-cap.ts contextTextCap).
     */
    maxResponseChars: z.number().int().min(1000).max(500_000).optional(),
    /**
     * Longest environment observation kept, in characters (default 262144, and at most what fits
     * a child's prompt: contextTextCap); cut with a marker.
     */
    maxObservationChars: z.number().int().min(1000).max(500_000).optional(),
    /**
     * Start some tasks from a given history instead of the first observation: task id -> policy
     * responses replayed before the search (the recovery test of agent-r.md s.6).
     */
    startFrom: z.record(z.string().regex(/^\d+$/), z.array(z.string().max(20_000)).max(200)).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.env === 'agentgym' && !spec.envServer) {
      ctx.addIssue({
        code: 'custom',
        path: ['envServer'],
        message: 'env "agentgym" needs envServer (a name or URL)',
      });
    }
    if (spec.mapActions === true && spec.flavor !== 'sciworld') {
      ctx.addIssue({ code: 'custom', path: ['mapActions'], message: 'mapActions applies to SciWorld only' });
    }
    if (spec.env === 'agentgym' && !spec.flavor) {
      ctx.addIssue({ code: 'custom', path: ['flavor'], message: 'env "agentgym" needs flavor' });
    }
    if (spec.judgePrompt !== undefined) {
      const problem = judgeTemplateProblem(spec.judgePrompt);
      if (problem) ctx.addIssue({ code: 'custom', path: ['judgePrompt'], message: problem });
    }
    if (new Set(spec.tasks).size !== spec.tasks.length) {
      ctx.addIssue({ code: 'custom', path: ['tasks'], message: 'task ids must be unique' });
    }
  });

export type RunSpecInput = z.input<typeof runSpecSchema>;
export type RunSpec = z.output<typeof runSpecSchema>;
