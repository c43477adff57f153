import type { Judgement, TreeFile, TreeNode } from '../../../shared/contracts/tree-file';

// Hand-built eval trees: a greedy rollout is a chain root -> step 1 -> ... -> leaf.

export interface StepSpec {
  action: string;
  observation?: string;
  response?: string;
  judgement?: Judgement;
}

/** A chain whose last node carries `reward` and is terminal (unless `unfinished`). */
export function chain(
  task: number,
  steps: readonly (StepSpec | string)[],
  reward: number,
  options: { unfinished?: boolean; errorAtEnd?: string } = {},
): TreeFile {
  const root: TreeNode = {
    id: '0',
    depth: 0,
    response: '',
    action: '',
    observation: `Goal: task ${task}`,
    reward: 0,
    done: false,
    terminal: false,
    visits: 1,
    value: reward,
    judgement: null,
    children: [],
  };
  let parent = root;
  steps.forEach((raw, i) => {
    const step = typeof raw === 'string' ? { action: raw } : raw;
    const last = i === steps.length - 1;
    const node: TreeNode = {
      id: String(i + 1),
      depth: i + 1,
      response: step.response ?? `Thought: next.\nAction: ${step.action}`,
      action: step.action,
      observation: step.observation ?? `ok ${i + 1}`,
      reward: last ? reward : 0,
      done: last && reward >= 1,
      terminal: last && !options.unfinished,
      visits: 1,
      value: reward,
      judgement: step.judgement ?? null,
      children: [],
    };
    if (last && options.errorAtEnd) (node as TreeNode & { error?: string }).error = options.errorAtEnd;
    parent.children.push(node);
    parent = node;
  });
  return { task, root };
}

export const treesOf = (...trees: TreeFile[]) => new Map(trees.map((t) => [t.task, t]));
