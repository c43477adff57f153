// The search tree held flat (parent and children by id), built from the tree file and grown by
// live updates.
import type { LiveNode } from '../../../shared/contracts/live-tree';
import type { ApiTreeNode, TreeFile } from '../types';

/** A live node as the model holds it: the extras made explicit, children by id. */
export interface VNode extends Omit<LiveNode, 'failed' | 'error'> {
  failed: boolean;
  error: string | null;
  /** In creation order (ascending numeric id). */
  children: string[];
}

const byId = (a: string, b: string) => Number(a) - Number(b) || a.localeCompare(b);

export class TreeModel {
  readonly nodes = new Map<string, VNode>();
  rootId: string | null = null;

  static fromFile(file: TreeFile): TreeModel {
    const model = new TreeModel();
    model.mergeFile(file);
    return model;
  }

  /**
   * Merges a (re)fetched tree file: parents come before children, and updates the model already
   * holds from the live stream win when they are newer. Returns the number of nodes added.
   */
  mergeFile(file: TreeFile): number {
    let added = 0;
    const stack: [ApiTreeNode, string | null][] = [[file.root as ApiTreeNode, null]];
    while (stack.length) {
      const [node, parentId] = stack.pop()!;
      const { children, ...rest } = node;
      if (this.upsert({ ...rest, parentId }) === 'added') added++;
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, node.id]);
    }
    return added;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(id: string): VNode | undefined {
    return this.nodes.get(id);
  }

  /**
   * Applies a changed node. Visits only grow, so an update older than what we hold (it crossed
   * the tree fetch) is ignored. Returns 'orphan' when its parent is unknown (refetch the tree).
   */
  upsert(live: LiveNode): 'added' | 'updated' | 'stale' | 'orphan' {
    const existing = this.nodes.get(live.id);
    if (existing) {
      if (live.visits < existing.visits) return 'stale';
      Object.assign(existing, changingFields(live));
      return 'updated';
    }
    if (live.parentId === null) {
      if (this.rootId !== null) return 'orphan';
      this.rootId = live.id;
    } else {
      const parent = this.nodes.get(live.parentId);
      if (!parent) return 'orphan';
      parent.children.push(live.id);
      parent.children.sort(byId);
    }
    this.nodes.set(live.id, {
      id: live.id,
      parentId: live.parentId,
      depth: live.depth,
      response: live.response,
      action: live.action,
      observation: live.observation,
      ...changingFields(live),
      children: [],
    });
    return 'added';
  }

  /** Node ids from the root down to `id` (empty when `id` is unknown). */
  pathTo(id: string): string[] {
    const path: string[] = [];
    let cur = this.nodes.get(id);
    while (cur && path.length <= this.nodes.size) {
      path.push(cur.id);
      cur = cur.parentId === null ? undefined : this.nodes.get(cur.parentId);
    }
    return path.reverse();
  }

  /** Subtree sizes (the node itself included), for every node. */
  subtreeSizes(): Map<string, number> {
    const sizes = new Map<string, number>();
    const order = this.preorder();
    for (let i = order.length - 1; i >= 0; i--) {
      const node = this.nodes.get(order[i]!)!;
      let size = 1;
      for (const c of node.children) size += sizes.get(c) ?? 0;
      sizes.set(node.id, size);
    }
    return sizes;
  }

  preorder(): string[] {
    const out: string[] = [];
    if (this.rootId === null) return out;
    const stack = [this.rootId];
    while (stack.length) {
      const id = stack.pop()!;
      out.push(id);
      const node = this.nodes.get(id);
      if (node) for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
    return out;
  }
}

/** Mean value of a node (the MCTS Q), or null before its first visit. */
export function meanValue(node: VNode): number | null {
  return node.visits > 0 ? node.value / node.visits : null;
}

/** What colours a node: the reward of a finished episode, else its mean value. */
export function nodeScore(node: VNode): number | null {
  if (node.done || node.failed || node.error) return node.reward;
  return meanValue(node);
}

/** The fields of a node a later live update may change (search counts, outcome, judgement). */
function changingFields(live: LiveNode) {
  return {
    reward: live.reward,
    done: live.done,
    terminal: live.terminal,
    visits: live.visits,
    value: live.value,
    judgement: live.judgement,
    failed: live.failed === true,
    error: live.error ?? null,
  };
}
