import type { Judgement } from '../../../shared/contracts/tree-file';
import type { SearchNode } from '../../../shared/mcts';
import { upsertRows } from './sql';

/** A node's numeric columns: what a wake reads of every node. */
export interface NodeRow extends Record<string, SqlStorageValue> {
  id: number;
  parent: number | null;
  depth: number;
  reward: number;
  /** DONE | FAILED. */
  flags: number;
  error: string | null;
  judgement: string | null;
}

/** A node's texts: read when first asked for. */
export interface NodeText {
  response: string;
  action: string;
  rawAction?: string;
  observation: string;
}

const DONE = 1;
const FAILED = 2;

/** The own data of a node that may change after it is stored (a failed expansion, a verdict). */
export function ownState(node: Pick<SearchNode, 'reward' | 'error' | 'judgement'>): string {
  return JSON.stringify([node.reward, node.error, node.judgement]);
}

/**
 * A node from its row whose texts are read through `text` when first asked for (own enumerable
 * getters, in the key order of a created node, so spreads see a plain node; `rawAction` reads
 * undefined when the node has none). The derived fields are placeholders until
 * deriveSearchFields sets them.
 */
export function lazyNode(row: NodeRow, text: () => NodeText): SearchNode {
  return {
    id: String(row.id),
    parentId: row.parent === null ? null : String(row.parent),
    depth: row.depth,
    get response() {
      return text().response;
    },
    get action() {
      return text().action;
    },
    get rawAction() {
      return text().rawAction;
    },
    get observation() {
      return text().observation;
    },
    reward: row.reward,
    done: (row.flags & DONE) !== 0,
    failed: (row.flags & FAILED) !== 0,
    terminal: false,
    visits: 0,
    value: 0,
    childIds: [],
    expanded: false,
    judgement: row.judgement as Judgement,
    error: row.error,
  };
}

/** A node's texts (the strings themselves, not copies). */
export function textOf(node: SearchNode): NodeText {
  return {
    response: node.response,
    action: node.action,
    ...(node.rawAction !== undefined ? { rawAction: node.rawAction } : {}),
    observation: node.observation,
  };
}

/** The row of a node created by this change (its snapshot, if any, in the same row). */
export function nodeRowOf(node: SearchNode, snapshot: string | null): SqlStorageValue[] {
  const text = textOf(node);
  const flags = (node.done ? DONE : 0) | (node.failed ? FAILED : 0);
  return [
    Number(node.id),
    node.parentId === null ? null : Number(node.parentId),
    node.depth,
    node.reward,
    flags,
    node.error,
    node.judgement,
    JSON.stringify(text),
    snapshot,
  ];
}

const NODE_COLUMNS = ['id', 'parent', 'depth', 'reward', 'flags', 'error', 'judgement', 'text', 'snapshot'];

/** New node rows (from `nodeRowOf`), in as few statements as the bound-parameter limit allows. */
export function insertNodeRows(sql: SqlStorage, rows: readonly SqlStorageValue[][]): void {
  upsertRows(sql, 'tree_nodes', NODE_COLUMNS, rows);
}
