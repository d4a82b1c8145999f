import type { Kysely } from 'kysely';

/**
 * People and machines of the API and web app: user accounts (role and the CMO, licensee or rights
 * holder they act for), login sessions, API tokens for capture nodes and integrations, and the audit
 * log of every action (who, when, what). Secrets are stored only as hashes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('cmo_id', 'text')
    .addColumn('licensee_id', 'text')
    .addColumn('holder_id', 'text')
    .addColumn('iin', 'text', (c) => c.unique())
    .addColumn('password_hash', 'text')
    .addColumn('locale', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await s.createIndex('sessions_user').on('sessions').column('user_id').execute();
  await s
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('last_used_ms', 'bigint')
    .addColumn('expires_at_ms', 'bigint')
    .addColumn('revoked_at_ms', 'bigint')
    .execute();
  await s.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();
  await s
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at_ms', 'bigint', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('via', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('detail_json', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .execute();
  await s.createIndex('audit_log_subject').on('audit_log').columns(['subject_kind', 'subject_id']).execute();
  await s.createIndex('audit_log_at').on('audit_log').column('at_ms').execute();
  await s.createIndex('audit_log_actor').on('audit_log').columns(['actor_user_id', 'at_ms']).execute();
  // The reviewer's queue filters by status and orders by money at stake (lines per detection).
  await s
    .createIndex('api_detections_status_start')
    .on('detections')
    .columns(['status', 'start_ms'])
    .execute();
  await s.createIndex('api_accrual_lines_detection').on('accrual_lines').column('detection_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('api_accrual_lines_detection').execute();
  await db.schema.dropIndex('api_detections_status_start').execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.dropTable('api_tokens').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
