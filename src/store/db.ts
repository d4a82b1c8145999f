import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DB } from './schema.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface StoreConfig {
  /** `sqlite:PATH` (default, embedded), `sqlite::memory:` or a `postgres://...` URL. */
  url: string;
}

export interface Store {
  db: Kysely<DB>;
  kind: StoreKind;
  /** The better-sqlite3 handle of an SQLite store, for the few bulk paths that use prepared statements directly. */
  sqlite?: Database.Database;
  close(): Promise<void>;
}

/** PostgreSQL returns int8 and numeric as strings; our bigints are epoch milliseconds and tiyn, well inside 2^53. */
let pgParsersSet = false;
function setPgParsers(): void {
  if (pgParsersSet) return;
  pg.types.setTypeParser(20, (v: string) => Number(v));
  pgParsersSet = true;
}

export function openStore(config: StoreConfig): Store {
  const { url } = config;
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    setPgParsers();
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, kind: 'postgres', close: () => db.destroy() };
  }
  if (!url.startsWith('sqlite:')) {
    throw new Error(`store URL must start with sqlite: or postgres://, got "${url}"`);
  }
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
