import {
  type SearchState,
  createSearch,
  type SearchMeta,
  type SearchNode,
  splitSearchState,
  takeDirtyNodeIds,
  type SearchConfigInput,
} from '../../../shared/mcts';
import { all, type MetaStore, one, upsertRows } from './sql';

/**
 * Persists a TaskTree's search state row-wise in the Durable Object's SQLite: one row per node
 * (only changed nodes are rewritten) and the small rest under one meta key. Env snapshots and
 * judge feedback sit beside the nodes, keyed by node id.
 */
export class SearchStore {
  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: MetaStore,
  ) {
    sql.exec('CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, data TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS snapshots (node_id INTEGER PRIMARY KEY, data TEXT NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS feedback (node_id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
    // Per-pair judging (judgeSampling "per-pair") keeps one text per (pair, node): its own table,
    // since a "pair:node" key does not fit the integer node id above.
    sql.exec(
      'CREATE TABLE IF NOT EXISTS pair_feedback (pair_key TEXT NOT NULL, node_id INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (pair_key, node_id))',
    );
  }

  /**
   * The search as this store wrote it. Rows are our own writes, committed with the meta in one
   * transaction, so they are not validated field by field on every wake (that cost grew with the
   * tree); only the id layout is checked, which a lost or extra row would break.
   */
  load(): SearchState | null {
    const meta = this.meta.get<SearchMeta>('search');
    if (!meta) return null;
    const nodes = all<{ data: string }>(this.sql, 'SELECT data FROM nodes ORDER BY id').map(
      (r) => JSON.parse(r.data) as SearchNode,
    );
    nodes.forEach((node, i) => {
      if (node.id !== String(i)) throw new Error(`search state: node at index ${i} has id ${node.id}`);
    });
    if (nodes.length === 0) throw new Error('search state: no root node');
    return { ...meta, nodes };
  }

  create(config: SearchConfigInput, firstObservation: string): SearchState {
    const state = createSearch(config, { observation: firstObservation });
    this.save(state);
    return state;
  }

  save(state: SearchState): void {
    const { meta, nodes } = splitSearchState(state);
    const rows = takeDirtyNodeIds(state).map((id) => [Number(id), JSON.stringify(nodes[Number(id)])]);
    // The changed nodes in one statement (a result changes a handful: children and ancestors).
    upsertRows(this.sql, 'nodes', ['id', 'data'], rows);
    this.meta.set('search', { ...meta, dirty: [] });
  }

  /** Env snapshots by node id, in one statement. */
  putSnapshots(snapshots: readonly { nodeId: string; snapshot: string }[]): void {
    const rows = snapshots.map(({ nodeId, snapshot }) => [Number(nodeId), snapshot]);
    upsertRows(this.sql, 'snapshots', ['node_id', 'data'], rows);
  }

  snapshot(nodeId: string): string | null {
    return (
      one<{ data: string }>(this.sql, 'SELECT data FROM snapshots WHERE node_id = ?', Number(nodeId))?.data ??
      null
    );
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
