import type { ExportedTreeNode, Judgement, TreeFile } from '../contracts/tree-file';
import { ROOT_ID, type SearchNode, type SearchState } from './state';
import { markDirty, getNode } from './tree-ops';

function exportNode(nodes: readonly SearchNode[], id: string): ExportedTreeNode {
  const n = nodes[Number(id)];
  if (!n || n.id !== id) throw new Error(`search: unknown node ${id}`);
  const out: ExportedTreeNode = {
    id: n.id,
    depth: n.depth,
    response: n.response,
    action: n.action,
    observation: n.observation,
    reward: n.reward,
    done: n.done,
    terminal: n.terminal,
    visits: n.visits,
    value: n.value,
    judgement: n.judgement,
    // Creation order (the order the policy's samples arrived, after de-duplication).
    children: n.childIds.map((c) => exportNode(nodes, c)),
  };
  if (n.failed) out.failed = true;
  if (n.rawAction !== undefined) out.rawAction = n.rawAction;
  if (n.error !== null) out.error = n.error;
  return out;
}

/** The tree in the Contract's `trees/<task>.json` shape (nested; recursion depth <= maxDepth + 2). */
export function toTreeFile(state: SearchState, task: number): TreeFile {
  return treeFileOfNodes(state.nodes, task);
}

/** The same from the flat nodes alone (`nodes[i].id === String(i)`), e.g. read back in pages. */
export function treeFileOfNodes(nodes: readonly SearchNode[], task: number): TreeFile {
  return { task, root: exportNode(nodes, ROOT_ID) };
}

/** Stores the critic's verdict on a node (marks it dirty). */
export function setJudgement(state: SearchState, nodeId: string, judgement: Judgement): void {
  const node = getNode(state, nodeId);
  if (node.judgement === judgement) return;
  node.judgement = judgement;
  markDirty(state, nodeId);
}
