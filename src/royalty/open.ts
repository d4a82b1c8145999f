import { openStore, type Store } from '../store/index.js';
import type { RawSqlite } from './batch.js';

/** Opens the store for the accrual run: an SQLite store keeps its better-sqlite3 handle (see batch.ts). */
export function openAccrualStore(url: string): Store & { sqlite?: RawSqlite } {
  return openStore({ url });
}
