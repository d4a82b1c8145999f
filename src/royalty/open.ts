import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openStore, type DB, type Store } from '../store/index.js';
import type { RawSqlite } from './batch.js';

/**
 * Opens the store like openStore, but for SQLite keeps the better-sqlite3 handle on the Store
 * (`store.sqlite`) so the accrual run can reuse prepared statements (see batch.ts). Same pragmas as
 * src/store/db.ts. Once Store exposes its handle itself, this becomes a plain openStore.
 */
export function openAccrualStore(url: string): Store & { sqlite?: RawSqlite } {
  if (!url.startsWith('sqlite:')) return openStore({ url });
  const path = url.slice('sqlite:'.length);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, kind: 'sqlite', sqlite, close: () => db.destroy() };
}
