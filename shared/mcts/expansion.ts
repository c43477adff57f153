import type { ExpansionChild } from './protocol';
import { type SearchNode, type SearchState, unvisitedNodeFields } from './state';
import { backup, getNode, markDirty, propagateTerminal } from './tree-ops';

// Applying expansion results. Queues deliver at least once and a restarted owner may see a
// result again, so both entry points are idempotent by job id: only an outstanding job is
// accepted, and accepting it removes it.

export interface ApplyResult {
  /** False for a duplicate, stale or unknown job id: the state was not changed. */
  accepted: boolean;
}

/** Descents waiting on `nodeId` may move on (they are advanced by the next `nextExpansions`). */
function wakeWaiters(state: SearchState, nodeId: string): void {
  for (const d of state.descents) {
    if (d.status === 'waiting' && d.path[d.path.length - 1] === nodeId) d.status = 'ready';
  }
}

function createChild(state: SearchState, parent: SearchNode, sample: ExpansionChild): SearchNode {
  const depth = parent.depth + 1;
  const failed = sample.failed === true;
  const child: SearchNode = {
    id: String(state.nodes.length),
    parentId: parent.id,
    depth,
    response: sample.response,
    action: sample.action,
    ...(sample.rawAction !== undefined ? { rawAction: sample.rawAction } : {}),
    observation: sample.observation,
    // A disaster scores 0 whatever the env layer reported.
    reward: failed ? 0 : sample.reward,
    done: sample.done,
    failed,
    terminal: depth > state.config.maxDepth || sample.done || failed,
    ...unvisitedNodeFields(),
  };
  state.nodes.push(child);
  parent.childIds.push(child.id);
  markDirty(state, child.id);
  return child;
}

/**
 * Records the children of an outstanding job's node: de-duplicated by exact response text
 * (first occurrence kept, in the given order), terminal ones backed up in that order, dead
 * ends pruned. The job's descent resumes from the node on the next `nextExpansions`.
 * An empty child list is recorded as a failed expansion.
 */
export function applyExpansion(
  state: SearchState,
  jobId: string,
  children: readonly ExpansionChild[],
): ApplyResult {
  const job = state.jobs[jobId];
  if (!job) return { accepted: false };
  if (children.length === 0) return failExpansion(state, jobId, 'expansion returned no children');
  delete state.jobs[jobId];

  const node = getNode(state, job.nodeId);
  const seen = new Set<string>();
  const created: SearchNode[] = [];
  for (const sample of children) {
    if (seen.has(sample.response)) continue;
    seen.add(sample.response);
    created.push(createChild(state, node, sample));
  }
  node.expanded = true;
  markDirty(state, node.id);
  for (const child of created) {
    if (child.terminal) backup(state, child.id, child.reward);
  }
  propagateTerminal(state, node.id);
  state.counters.expansionsApplied += 1;

  const owner = state.descents.find((d) => d.id === job.descentId);
  if (owner) {
    owner.status = 'ready';
    owner.jobId = null;
    owner.justExpanded = true;
  }
  wakeWaiters(state, node.id);
  return { accepted: true };
}

/**
 * Gives up on an outstanding job: its node keeps `reason` in `error` and becomes terminal
 * with reward 0 *without* a backup, so an infrastructure failure neither counts as a visit
 * nor drags the ancestors' Q down. Its descent ends; descents waiting on the node restart
 * from the root.
 */
export function failExpansion(state: SearchState, jobId: string, reason: string): ApplyResult {
  const job = state.jobs[jobId];
  if (!job) return { accepted: false };
  delete state.jobs[jobId];

  const node = getNode(state, job.nodeId);
  node.error = reason || 'expansion failed';
  node.terminal = true;
  node.reward = 0;
  markDirty(state, node.id);
  propagateTerminal(state, node.id);
  state.counters.expansionsFailed += 1;

  const owner = state.descents.find((d) => d.id === job.descentId);
  if (owner) {
    state.descents = state.descents.filter((d) => d.id !== owner.id);
    state.counters.descentsFinished += 1;
  }
  wakeWaiters(state, node.id);
  return { accepted: true };
}
