import type { TreeFile, TreeNode } from '../contracts/tree-file';

/**
 * A root-to-leaf path: `nodes[0]` is the root (no action), `nodes[i]` is step i.
 * Its value is the leaf's reward.
 */
export interface LeafPath {
  nodes: readonly TreeNode[];
  reward: number;
  leafId: string;
}

/** Guard against malformed (cyclic or absurdly large) input; real trees are far smaller. */
export const MAX_TREE_NODES = 1_000_000;

/** Number of steps (actions) on a path. */
export function stepCount(path: LeafPath | readonly TreeNode[]): number {
  const nodes = 'nodes' in path ? path.nodes : path;
  return Math.max(0, nodes.length - 1);
}

/**
 * Every root-to-node path ending in a terminal node without children, in depth-first child
 * order (the reference's order). Paths with no step (a childless terminal root) are left
 * out: they hold nothing to train on; so are nodes marked with an expansion `error`.
 */
export function findLeafPaths(root: TreeNode): LeafPath[] {
  const out: LeafPath[] = [];
  const stack: TreeNode[][] = [[root]];
  let visited = 0;
  while (stack.length > 0) {
    const path = stack.pop() as TreeNode[];
    const node = path[path.length - 1] as TreeNode;
    if (++visited > MAX_TREE_NODES) throw new Error(`tree has more than ${MAX_TREE_NODES} nodes`);
    if (node.children.length === 0) {
      // A node whose expansion failed (infrastructure, not the policy) is no bad path: skip it.
      const failedExpansion = typeof (node as { error?: unknown }).error === 'string';
      if (node.terminal && path.length > 1 && !failedExpansion)
        out.push({ nodes: path, reward: node.reward, leafId: node.id });
      continue;
    }
    // Push in reverse so children come off the stack in their stored order.
    for (let i = node.children.length - 1; i >= 0; i--) stack.push([...path, node.children[i] as TreeNode]);
  }
  return out;
}

/** Every node of the tree by id. */
export function indexTree(tree: TreeFile | TreeNode): Map<string, TreeNode> {
  const root = 'root' in tree ? tree.root : tree;
  const byId = new Map<string, TreeNode>();
  const stack: TreeNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as TreeNode;
    if (byId.has(node.id)) throw new Error(`tree has two nodes with id "${node.id}"`);
    byId.set(node.id, node);
    if (byId.size > MAX_TREE_NODES) throw new Error(`tree has more than ${MAX_TREE_NODES} nodes`);
    for (const child of node.children) stack.push(child);
  }
  return byId;
}

/** The path from the root to node `id` (root first), or null when the tree has no such node. */
export function pathToNode(tree: TreeFile | TreeNode, id: string): TreeNode[] | null {
  const root = 'root' in tree ? tree.root : tree;
  const stack: TreeNode[][] = [[root]];
  let visited = 0;
  while (stack.length > 0) {
    const path = stack.pop() as TreeNode[];
    const node = path[path.length - 1] as TreeNode;
    if (node.id === id) return path;
    if (++visited > MAX_TREE_NODES) throw new Error(`tree has more than ${MAX_TREE_NODES} nodes`);
    for (const child of node.children) stack.push([...path, child]);
  }
  return null;
}
