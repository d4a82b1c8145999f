import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, Store, StoreKind } from '../store/index.js';

/**
 * Bulk writes and reads for the accrual run. Through Kysely: multi-row INSERTs with one precompiled SQL
 * string per (table, row count), because the query builder costs milliseconds to compile a 500-row
 * insert. On SQLite, when the store carries its better-sqlite3 handle (`store.sqlite`), statements are
 * prepared once and reused, and detection pages are read as arrays: preparing a large INSERT costs about
 * as much as running it. Both paths run inside the caller's transaction (same connection).
 */

export type RawSqlite = BetterSqlite3.Database;

/** The store's better-sqlite3 handle, when it exposes one. */
export function rawSqlite(store: Store): RawSqlite | null {
  const raw = (store as Store & { sqlite?: RawSqlite }).sqlite;
  return store.kind === 'sqlite' && raw ? raw : null;
}

const MAX_PARAMS = 30_000;
const MAX_ROWS = 500;
const RAW_ROWS = 64;
const sqlCache = new Map<string, string>();
const stmtCache = new WeakMap<RawSqlite, Map<string, BetterSqlite3.Statement>>();

function insertSql(kind: StoreKind, table: string, columns: readonly string[], rows: number): string {
  const key = `${kind}|${table}|${columns.join(',')}|${rows}`;
  let s = sqlCache.get(key);
  if (s) return s;
  const cols = columns.map((c) => `"${c}"`).join(', ');
  const tuples: string[] = [];
  let n = 1;
  for (let r = 0; r < rows; r++) {
    const ph = columns.map(() => (kind === 'sqlite' ? '?' : `$${n++}`));
    tuples.push(`(${ph.join(', ')})`);
  }
  s = `insert into "${table}" (${cols}) values ${tuples.join(', ')}`;
  sqlCache.set(key, s);
  return s;
}

export function prepared(raw: RawSqlite, sql: string): BetterSqlite3.Statement {
  let m = stmtCache.get(raw);
  if (!m) stmtCache.set(raw, (m = new Map()));
  let st = m.get(sql);
  if (!st) m.set(sql, (st = raw.prepare(sql)));
  return st;
}

export async function insertRows(
  db: Kysely<DB> | Transaction<DB>,
  kind: StoreKind,
  table: keyof DB & string,
  columns: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
  raw: RawSqlite | null = null,
): Promise<void> {
  if (raw) {
    const many = prepared(raw, insertSql('sqlite', table, columns, RAW_ROWS));
    const one = prepared(raw, insertSql('sqlite', table, columns, 1));
    let i = 0;
    const params: unknown[] = new Array(RAW_ROWS * columns.length);
    for (; i + RAW_ROWS <= rows.length; i += RAW_ROWS) {
      let k = 0;
      for (let r = i; r < i + RAW_ROWS; r++) for (const v of rows[r]) params[k++] = v;
      many.run(params);
    }
    for (; i < rows.length; i++) one.run(rows[i] as unknown[]);
    return;
  }
  const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const params: unknown[] = [];
    for (const r of chunk) for (const v of r) params.push(v);
    await db.executeQuery(CompiledQuery.raw(insertSql(kind, table, columns, chunk.length), params));
  }
}
