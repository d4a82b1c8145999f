import type { Kysely } from 'kysely';

/**
 * Distributed mode (src/distributed): the centre's per-channel cursor (which batch comes next from
 * which capture-node spool, and the stitcher's checkpoint) and the batches it rejected.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dist_cursors')
    .addColumn('channel_id', 'text', (c) => c.primaryKey())
    .addColumn('spool_id', 'text', (c) => c.notNull())
    .addColumn('next_seq', 'bigint', (c) => c.notNull())
    .addColumn('session', 'text')
    .addColumn('node_id', 'text')
    .addColumn('position_ms', 'bigint')
    .addColumn('state_json', 'text', (c) => c.notNull())
    .addColumn('batches_applied', 'bigint', (c) => c.notNull())
    .addColumn('batches_lost', 'bigint', (c) => c.notNull())
    .addColumn('last_sealed_at_ms', 'bigint')
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('dist_rejections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text')
    .addColumn('node_id', 'text')
    .addColumn('seq', 'bigint')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dist_rejections_at').on('dist_rejections').column('at_ms').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('dist_rejections').execute();
  await db.schema.dropTable('dist_cursors').execute();
}
