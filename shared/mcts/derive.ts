import type { SearchNode } from './state';

// A node's own data (parent, depth, reward, done, failed, error, judgement) is written once when
// it is created (error and judgement once more when set). Everything else a node holds follows
// from the nodes alone, so an owner that stores only the own data never rewrites an ancestor:
//   - childIds: the nodes whose parent it is, in id (= creation) order;
//   - expanded: it has children (an applied expansion always adds at least one);
//   - terminal: terminal when created (too deep, done or failed), or its expansion failed, or it
//     has children and every child is terminal (propagateTerminal keeps exactly this);
//   - visits and value: every node terminal when created was backed up at once, and nodes are
//     created in id order, so replaying those backups in id order repeats every addition in the
//     same order: the same floating-point sums, bit for bit.

/** The fields `deriveSearchFields` recomputes. */
export type DerivedField = 'childIds' | 'expanded' | 'terminal' | 'visits' | 'value';

/** Whether a node was terminal when it was created (then it was backed up at once). */
export function terminalWhenCreated(
  node: Pick<SearchNode, 'parentId' | 'depth' | 'done' | 'failed'>,
  maxDepth: number,
): boolean {
  return node.parentId !== null && (node.depth > maxDepth || node.done || node.failed);
}

/**
 * Sets childIds, expanded, terminal, visits and value of `nodes` (`nodes[i].id === String(i)`,
 * a parent before its children) from their own data. O(nodes + backups x depth).
 */
export function deriveSearchFields(nodes: readonly SearchNode[], maxDepth: number): void {
  for (const node of nodes) {
    node.childIds = [];
    node.visits = 0;
    node.value = 0;
  }
  for (const node of nodes) {
    if (node.parentId === null) continue;
    const parent = nodes[Number(node.parentId)];
    if (!parent || Number(node.parentId) >= Number(node.id))
      throw new Error(`search state: node ${node.id} has parent ${node.parentId}`);
    parent.childIds.push(node.id);
  }
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    node.expanded = node.childIds.length > 0;
    node.terminal =
      terminalWhenCreated(node, maxDepth) ||
      node.error !== null ||
      (node.expanded && node.childIds.every((id) => nodes[Number(id)]!.terminal));
  }
  for (const node of nodes) {
    if (!terminalWhenCreated(node, maxDepth)) continue;
    const reward = node.reward;
    for (let at: SearchNode | undefined = node; at; ) {
      at.visits += 1;
      at.value += reward;
      at = at.parentId === null ? undefined : nodes[Number(at.parentId)];
    }
  }
}
