import { SqliteAdapter, sql, type Kysely } from 'kysely';

/**
 * Royalty: the hash-chained ledger (entries, their accrual lines, the head), the per-holder line index,
 * the accrual lock, and the broadcaster's confirmation of usage (reports, confirmations, disputes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  // On SQLite an INTEGER PRIMARY KEY is the rowid (appends stay cheap); PostgreSQL needs 64 bits.
  const seqType = sqlite ? 'integer' : 'bigint';
  await s
    .createTable('ledger_entries')
    .addColumn('seq', seqType, (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('period', 'text')
    .addColumn('licence_id', 'text')
    .addColumn('channel_id', 'text')
    .addColumn('day', 'text')
    .addColumn('revision', 'integer')
    .addColumn('first_line_seq', 'bigint')
    .addColumn('lines_count', 'integer', (c) => c.notNull())
    .addColumn('lines_digest', 'text')
    .addColumn('payload_json', 'text', (c) => c.notNull())
    .addColumn('created_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await s
    .createIndex('ledger_entries_bucket')
    .on('ledger_entries')
    .columns(['period', 'licence_id', 'channel_id', 'day'])
    .execute();
  await s
    .createTable('ledger_head')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('line_seq', 'bigint', (c) => c.notNull())
    .addColumn('holder_index_seq', 'bigint', (c) => c.notNull())
    .execute();
  // The head exists from the start, so the first appenders on PostgreSQL lock a row rather than race to insert it.
  await (
    db as unknown as Kysely<{
      ledger_head: { id: number; seq: number; hash: string; line_seq: number; holder_index_seq: number };
    }>
  )
    .insertInto('ledger_head')
    .values({ id: 1, seq: 0, hash: '0'.repeat(64), line_seq: 0, holder_index_seq: 0 })
    .execute();
  await s
    .createTable('accrual_lines')
    .addColumn('seq', seqType, (c) => c.primaryKey())
    .addColumn('entry_seq', 'bigint', (c) => c.notNull())
    .addColumn('reverses_seq', 'bigint')
    .addColumn('detection_id', 'text')
    .addColumn('right_type', 'text', (c) => c.notNull())
    .addColumn('holder_id', 'text')
    .addColumn('reserve_reason', 'text')
    .addColumn('share_id', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('airtime_ms', 'bigint', (c) => c.notNull())
    .addColumn('weighted_us', 'bigint', (c) => c.notNull())
    .addColumn('gross_tiyn', 'bigint', (c) => c.notNull())
    .addColumn('deduction_tiyn', 'bigint', (c) => c.notNull())
    .addColumn('net_tiyn', 'bigint', (c) => c.notNull())
    .execute();
  // No index on entry_seq: an entry knows its first line and count, so its lines are a seq range.
  // Only reversal lines carry reverses_seq: a small partial index answers "is this line reversed?".
  await s
    .createIndex('accrual_lines_reverses')
    .on('accrual_lines')
    .column('reverses_seq')
    .where(sql.ref('reverses_seq'), 'is not', null)
    .execute();
  // Filled in sorted batches after each run (cheaper than a per-row index over millions of lines).
  let holderLines = s
    .createTable('holder_lines')
    .addColumn('holder_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('holder_lines_pk', ['holder_id', 'period', 'seq']);
  if (sqlite) holderLines = holderLines.modifyEnd(sql`without rowid`);
  await holderLines.execute();
  await s
    .createTable('accrual_locks')
    .addColumn('period', 'text', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('started_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('usage_reports')
    .addColumn('licensee_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('issued_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('deadline_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_reports_pk', ['licensee_id', 'period'])
    .execute();
  await s
    .createTable('usage_confirmations')
    .addColumn('licensee_id', 'text', (c) => c.notNull())
    .addColumn('detection_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('confirmed_at_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_confirmations_pk', ['licensee_id', 'detection_id'])
    .execute();
  await s
    .createTable('usage_disputes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('licensee_id', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('detection_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('opened_at_ms', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resolved_at_ms', 'bigint')
    .addColumn('resolution', 'text')
    .execute();
  await s
    .createIndex('usage_disputes_period')
    .on('usage_disputes')
    .columns(['period', 'licensee_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'usage_disputes',
    'usage_confirmations',
    'usage_reports',
    'accrual_locks',
    'holder_lines',
    'accrual_lines',
    'ledger_head',
    'ledger_entries',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
