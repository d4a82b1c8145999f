import type { Kysely } from 'kysely';

/**
 * Catalogue: CMOs, rights holders, works, recordings, shares (versioned, never edited), share conflicts,
 * mandates; licensees, licences, tariffs with immutable versions; MCI values; declared revenue.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('cmos')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('bin', 'text')
    .addColumn('right_types_json', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('rights_holders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('iin', 'text', (c) => c.unique())
    .addColumn('bin', 'text', (c) => c.unique())
    .addColumn('ipi_name_number', 'text', (c) => c.unique())
    .addColumn('roles_json', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('works')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('iswc', 'text', (c) => c.unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('title_kk', 'text')
    .addColumn('title_ru', 'text')
    .addColumn('title_lat', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('work_creators')
    .addColumn('work_id', 'text', (c) => c.notNull())
    .addColumn('holder_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('work_creators_pk', ['work_id', 'holder_id', 'role'])
    .execute();
  await s
    .createTable('recordings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('isrc', 'text', (c) => c.unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'bigint')
    .addColumn('fingerprint_ref', 'text')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('recording_contributors')
    .addColumn('recording_id', 'text', (c) => c.notNull())
    .addColumn('holder_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('recording_contributors_pk', ['recording_id', 'holder_id', 'role'])
    .execute();
  await s
    .createTable('recording_works')
    .addColumn('recording_id', 'text', (c) => c.notNull())
    .addColumn('work_id', 'text', (c) => c.notNull())
    .addColumn('portion_bp', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('recording_works_pk', ['recording_id', 'work_id'])
    .execute();
  await s.createIndex('recording_works_work').on('recording_works').column('work_id').execute();
  await s
    .createTable('shares')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('right_type', 'text', (c) => c.notNull())
    .addColumn('holder_id', 'text', (c) => c.notNull())
    .addColumn('share_bp', 'integer', (c) => c.notNull())
    .addColumn('valid_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('valid_to_ms', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('supersedes_id', 'text')
    .addColumn('retired_at_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('shares_subject')
    .on('shares')
    .columns(['subject_kind', 'subject_id', 'right_type'])
    .execute();
  await s.createIndex('shares_holder').on('shares').column('holder_id').execute();
  await s
    .createTable('share_conflicts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('right_type', 'text', (c) => c.notNull())
    .addColumn('from_ms', 'bigint', (c) => c.notNull())
    .addColumn('to_ms', 'bigint')
    .addColumn('total_bp', 'integer', (c) => c.notNull())
    .addColumn('detected_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('resolved_at_ms', 'bigint')
    .execute();
  await s
    .createIndex('share_conflicts_subject')
    .on('share_conflicts')
    .columns(['subject_kind', 'subject_id', 'right_type'])
    .execute();
  await s
    .createTable('mandates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('holder_id', 'text', (c) => c.notNull())
    .addColumn('cmo_id', 'text', (c) => c.notNull())
    .addColumn('right_type', 'text', (c) => c.notNull())
    .addColumn('valid_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('valid_to_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('mandates_holder').on('mandates').columns(['holder_id', 'right_type']).execute();
  await s
    .createTable('licensees')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('bin', 'text')
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('platform_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('tariffs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('cmo_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('tariff_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tariff_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('valid_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('rules_json', 'text', (c) => c.notNull())
    .addColumn('rules_hash', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('tariff_versions_unique', ['tariff_id', 'version'])
    .execute();
  await s
    .createTable('licences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('licensee_id', 'text', (c) => c.notNull())
    .addColumn('cmo_id', 'text', (c) => c.notNull())
    .addColumn('tariff_id', 'text', (c) => c.notNull())
    .addColumn('valid_from_ms', 'bigint', (c) => c.notNull())
    .addColumn('valid_to_ms', 'bigint')
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('licences_licensee').on('licences').column('licensee_id').execute();
  await s
    .createTable('mci_values')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('value_tiyn', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('revenue_declarations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('licensee_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('revenue_tiyn', 'bigint', (c) => c.notNull())
    .addColumn('declared_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('revenue_declarations_licensee')
    .on('revenue_declarations')
    .columns(['licensee_id', 'period'])
    .execute();
  // MCI (МРП) per year from the republican budget laws: 3 692 KZT (2024), 3 932 (2025), 4 325 (2026).
  // Later years: `tyndau tariff mci --year YYYY --kzt N`.
  const mci = db as unknown as Kysely<{ mci_values: { year: number; value_tiyn: number } }>;
  await mci
    .insertInto('mci_values')
    .values([
      { year: 2024, value_tiyn: 369_200 },
      { year: 2025, value_tiyn: 393_200 },
      { year: 2026, value_tiyn: 432_500 },
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'revenue_declarations',
    'mci_values',
    'licences',
    'tariff_versions',
    'tariffs',
    'licensees',
    'mandates',
    'share_conflicts',
    'shares',
    'recording_works',
    'recording_contributors',
    'recordings',
    'work_creators',
    'works',
    'rights_holders',
    'cmos',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
