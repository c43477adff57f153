import {
  type SearchState,
  createSearch,
  deriveSearchFields,
  type SearchMeta,
  type SearchNode,
  splitSearchState,
  takeDirtyNodeIds,
  type SearchConfigInput,
} from '../../../shared/mcts';
import { all, type MetaStore, one } from './sql';
import { migrateLegacyNodes } from './search-legacy';
import {
  insertNodeRows,
  lazyNode,
  type NodeRow,
  type NodeText,
  nodeRowOf,
  ownState,
  textOf,
} from './search-rows';

/**
 * Persists a TaskTree's search state in the Durable Object's SQLite, incrementally:
 * - a node is one row, written once when it is created (its texts, its env snapshot and its own
 *   numbers), and updated only if its own data changes (a failed expansion, a verdict). What a
 *   node derives from the others (children, visits, value, terminal) is never stored, so a result
 *   that backs up a reward along a path of 20 rewrites none of those 20 rows
 *   (shared/mcts/derive.ts rebuilds them, bit for bit, on a wake);
 * - a wake reads the numeric columns of every node (the skeleton the selection walks), never the
 *   texts: a node's response, action and observation are read when first asked for (a job's path,
 *   the tree file, a splice page, a live update) and kept;
 * - the small rest of the search (descents, jobs, counters, generator) is one meta value, written
 *   by the caller together with the tree's status row (one statement per result).
 * Env snapshots and judge feedback are keyed by node id.
 */
export class SearchStore {
  /** Texts read so far, by node id (lazy nodes read through this). */
  private texts: (NodeText | undefined)[] = [];
  /** Rows in storage (node ids below this are stored). */
  private stored = 0;
  /** Each stored node's own mutable data as stored (reward, error, judgement). */
  private saved: string[] = [];
  /** Env snapshots of nodes not yet stored, written with their rows. */
  private staged = new Map<number, string>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: MetaStore,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS tree_nodes (
      id INTEGER PRIMARY KEY, parent INTEGER, depth INTEGER NOT NULL, reward REAL NOT NULL,
      flags INTEGER NOT NULL, error TEXT, judgement TEXT, text TEXT NOT NULL, snapshot TEXT)`);
    sql.exec('CREATE TABLE IF NOT EXISTS feedback (node_id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    // Per-pair judging (judgeSampling "per-pair") keeps one text per (pair, node): its own table,
    // since a "pair:node" key does not fit the integer node id above.
    sql.exec(
      'CREATE TABLE IF NOT EXISTS pair_feedback (pair_key TEXT NOT NULL, node_id INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (pair_key, node_id))',
    );
  }

  /**
   * The search as this store wrote it: the meta and every node's numbers, texts left to be read
   * when asked for. Rows are our own writes, committed with the meta in one transaction, so they
   * are not validated field by field; the id layout is checked, which a lost or extra row breaks.
   */
  load(): SearchState | null {
    this.texts = [];
    this.staged.clear();
    const meta = this.meta.get<SearchMeta>('search');
    if (!meta) {
      this.stored = 0;
      this.saved = [];
      return null;
    }
    const skeleton = (): NodeRow[] =>
      all<NodeRow>(
        this.sql,
        'SELECT id, parent, depth, reward, flags, error, judgement FROM tree_nodes ORDER BY id',
      );
    let rows = skeleton();
    // A tree stored before nodes had their own columns: moved over once.
    if (rows.length === 0 && migrateLegacyNodes(this.sql)) rows = skeleton();
    const nodes = rows.map((row, i) => {
      if (row.id !== i) throw new Error(`search state: node at index ${i} has id ${row.id}`);
      return lazyNode(row, () => this.textOf(i));
    });
    if (nodes.length === 0) throw new Error('search state: no root node');
    deriveSearchFields(nodes, meta.config.maxDepth);
    this.stored = nodes.length;
    this.saved = nodes.map(ownState);
    return { ...meta, nodes };
  }

  /** A new search; its root row is written by the next `save` (with `snapshot`, if any). */
  create(config: SearchConfigInput, firstObservation: string, snapshot: string | null): SearchState {
    this.texts = [];
    this.stored = 0;
    this.saved = [];
    this.staged.clear();
    if (snapshot !== null) this.staged.set(0, snapshot);
    return createSearch(config, { observation: firstObservation });
  }

  /**
   * Writes the nodes created since the last save (one statement for a result's children) and the
   * own data of changed ones; returns the meta value the caller stores with the status row.
   */
  save(state: SearchState): { key: string; value: SearchMeta } {
    const { meta, nodes } = splitSearchState(state);
    const fresh: SearchNode[] = [];
    for (const id of takeDirtyNodeIds(state)) {
      const i = Number(id);
      const node = nodes[i]!;
      if (i >= this.stored) {
        fresh.push(node);
        continue;
      }
      const own = ownState(node);
      if (own === this.saved[i]) continue;
      this.sql.exec(
        'UPDATE tree_nodes SET reward = ?, error = ?, judgement = ? WHERE id = ?',
        node.reward,
        node.error,
        node.judgement,
        i,
      );
      this.saved[i] = own;
    }
    fresh.sort((a, b) => Number(a.id) - Number(b.id));
    insertNodeRows(
      this.sql,
      fresh.map((node) => nodeRowOf(node, this.staged.get(Number(node.id)) ?? null)),
    );
    for (const node of fresh) {
      const i = Number(node.id);
      this.texts[i] = textOf(node);
      this.saved[i] = ownState(node);
      this.staged.delete(i);
      this.stored = Math.max(this.stored, i + 1);
    }
    return { key: 'search', value: { ...meta, dirty: [] } };
  }

  /** Env snapshots of nodes created by this change (written with their rows by `save`). */
  putSnapshots(snapshots: readonly { nodeId: string; snapshot: string }[]): void {
    for (const { nodeId, snapshot } of snapshots) {
      const i = Number(nodeId);
      if (i < this.stored) this.sql.exec('UPDATE tree_nodes SET snapshot = ? WHERE id = ?', snapshot, i);
      else this.staged.set(i, snapshot);
    }
  }

  snapshot(nodeId: string): string | null {
    const i = Number(nodeId);
    if (this.staged.has(i)) return this.staged.get(i)!;
    return (
      one<{ snapshot: string | null }>(this.sql, 'SELECT snapshot FROM tree_nodes WHERE id = ?', i)
        ?.snapshot ?? null
    );
  }

  /** Reads the texts of stored nodes `from`.. not read yet (one statement; before a whole-tree walk). */
  loadTexts(from = 0): void {
    let first = Math.max(0, from);
    while (first < this.stored && this.texts[first] !== undefined) first++;
    if (first >= this.stored) return;
    for (const row of all<{ id: number; text: string }>(
      this.sql,
      'SELECT id, text FROM tree_nodes WHERE id >= ?',
      first,
    )) {
      this.texts[row.id] ??= JSON.parse(row.text) as NodeText;
    }
  }

  private textOf(i: number): NodeText {
    let text = this.texts[i];
    if (text === undefined) {
      const row = one<{ text: string }>(this.sql, 'SELECT text FROM tree_nodes WHERE id = ?', i);
      if (!row) throw new Error(`search state: node ${i} has no row`);
      text = JSON.parse(row.text) as NodeText;
      this.texts[i] = text;
    }
    return text;
  }

  putFeedback(nodeId: string, text: string): void {
    this.sql.exec('INSERT OR REPLACE INTO feedback (node_id, text) VALUES (?, ?)', Number(nodeId), text);
  }

  putPairFeedback(pairKey: string, nodeId: string, text: string): void {
    this.sql.exec(
      'INSERT OR REPLACE INTO pair_feedback (pair_key, node_id, text) VALUES (?, ?, ?)',
      pairKey,
      Number(nodeId),
      text,
    );
  }

  /**
   * The feedback kept for nodes `from`..`to` (inclusive): per-node texts keyed by node id, per-pair
   * texts keyed "pair:node" (the key the splice looks them up by).
   */
  feedbackBetween(from: number, to: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const row of all<{ node_id: number; text: string }>(
      this.sql,
      'SELECT node_id, text FROM feedback WHERE node_id BETWEEN ? AND ?',
      from,
      to,
    )) {
      out[String(row.node_id)] = row.text;
    }
    for (const row of all<{ pair_key: string; node_id: number; text: string }>(
      this.sql,
      'SELECT pair_key, node_id, text FROM pair_feedback WHERE node_id BETWEEN ? AND ?',
      from,
      to,
    )) {
      out[`${row.pair_key}:${row.node_id}`] = row.text;
    }
    return out;
  }
}
