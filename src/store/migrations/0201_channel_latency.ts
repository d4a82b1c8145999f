import type { Kysely } from 'kysely';

/**
 * A channel's known delivery latency (ms): subtracted from the arrival-time anchor of sources whose
 * audio carries no time of its own (docs/monitoring.md, "Clock").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('channels')
    .addColumn('latency_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('channels').dropColumn('latency_ms').execute();
}
