import type { Judgement } from '../../../shared/contracts/tree-file';
import type { SearchNode } from '../../../shared/mcts';
import { upsertRows } from './sql';

/**
 * A node's own columns but its texts and snapshot, as `SKELETON_SQL` reads them (arrays: reading
 * 2,000 rows as objects took 4.7 ms in workerd, as arrays 1.9 ms): what a wake reads of every node.
 */
export type NodeRow = [
  id: number,
  parent: number | null,
  depth: number,
  reward: number,
  flags: number,
  error: string | null,
  judgement: string | null,
];

export const SKELETON_SQL =
  'SELECT id, parent, depth, reward, flags, error, judgement FROM tree_nodes ORDER BY id';

/** A node's texts: read when first asked for. */
export interface NodeText {
  response: string;
  action: string;
  rawAction?: string;
  observation: string;
}

const DONE = 1;
const FAILED = 2;

/** Whether a stored node's own mutable data (reward, error, judgement) differs from its row. */
export function ownChanged(row: NodeRow, node: Pick<SearchNode, 'reward' | 'error' | 'judgement'>): boolean {
  return row[3] !== node.reward || row[5] !== node.error || row[6] !== node.judgement;
}

/** Reads a stored node's texts (the store caches them). */
export type TextSource = (id: number) => NodeText;

/**
 * A node woken from its row: its own fields are data, its texts are getters on the prototype that
 * read them when first asked for (a class: building 2,000 nodes as object literals with getters
 * took 5.3 ms in workerd). A spread or JSON of it has no texts: use `plainNode` for a copy. The
 * derived fields are placeholders until deriveSearchFields sets them.
 */
class StoredNode {
  id: string;
  parentId: string | null;
  depth: number;
  reward: number;
  done: boolean;
  failed: boolean;
  terminal = false;
  visits = 0;
  value = 0;
  childIds: string[] = [];
  expanded = false;
  judgement: Judgement;
  error: string | null;

  /** Not an own enumerable field: a spread copies data only. */
  readonly #source: TextSource;

  constructor(row: NodeRow, source: TextSource) {
    this.#source = source;
    const [id, parent, depth, reward, flags, error, judgement] = row;
    this.id = String(id);
    this.parentId = parent === null ? null : String(parent);
    this.depth = depth;
    this.reward = reward;
    this.done = (flags & DONE) !== 0;
    this.failed = (flags & FAILED) !== 0;
    this.judgement = judgement as Judgement;
    this.error = error;
  }

  get response(): string {
    return this.#source(Number(this.id)).response;
  }
  get action(): string {
    return this.#source(Number(this.id)).action;
  }
  get rawAction(): string | undefined {
    return this.#source(Number(this.id)).rawAction;
  }
  get observation(): string {
    return this.#source(Number(this.id)).observation;
  }
}

export function lazyNode(row: NodeRow, source: TextSource): SearchNode {
  return new StoredNode(row, source);
}

/** A plain copy of a node (stored or created), in the key order of a created node. */
export function plainNode(node: SearchNode): SearchNode {
  return {
    id: node.id,
    parentId: node.parentId,
    depth: node.depth,
    response: node.response,
    action: node.action,
    ...(node.rawAction !== undefined ? { rawAction: node.rawAction } : {}),
    observation: node.observation,
    reward: node.reward,
    done: node.done,
    failed: node.failed,
    terminal: node.terminal,
    visits: node.visits,
    value: node.value,
    childIds: [...node.childIds],
    expanded: node.expanded,
    judgement: node.judgement,
    error: node.error,
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

/** A node's own columns (`NodeRow`). */
export function rowOf(node: SearchNode): NodeRow {
  return [
    Number(node.id),
    node.parentId === null ? null : Number(node.parentId),
    node.depth,
    node.reward,
    (node.done ? DONE : 0) | (node.failed ? FAILED : 0),
    node.error,
    node.judgement,
  ];
}

/** The row of a node created by this change (its snapshot, if any, in the same row). */
export function nodeRowOf(node: SearchNode, snapshot: string | null): SqlStorageValue[] {
  return [...rowOf(node), JSON.stringify(textOf(node)), snapshot];
}

const NODE_COLUMNS = ['id', 'parent', 'depth', 'reward', 'flags', 'error', 'judgement', 'text', 'snapshot'];

/** New node rows (from `nodeRowOf`), in as few statements as the bound-parameter limit allows. */
export function insertNodeRows(sql: SqlStorage, rows: readonly SqlStorageValue[][]): void {
  upsertRows(sql, 'tree_nodes', NODE_COLUMNS, rows);
}
