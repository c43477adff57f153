import { z } from 'zod';
import { judgementSchema } from '../contracts/tree-file';
import { type SearchConfigInput, searchConfigSchema } from './config';
import { createRngState } from '../random';
import { stepOutcomeShape } from './protocol';

/** The search's generator state (shared/random's RngState: one uint32). */
export const rngStateSchema = z.object({ s: z.number().int().min(0).max(0xffffffff) });

/** One tree node, stored flat (children by id) so the owner can persist one row per node. */
export const searchNodeSchema = z.object({
  /** Decimal creation index: root '0', then '1', '2', ... */
  id: z.string(),
  parentId: z.string().nullable(),
  depth: z.number().int().nonnegative(),
  ...stepOutcomeShape,
  /** Negative raw env reward ("disaster"): terminal with reward 0. */
  failed: z.boolean(),
  terminal: z.boolean(),
  visits: z.number().int().nonnegative(),
  value: z.number(),
  /** In creation order. */
  childIds: z.array(z.string()),
  expanded: z.boolean(),
  judgement: judgementSchema,
  /** Why expanding this node failed (then it is terminal with reward 0); null otherwise. */
  error: z.string().nullable(),
});
export type SearchNode = z.infer<typeof searchNodeSchema>;

/** A new node's search fields: not visited, not expanded, not judged. */
export function unvisitedNodeFields(): Pick<
  SearchNode,
  'visits' | 'value' | 'childIds' | 'expanded' | 'judgement' | 'error'
> {
  return { visits: 0, value: 0, childIds: [], expanded: false, judgement: null, error: null };
}

/**
 * A descent from the root in progress. `path` holds node ids root..current (it carries the
 * virtual loss seen by other descents). `ready`: waiting for `nextExpansions` to move it on;
 * `expanding`: its job `jobId` is out; `waiting`: another descent is expanding its node.
 */
export const descentSchema = z.object({
  id: z.number().int().nonnegative(),
  path: z.array(z.string()).min(1),
  status: z.enum(['ready', 'expanding', 'waiting']),
  jobId: z.string().nullable(),
  /** True right after this descent's own expansion was applied (a dead end there ends it). */
  justExpanded: z.boolean(),
});
export type Descent = z.infer<typeof descentSchema>;

export const jobSchema = z.object({
  nodeId: z.string(),
  descentId: z.number().int().nonnegative(),
});
export type Job = z.infer<typeof jobSchema>;

export const searchCountersSchema = z.object({
  descentsStarted: z.number().int().nonnegative(),
  descentsFinished: z.number().int().nonnegative(),
  jobsIssued: z.number().int().nonnegative(),
  expansionsApplied: z.number().int().nonnegative(),
  expansionsFailed: z.number().int().nonnegative(),
  /** Terminal children backed up; always equals the root's visits. */
  backups: z.number().int().nonnegative(),
});
export type SearchCounters = z.infer<typeof searchCountersSchema>;

/** Everything but the nodes: small, rewritten on every event. */
export const searchMetaSchema = z.object({
  version: z.literal(1),
  config: searchConfigSchema,
  /** Active descents, ordered by id (the order `nextExpansions` moves them in). */
  descents: z.array(descentSchema),
  /** Outstanding expansion jobs by job id. */
  jobs: z.record(z.string(), jobSchema),
  rng: rngStateSchema,
  counters: searchCountersSchema,
  /** Node ids changed since the last `takeDirtyNodeIds`. */
  dirty: z.array(z.string()),
});
export type SearchMeta = z.infer<typeof searchMetaSchema>;

export const searchStateSchema = searchMetaSchema.extend({
  /** `nodes[i].id === String(i)`. */
  nodes: z.array(searchNodeSchema).min(1),
});
/** The whole search: plain JSON data, safe to serialise at any point between calls. */
export type SearchState = z.infer<typeof searchStateSchema>;

export const ROOT_ID = '0';

export function createSearch(config: SearchConfigInput, root: { observation: string }): SearchState {
  const parsed = searchConfigSchema.parse(config);
  const rootNode: SearchNode = {
    id: ROOT_ID,
    parentId: null,
    depth: 0,
    response: '',
    action: '',
    observation: root.observation,
    reward: 0,
    done: false,
    failed: false,
    terminal: false,
    ...unvisitedNodeFields(),
  };
  return {
    version: 1,
    config: parsed,
    descents: [],
    jobs: {},
    rng: createRngState(parsed.seed),
    counters: {
      descentsStarted: 0,
      descentsFinished: 0,
      jobsIssued: 0,
      expansionsApplied: 0,
      expansionsFailed: 0,
      backups: 0,
    },
    dirty: [ROOT_ID],
    nodes: [rootNode],
  };
}

/** Validates serialised state (e.g. after JSON.parse) and checks the node id layout. */
export function parseSearchState(data: unknown): SearchState {
  const state = searchStateSchema.parse(data);
  state.nodes.forEach((node, i) => {
    if (node.id !== String(i)) throw new Error(`search state: node at index ${i} has id ${node.id}`);
  });
  return state;
}

/** Splits the state for row-wise storage: one meta record plus one record per node. */
export function splitSearchState(state: SearchState): { meta: SearchMeta; nodes: SearchNode[] } {
  const { nodes, ...meta } = state;
  return { meta, nodes };
}

/** Inverse of `splitSearchState`; nodes may come in any order. */
export function joinSearchState(meta: unknown, nodes: readonly unknown[]): SearchState {
  const parsedNodes = nodes.map((n) => searchNodeSchema.parse(n));
  parsedNodes.sort((a, b) => Number(a.id) - Number(b.id));
  return parseSearchState({ ...searchMetaSchema.parse(meta), nodes: parsedNodes });
}

export function isComplete(state: SearchState): boolean {
  const root = state.nodes[0]!;
  return (
    state.descents.length === 0 &&
    (root.terminal || state.counters.descentsStarted >= state.config.iterations)
  );
}
