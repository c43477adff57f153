// Positions for the drawn part of the tree: depth down the page, leaves side by side in creation
// order, each parent centred over its children. Linear in the number of drawn nodes.
import type { TreeModel } from './model';

export const LEAF_GAP = 26;
export const LEVEL_GAP = 72;

export interface Layout {
  pos: Map<string, { x: number; y: number }>;
  /** Drawn nodes in preorder. */
  order: string[];
  /** Drawn nodes whose children are hidden, with the number of hidden descendants. */
  hidden: Map<string, number>;
  width: number;
  height: number;
}

/**
 * Which nodes start collapsed so that at most about `budget` nodes are drawn. The search spends
 * its visits on the promising branches, so those are opened first: repeatedly, the most visited
 * node still closed shows its children, while they fit. Everything else stays a "+N" node.
 */
export function autoCollapse(model: TreeModel, budget: number): Set<string> {
  const collapsed = new Set<string>();
  if (model.rootId === null) return collapsed;
  let drawn = 1;
  const open: string[] = [model.rootId];
  while (open.length) {
    let best = 0;
    for (let i = 1; i < open.length; i++) {
      const a = model.get(open[i]!)!;
      const b = model.get(open[best]!)!;
      if (a.visits > b.visits || (a.visits === b.visits && a.depth < b.depth)) best = i;
    }
    const node = model.get(open[best]!)!;
    open.splice(best, 1);
    if (node.children.length === 0) continue;
    if (drawn + node.children.length > budget) {
      collapsed.add(node.id);
      continue;
    }
    drawn += node.children.length;
    open.push(...node.children);
  }
  return collapsed;
}

export function layoutTree(
  model: TreeModel,
  collapsed: ReadonlySet<string>,
  sizes: Map<string, number>,
): Layout {
  const pos = new Map<string, { x: number; y: number }>();
  const order: string[] = [];
  const hidden = new Map<string, number>();
  let leaves = 0;
  let maxDepth = 0;
  const place = (id: string): number => {
    const node = model.get(id)!;
    order.push(id);
    maxDepth = Math.max(maxDepth, node.depth);
    const y = node.depth * LEVEL_GAP;
    if (node.children.length === 0 || collapsed.has(id)) {
      if (node.children.length) hidden.set(id, (sizes.get(id) ?? 1) - 1);
      const x = leaves++ * LEAF_GAP;
      pos.set(id, { x, y });
      return x;
    }
    let first = 0;
    let last = 0;
    node.children.forEach((c, i) => {
      const x = place(c);
      if (i === 0) first = x;
      last = x;
    });
    const x = (first + last) / 2;
    pos.set(id, { x, y });
    return x;
  };
  if (model.rootId !== null) place(model.rootId);
  return {
    pos,
    order,
    hidden,
    width: Math.max(0, (leaves - 1) * LEAF_GAP),
    height: maxDepth * LEVEL_GAP,
  };
}
