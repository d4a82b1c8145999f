import type { Kysely } from 'kysely';

/** Live monitoring: gaps, detections not final yet, each channel's runner state; evidence clip start. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('monitoring_gaps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_ms', 'bigint')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('monitoring_gaps_channel_start')
    .on('monitoring_gaps')
    .columns(['channel_id', 'start_ms'])
    .execute();
  await db.schema
    .createTable('open_detections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('recording_id', 'text', (c) => c.notNull())
    .addColumn('start_ms', 'bigint', (c) => c.notNull())
    .addColumn('end_ms', 'bigint', (c) => c.notNull())
    .addColumn('ref_start_sec', 'double precision', (c) => c.notNull())
    .addColumn('ref_end_sec', 'double precision', (c) => c.notNull())
    .addColumn('speed', 'double precision', (c) => c.notNull())
    .addColumn('confidence', 'double precision', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('open_detections_channel').on('open_detections').column('channel_id').execute();
  await db.schema
    .createTable('channel_state')
    .addColumn('channel_id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_since_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_audio_ms', 'bigint')
    .addColumn('heartbeat_ms', 'bigint', (c) => c.notNull())
    .addColumn('first_started_ms', 'bigint', (c) => c.notNull())
    .addColumn('source_index', 'integer')
    .addColumn('source_url', 'text')
    .addColumn('detail', 'text')
    .addColumn('cursor', 'text')
    .execute();
  await db.schema.alterTable('detections').addColumn('evidence_start_ms', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('detections').dropColumn('evidence_start_ms').execute();
  await db.schema.dropTable('channel_state').execute();
  await db.schema.dropTable('open_detections').execute();
  await db.schema.dropTable('monitoring_gaps').execute();
}
