import { Migrator, type MigrationProvider } from 'kysely';
import type { Store } from './db.js';
import { migrations } from './migrations/index.js';

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; throws with the failing migration's name. */
export async function migrateToLatest(store: Store): Promise<void> {
  // stages number their migrations in their own ranges and land in any order: a database migrated
  // before a lower-numbered migration arrived must still take it
  const migrator = new Migrator({ db: store.db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const name = failed?.migrationName ?? 'unknown';
    throw new Error(
      `database migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
