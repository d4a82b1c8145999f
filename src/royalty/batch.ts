import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB, StoreKind } from '../store/index.js';

/**
 * Multi-row INSERTs with a precompiled statement per (table, row count): Kysely's query builder costs a
 * few milliseconds to compile a 500-row insert, which dominates when writing millions of accrual lines.
 * Both dialects: `?` placeholders for SQLite, `$n` for PostgreSQL.
 */

const MAX_PARAMS = 30_000;
const MAX_ROWS = 500;
const sqlCache = new Map<string, string>();

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

export async function insertRows(
  db: Kysely<DB> | Transaction<DB>,
  kind: StoreKind,
  table: keyof DB & string,
  columns: readonly string[],
  rows: ReadonlyArray<readonly unknown[]>,
): Promise<void> {
  const per = Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const params: unknown[] = [];
    for (const r of chunk) for (const v of r) params.push(v);
    await db.executeQuery(CompiledQuery.raw(insertSql(kind, table, columns, chunk.length), params));
  }
}
