import type { PathStep } from './protocol';
import type { SearchNode, SearchState } from './state';

// Small node-level operations shared by the descent and expansion code.

export function getNode(state: SearchState, id: string): SearchNode {
  const node = state.nodes[Number(id)];
  if (!node || node.id !== id) throw new Error(`search: unknown node ${id}`);
  return node;
}

export function markDirty(state: SearchState, id: string): void {
  if (!state.dirty.includes(id)) state.dirty.push(id);
}

/** Ids of nodes created or changed since the previous call (ascending); clears the set. */
export function takeDirtyNodeIds(state: SearchState): string[] {
  const ids = [...state.dirty].sort((a, b) => Number(a) - Number(b));
  state.dirty = [];
  return ids;
}

/** Node ids from the root down to `id`, inclusive. */
export function pathIds(state: SearchState, id: string): string[] {
  const ids: string[] = [];
  let cur: string | null = id;
  // Bounded by the node count: a parent always has a smaller id.
  for (let guard = 0; cur !== null && guard <= state.nodes.length; guard++) {
    ids.push(cur);
    cur = getNode(state, cur).parentId;
  }
  return ids.reverse();
}

export function pathSteps(state: SearchState, id: string): PathStep[] {
  return pathIds(state, id).map((nid) => {
    const n = getNode(state, nid);
    return { response: n.response, action: n.action, observation: n.observation };
  });
}

/** The reference's backpropagation: the terminal node itself and every ancestor. */
export function backup(state: SearchState, fromId: string, reward: number): void {
  for (const id of pathIds(state, fromId)) {
    const node = getNode(state, id);
    node.visits += 1;
    node.value += reward;
    markDirty(state, id);
  }
  state.counters.backups += 1;
}

/**
 * A node whose children are all terminal becomes terminal, and so on upwards. The reference
 * re-checks this for every ancestor during backpropagation; doing it here after any change
 * gives the same flags (and also covers failed expansions, which back nothing up).
 */
export function propagateTerminal(state: SearchState, fromId: string): void {
  let cur: string | null = fromId;
  for (let guard = 0; cur !== null && guard <= state.nodes.length; guard++) {
    const node = getNode(state, cur);
    if (!node.terminal) {
      const dead = node.childIds.length > 0 && node.childIds.every((c) => getNode(state, c).terminal);
      if (!dead) return;
      node.terminal = true;
      markDirty(state, node.id);
    }
    cur = node.parentId;
  }
}
