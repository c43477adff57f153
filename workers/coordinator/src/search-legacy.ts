import type { SearchNode } from '../../../shared/mcts';
import { insertNodeRows, nodeRowOf } from './search-rows';
import { all } from './sql';

/**
 * Trees stored before nodes had their own columns kept each node as one JSON row (`nodes`, every
 * ancestor rewritten on a backup) and the env snapshots in `snapshots`. Their rows move to
 * `tree_nodes` once, on the first wake after the update (inside that wake's implicit
 * transaction: all or nothing), and the old tables go. Returns whether there was anything to move.
 */
export function migrateLegacyNodes(sql: SqlStorage): boolean {
  const tables = new Set(
    all<{ name: string }>(
      sql,
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('nodes', 'snapshots')",
    ).map((t) => t.name),
  );
  if (!tables.has('nodes')) return false;
  const snapshots = new Map<number, string>();
  if (tables.has('snapshots'))
    for (const row of all<{ node_id: number; data: string }>(sql, 'SELECT node_id, data FROM snapshots'))
      snapshots.set(row.node_id, row.data);
  const nodes = all<{ data: string }>(sql, 'SELECT data FROM nodes ORDER BY id').map(
    (r) => JSON.parse(r.data) as SearchNode,
  );
  insertNodeRows(
    sql,
    nodes.map((node) => nodeRowOf(node, snapshots.get(Number(node.id)) ?? null)),
  );
  sql.exec('DROP TABLE nodes');
  if (tables.has('snapshots')) sql.exec('DROP TABLE snapshots');
  return nodes.length > 0;
}
