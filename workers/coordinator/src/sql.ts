/** Small helpers over a Durable Object's SQLite storage. */
export function one<T extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  query: string,
  ...args: SqlStorageValue[]
): T | null {
  const rows = sql.exec<T>(query, ...args).toArray();
  return rows[0] ?? null;
}

export function all<T extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  query: string,
  ...args: SqlStorageValue[]
): T[] {
  return sql.exec<T>(query, ...args).toArray();
}

/** Bound parameters one Durable Object query takes at most (developers.cloudflare.com/durable-objects/platform/limits/). */
export const MAX_BOUND_PARAMS = 100;

/** `INSERT OR REPLACE` of many rows in as few statements as the bound-parameter limit allows. */
export function upsertRows(
  sql: SqlStorage,
  table: string,
  columns: readonly string[],
  rows: readonly SqlStorageValue[][],
): void {
  const perStatement = Math.floor(MAX_BOUND_PARAMS / columns.length);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  for (let at = 0; at < rows.length; at += perStatement) {
    const chunk = rows.slice(at, at + perStatement);
    sql.exec(
      `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      ...chunk.flat(),
    );
  }
}

/** A JSON value kept under a key in a `meta` table. */
export class MetaStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
  }
  get<T>(key: string): T | null {
    const row = one<{ value: string }>(this.sql, 'SELECT value FROM meta WHERE key = ?', key);
    return row ? (JSON.parse(row.value) as T) : null;
  }
  set(key: string, value: unknown): void {
    this.setMany([[key, value]]);
  }
  /**
   * Several keys in one statement. An upsert, not INSERT OR REPLACE: replacing a row of a table
   * keyed by text deletes and re-inserts it (2 rows written, measured in workerd), an update is 1.
   */
  setMany(entries: readonly (readonly [string, unknown])[]): void {
    if (entries.length === 0) return;
    this.sql.exec(
      `INSERT INTO meta (key, value) VALUES ${entries.map(() => '(?, ?)').join(', ')} ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ...entries.flatMap(([key, value]) => [key, JSON.stringify(value)]),
    );
  }
}
