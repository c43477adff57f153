import type { ChatMessage } from '../../../shared/chat';
import type { Rng } from '../../../shared/random';
import type { TreeFile, TreeNode } from '../../../shared/contracts/tree-file';

// Hand-built and random trees for the revision and format tests.

export const rootPrefix: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'You are in a crafting world. Reply with Thought and Action.' },
  { role: 'assistant', content: 'Ok.' },
  { role: 'user', content: 'Goal: craft 1 stick.' },
];

/** A node; leaves are terminal unless told otherwise. Response/action/observation derive from the id. */
export function step(id: string, props: Partial<TreeNode> = {}, children: TreeNode[] = []): TreeNode {
  return {
    id,
    depth: 0,
    response: `Thought: step ${id}.\nAction: do ${id}`,
    action: `do ${id}`,
    observation: `observed ${id}`,
    reward: 0,
    done: false,
    terminal: children.length === 0,
    visits: 1,
    value: 0,
    judgement: null,
    children,
    ...props,
  };
}

/** Wraps children under a root carrying the first observation; fixes depths and the root value. */
export function treeOf(children: TreeNode[], task = 3): TreeFile {
  const root = step(
    'root',
    { response: '', action: '', observation: 'Goal: craft 1 stick.', terminal: false },
    children,
  );
  let leafRewardSum = 0;
  const fix = (node: TreeNode, depth: number): void => {
    node.depth = depth;
    if (node.children.length === 0) leafRewardSum += node.reward;
    for (const child of node.children) fix(child, depth + 1);
  };
  fix(root, 0);
  root.value = leafRewardSum;
  return { task, root };
}

/** Finds a node by id (test convenience). */
export function nodeById(tree: TreeFile, id: string): TreeNode {
  const stack = [tree.root];
  while (stack.length > 0) {
    const node = stack.pop() as TreeNode;
    if (node.id === id) return node;
    stack.push(...node.children);
  }
  throw new Error(`no node ${id}`);
}

export function judge(tree: TreeFile, judgements: Record<string, TreeNode['judgement']>): void {
  for (const [id, judgement] of Object.entries(judgements)) nodeById(tree, id).judgement = judgement;
}

const rewards = [0, 0, 0.2, 0.5, 0.7, 0.9, 1, 1];
const judgementChoices: TreeNode['judgement'][] = ['good', 'good', 'uncertain', 'bad'];

/**
 * A random finished tree: up to `maxDepth` steps, 1-3 children, fully judged. Sibling texts are
 * distinct (the search de-duplicates them) but some texts repeat across parents, and one in
 * five non-leaf nodes is a terminal leaf early.
 */
export function randomTree(rng: Rng, task: number, maxDepth = 5): TreeFile {
  let counter = 0;
  const make = (depth: number): TreeNode => {
    const id = `n${counter++}`;
    const text = `t${rng.int(4)}`;
    const leaf = depth >= maxDepth || (depth > 0 && rng.next() < 0.2);
    const props: Partial<TreeNode> = {
      response: `Thought: ${text}.\nAction: act ${text}`,
      action: `act ${text}`,
      judgement: judgementChoices[rng.int(judgementChoices.length)] ?? null,
    };
    if (leaf)
      return step(id, {
        ...props,
        reward: rewards[rng.int(rewards.length)] ?? 0,
        terminal: true,
        done: true,
      });
    const children: TreeNode[] = [];
    const width = 1 + rng.int(3);
    const used = new Set<string>();
    for (let i = 0; i < width; i++) {
      const child = make(depth + 1);
      if (used.has(child.response)) continue;
      used.add(child.response);
      children.push(child);
    }
    return step(id, props, children);
  };
  return treeOf(
    [make(1), make(1), make(1)].filter((c, i, all) => all.findIndex((o) => o.response === c.response) === i),
    task,
  );
}
