export { openStore, type Store, type StoreConfig, type StoreKind } from './db.js';
export { migrateToLatest } from './migrate.js';
export type * from './schema.js';
