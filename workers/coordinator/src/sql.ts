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
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, JSON.stringify(value));
  }
}
