import type { ExpansionRequest } from './protocol';
import { selectChild, virtualLossFor } from './select';
import { type Descent, ROOT_ID, type SearchState } from './state';
import { getNode, markDirty, pathSteps, propagateTerminal } from './tree-ops';

// Moving descents down the tree. The reference loop is
//   for each iteration: node = root; while node is not terminal: expand(node); node = select(node)
// where select walks best children through already-expanded nodes down to an unexpanded one
// and returns nothing once it meets a node with no non-terminal child. Here that loop is cut
// at every expansion: a descent stops when it needs a node expanded and resumes when the
// result has been applied.

function requestFor(state: SearchState, jobId: string, nodeId: string): ExpansionRequest {
  return {
    jobId,
    nodeId,
    depth: getNode(state, nodeId).depth,
    path: pathSteps(state, nodeId),
    width: state.config.width,
  };
}

function jobOnNode(state: SearchState, nodeId: string): string | undefined {
  return Object.keys(state.jobs).find((jobId) => state.jobs[jobId]!.nodeId === nodeId);
}

function endDescent(state: SearchState, descent: Descent): void {
  state.descents = state.descents.filter((d) => d.id !== descent.id);
  state.counters.descentsFinished += 1;
}

/** Moves one ready descent until it needs an expansion, waits, or ends. */
function advance(state: SearchState, descent: Descent): ExpansionRequest | null {
  // Each pass either returns or goes one level deeper (or back to the root once, after
  // which it only goes deeper): bounded by twice the node count plus a margin.
  const limit = 2 * state.nodes.length + 4;
  for (let step = 0; step < limit; step++) {
    const node = getNode(state, descent.path[descent.path.length - 1]!);
    if (node.terminal) {
      if (descent.justExpanded || node.id === ROOT_ID) {
        // The reference ends the iteration at the node it has just expanded when all of that
        // node's children are terminal.
        endDescent(state, descent);
        return null;
      }
      // Only a waiting descent gets here: the node it waited on turned out to be a dead end
      // (parallel mode only). Rather than waste the iteration, start over from the root.
      descent.path = [ROOT_ID];
      continue;
    }
    descent.justExpanded = false;
    if (!node.expanded) {
      if (jobOnNode(state, node.id) !== undefined) {
        // Never two jobs for one node: wait for the other descent's result.
        descent.status = 'waiting';
        return null;
      }
      const jobId = `${node.id}:${state.counters.jobsIssued}`;
      state.counters.jobsIssued += 1;
      state.jobs[jobId] = { nodeId: node.id, descentId: descent.id };
      descent.status = 'expanding';
      descent.jobId = jobId;
      return requestFor(state, jobId, node.id);
    }
    const childId = selectChild(state, node.id, virtualLossFor(state, descent.id));
    if (childId === null) {
      // Unreachable while terminal flags are propagated eagerly; mirrors best_child anyway.
      node.terminal = true;
      markDirty(state, node.id);
      propagateTerminal(state, node.id);
      endDescent(state, descent);
      return null;
    }
    descent.path.push(childId);
  }
  throw new Error(`search: descent ${descent.id} did not settle`);
}

function canStartDescent(state: SearchState): boolean {
  return (
    !getNode(state, ROOT_ID).terminal &&
    state.counters.descentsStarted < state.config.iterations &&
    state.descents.length < state.config.parallelism
  );
}

/**
 * Moves every ready descent (in id order), then starts new descents while fewer than
 * `parallelism` are active, and returns the expansion jobs issued by this call. Call it after
 * creating the search and after every applied or failed result. Deterministic given the state.
 */
export function nextExpansions(state: SearchState): ExpansionRequest[] {
  const requests: ExpansionRequest[] = [];
  for (const descent of [...state.descents]) {
    if (descent.status !== 'ready') continue;
    const req = advance(state, descent);
    if (req) requests.push(req);
  }
  while (canStartDescent(state)) {
    const descent: Descent = {
      id: state.counters.descentsStarted,
      path: [ROOT_ID],
      status: 'ready',
      jobId: null,
      justExpanded: false,
    };
    state.counters.descentsStarted += 1;
    state.descents.push(descent);
    const req = advance(state, descent);
    if (req) requests.push(req);
  }
  return requests;
}

/** Every outstanding job as a request, e.g. to re-send them after a restart. */
export function inFlightExpansions(state: SearchState): ExpansionRequest[] {
  return Object.entries(state.jobs).map(([jobId, job]) => requestFor(state, jobId, job.nodeId));
}
