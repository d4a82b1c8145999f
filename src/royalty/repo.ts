import { sql, type Kysely, type Transaction } from 'kysely';
import {
  CatalogError,
  CatalogRepository,
  formatDateMs,
  formatLocal,
  localDate,
  parsePeriod,
  toTariffVersion,
  toShare,
  type Mandate,
  type Period,
  type RightType,
  type Share,
} from '../catalog/index.js';
import type { DB, Store, StoreKind } from '../store/index.js';
import { insertRows, prepared, rawSqlite, type RawSqlite } from './batch.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { AccrualLicence, AccrualLine } from './engine.js';
import { effectiveLines } from './engine.js';
import type { LineTrace } from './explain.js';
import {
  GENESIS_HASH,
  LinesDigest,
  entryHash,
  lineTuple,
  type LineTuple,
  verifyLedger,
  type EntryKind,
  type LedgerEntry,
  type LedgerHead,
  type VerifyResult,
} from './ledger.js';
import { compileRules, canonicalRules } from './rules.js';
import {
  runAccrual,
  type AccrualSink,
  type AccrualSource,
  type BucketChange,
  type DetectionRow,
  type RunSummary,
} from './run.js';
import type { RecordingRights, ReserveReason } from './slots.js';
import {
  ageBucket,
  statementTotals,
  usageStatus,
  type CmoSummary,
  type HolderStatement,
  type StatementLine,
  type UsageRow,
} from './statements.js';
import { formatWeightedUs, weighDetection } from './weigh.js';

/** The royalty stage's adapter: accrual runs, the ledger, tariffs, usage confirmation, reports. */

type Db = Kysely<DB> | Transaction<DB>;

const DAY_MS = 86_400_000;
const LINE_COLUMNS = [
  'seq',
  'entry_seq',
  'reverses_seq',
  'detection_id',
  'right_type',
  'holder_id',
  'reserve_reason',
  'share_id',
  'subject_id',
  'airtime_ms',
  'weighted_us',
  'gross_tiyn',
  'deduction_tiyn',
  'net_tiyn',
] as const;
const ENTRY_COLUMNS = [
  'seq',
  'kind',
  'period',
  'licence_id',
  'channel_id',
  'day',
  'revision',
  'first_line_seq',
  'lines_count',
  'lines_digest',
  'payload_json',
  'created_at_ms',
  'prev_hash',
  'hash',
] as const;

export class RoyaltyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoyaltyError';
  }
}

/** A line read as a tuple (columns in LINE_COLUMNS order). */
function tupleLine(r: LineTuple, tariffVersionId = ''): AccrualLine {
  return {
    seq: r[0],
    entrySeq: r[1],
    kind: r[2] === null ? 'accrual' : 'reversal',
    reversesSeq: r[2],
    detectionId: r[3],
    rightType: r[4] as RightType,
    holderId: r[5],
    reserveReason: r[6] as ReserveReason | null,
    shareId: r[7],
    subjectId: r[8],
    airtimeMs: r[9],
    weightedUs: r[10],
    grossTiyn: r[11],
    deductionTiyn: r[12],
    netTiyn: r[13],
    tariffVersionId,
  };
}

/** A stored line; its tariff version is its entry's (pass it when the caller knows it). */
function toLine(r: DB['accrual_lines'], tariffVersionId = ''): AccrualLine {
  return {
    seq: Number(r.seq),
    entrySeq: Number(r.entry_seq),
    kind: r.reverses_seq === null ? 'accrual' : 'reversal',
    reversesSeq: r.reverses_seq === null ? null : Number(r.reverses_seq),
    detectionId: r.detection_id,
    rightType: r.right_type as RightType,
    holderId: r.holder_id,
    reserveReason: r.reserve_reason as ReserveReason | null,
    shareId: r.share_id,
    subjectId: r.subject_id,
    airtimeMs: Number(r.airtime_ms),
    weightedUs: Number(r.weighted_us),
    grossTiyn: Number(r.gross_tiyn),
    deductionTiyn: Number(r.deduction_tiyn),
    netTiyn: Number(r.net_tiyn),
    tariffVersionId,
  };
}

function toEntry(r: DB['ledger_entries']): LedgerEntry {
  return {
    seq: Number(r.seq),
    kind: r.kind as EntryKind,
    period: r.period,
    licenceId: r.licence_id,
    channelId: r.channel_id,
    day: r.day,
    revision: r.revision === null ? null : Number(r.revision),
    firstLineSeq: r.first_line_seq === null ? null : Number(r.first_line_seq),
    linesCount: Number(r.lines_count),
    linesDigest: r.lines_digest,
    payloadJson: r.payload_json,
    createdAtMs: Number(r.created_at_ms),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface EntrySpec {
  kind: EntryKind;
  period?: string | null;
  licenceId?: string | null;
  channelId?: string | null;
  day?: string | null;
  revision?: number | null;
  payload: unknown;
  createdAtMs: number;
}

/** Appends entries (and their lines) to the chain inside one transaction; the head is locked on PostgreSQL. */
export class LedgerAppender {
  private head: LedgerHead & { holderIndexSeq: number } = {
    seq: 0,
    hash: GENESIS_HASH,
    lineSeq: 0,
    holderIndexSeq: 0,
  };
  private headExists = false;
  private lineRows: unknown[][] = [];
  private entryRows: unknown[][] = [];
  constructor(
    private trx: Transaction<DB>,
    private kind: StoreKind,
    private raw: RawSqlite | null = null,
  ) {}

  async open(): Promise<void> {
    let q = this.trx.selectFrom('ledger_head').selectAll().where('id', '=', 1);
    if (this.kind === 'postgres') q = q.forUpdate();
    const r = await q.executeTakeFirst();
    if (r) {
      this.headExists = true;
      this.head = {
        seq: Number(r.seq),
        hash: r.hash,
        lineSeq: Number(r.line_seq),
        holderIndexSeq: Number(r.holder_index_seq),
      };
    }
  }

  append(spec: EntrySpec, lines: ReadonlyArray<Omit<AccrualLine, 'seq' | 'entrySeq'>> = []): LedgerEntry {
    return this.appendTuples(
      spec,
      lines.map((l) => lineTuple(l, 0, 0)),
    );
  }

  /** Appends an entry whose lines come as tuples; their seq and entry seq (slots 0 and 1) are set here. */
  appendTuples(spec: EntrySpec, lines: LineTuple[]): LedgerEntry {
    const seq = this.head.seq + 1;
    const first = lines.length ? this.head.lineSeq + 1 : null;
    const digest = new LinesDigest();
    for (let i = 0; i < lines.length; i++) {
      const tuple = lines[i];
      tuple[0] = first! + i;
      tuple[1] = seq;
      digest.addTuple(tuple);
      this.lineRows.push(tuple);
    }
    const content: Omit<LedgerEntry, 'hash'> = {
      seq,
      kind: spec.kind,
      period: spec.period ?? null,
      licenceId: spec.licenceId ?? null,
      channelId: spec.channelId ?? null,
      day: spec.day ?? null,
      revision: spec.revision ?? null,
      firstLineSeq: first,
      linesCount: lines.length,
      linesDigest: lines.length ? digest.digest() : null,
      payloadJson: canonicalJson(spec.payload),
      createdAtMs: spec.createdAtMs,
      prevHash: this.head.hash,
    };
    const entry: LedgerEntry = { ...content, hash: entryHash(content) };
    this.entryRows.push(ENTRY_COLUMNS.map((c) => entryField(entry, c)));
    this.head = { ...this.head, seq, hash: entry.hash, lineSeq: this.head.lineSeq + lines.length };
    return entry;
  }

  get pendingLines(): number {
    return this.lineRows.length;
  }

  async writePending(): Promise<void> {
    if (this.lineRows.length)
      await insertRows(this.trx, this.kind, 'accrual_lines', LINE_COLUMNS, this.lineRows, this.raw);
    if (this.entryRows.length)
      await insertRows(this.trx, this.kind, 'ledger_entries', ENTRY_COLUMNS, this.entryRows, this.raw);
    this.lineRows = [];
    this.entryRows = [];
  }

  async close(): Promise<LedgerHead> {
    await this.writePending();
    const row = { seq: this.head.seq, hash: this.head.hash, line_seq: this.head.lineSeq };
    if (this.headExists) await this.trx.updateTable('ledger_head').set(row).where('id', '=', 1).execute();
    else
      await this.trx
        .insertInto('ledger_head')
        .values({ id: 1, ...row, holder_index_seq: 0 })
        .execute();
    this.headExists = true;
    return { seq: this.head.seq, hash: this.head.hash, lineSeq: this.head.lineSeq };
  }
}

function entryField(e: LedgerEntry, c: (typeof ENTRY_COLUMNS)[number]): unknown {
  switch (c) {
    case 'seq':
      return e.seq;
    case 'kind':
      return e.kind;
    case 'period':
      return e.period;
    case 'licence_id':
      return e.licenceId;
    case 'channel_id':
      return e.channelId;
    case 'day':
      return e.day;
    case 'revision':
      return e.revision;
    case 'first_line_seq':
      return e.firstLineSeq;
    case 'lines_count':
      return e.linesCount;
    case 'lines_digest':
      return e.linesDigest;
    case 'payload_json':
      return e.payloadJson;
    case 'created_at_ms':
      return e.createdAtMs;
    case 'prev_hash':
      return e.prevHash;
    case 'hash':
      return e.hash;
  }
}

export interface AccrueOptions {
  asOfMs?: number;
  /** Pending detections count once they are this old (nobody reviewed them in time). Default 7 days. */
  reviewWindowDays?: number;
  /** How long a broadcaster has to dispute the usage lines of a period after the first accrual. Default 14 days. */
  disputeWindowDays?: number;
  /** Run even if a lock from a crashed run remains. */
  force?: boolean;
  /**
   * Update the per-holder line index (holder_lines) at the end (default true). Statements bring it up to
   * date themselves, so a bulk run may leave it to them or to a later indexHolderLines().
   */
  indexHolders?: boolean;
  onProgress?: (info: { licenseeId: string; pass: 1 | 2; channelId: string; airings: number }) => void;
}

export interface AccrueResult extends RunSummary {
  revision: number | null;
  skipped: Array<{ licenceId: string; reason: string }>;
  headSeq: number;
}

export interface UsageReportInfo {
  licenseeId: string;
  period: string;
  issuedAtMs: number;
  deadlineMs: number;
}

export class RoyaltyRepository {
  readonly catalog: CatalogRepository;
  private db: Kysely<DB>;
  private kind: StoreKind;
  private raw: RawSqlite | null;
  constructor(
    store: Store,
    private now: () => number = Date.now,
  ) {
    this.db = store.db;
    this.kind = store.kind;
    this.raw = rawSqlite(store);
    this.catalog = new CatalogRepository(store.db, now);
  }

  // ---- ledger primitives --------------------------------------------------------------------------

  async append(specs: EntrySpec[]): Promise<LedgerEntry[]> {
    return this.db.transaction().execute(async (trx) => {
      const app = new LedgerAppender(trx, this.kind);
      await app.open();
      const out = specs.map((s) => app.append(s));
      await app.close();
      return out;
    });
  }

  async head(): Promise<LedgerHead | null> {
    const r = await this.db.selectFrom('ledger_head').selectAll().where('id', '=', 1).executeTakeFirst();
    return r ? { seq: Number(r.seq), hash: r.hash, lineSeq: Number(r.line_seq) } : null;
  }

  private async *pagedEntries(pageSize = 2000): AsyncIterable<LedgerEntry> {
    let after = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('ledger_entries')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      for (const r of rows) yield toEntry(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  private async *pagedLines(pageSize = 10000): AsyncIterable<AccrualLine> {
    let after = 0;
    if (this.raw) {
      const st = prepared(
        this.raw,
        `select ${LINE_COLUMNS.join(', ')} from accrual_lines where seq > ? order by seq limit ?`,
      );
      for (;;) {
        const rows = st.raw(true).all(after, pageSize) as LineTuple[];
        for (const r of rows) yield tupleLine(r);
        if (rows.length < pageSize) return;
        after = rows[rows.length - 1][0];
      }
    }
    for (;;) {
      const rows = await this.db
        .selectFrom('accrual_lines')
        .selectAll()
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      for (const r of rows) yield toLine(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }

  /** Recomputes the whole chain and reports the first entry or line that is not what was written. */
  async verify(expectHeadHash?: string): Promise<VerifyResult> {
    return verifyLedger(this.pagedEntries(), this.pagedLines(), await this.head(), expectHeadHash);
  }

  async entries(fromSeq = 1, limit = 100): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>=', fromSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  // ---- tariffs ------------------------------------------------------------------------------------

  /**
   * Publishes a new tariff version, valid from the first day of a month. Versions are never edited; a
   * version may not start inside or before a period already accrued under this tariff (past accruals keep
   * the rules they were computed with).
   */
  async publishTariffVersion(
    tariffId: string,
    validFromMs: number,
    rulesDoc: unknown,
  ): Promise<{ id: string; version: number; rulesHash: string }> {
    const { rulesJson, rulesHash } = canonicalRules(rulesDoc);
    return this.db.transaction().execute(async (trx) => {
      const app = new LedgerAppender(trx, this.kind);
      await app.open(); // taken first: serialises publishing against accrual runs on PostgreSQL
      const tariff = await this.catalog.getTariff(tariffId, trx);
      if (!tariff) throw new CatalogError(`unknown tariff "${tariffId}"`);
      const period = parsePeriod(formatDateMs(validFromMs).slice(0, 7));
      if (period.startMs !== validFromMs) {
        throw new CatalogError(
          `a tariff version starts on the first day of a month (00:00 Kazakhstan time); ${formatDateMs(validFromMs)} is not one`,
        );
      }
      const versions = await this.catalog.tariffVersions(tariffId, trx);
      const last = versions[versions.length - 1];
      if (last && validFromMs <= last.validFromMs) {
        throw new CatalogError(
          `tariff ${tariffId} version ${last.version} starts ${formatDateMs(last.validFromMs)}; a new version must start later`,
        );
      }
      const accrued = await trx
        .selectFrom('ledger_entries as e')
        .innerJoin('licences as l', 'l.id', 'e.licence_id')
        .select((eb) => eb.fn.max('e.period').as('p'))
        .where('l.tariff_id', '=', tariffId)
        .where('e.kind', '=', 'accrual')
        .executeTakeFirst();
      if (accrued?.p && parsePeriod(accrued.p).endMs > validFromMs) {
        throw new CatalogError(
          `period ${accrued.p} is already accrued under tariff ${tariffId}; a new version must start after it (past accruals keep their rules)`,
        );
      }
      const version = (last?.version ?? 0) + 1;
      const id = `${tariffId}@v${version}`;
      const now = this.now();
      await trx
        .insertInto('tariff_versions')
        .values({
          id,
          tariff_id: tariffId,
          version,
          valid_from_ms: validFromMs,
          rules_json: rulesJson,
          rules_hash: rulesHash,
          created_at_ms: now,
        })
        .execute();
      app.append({
        kind: 'tariff_version',
        payload: { tariffVersionId: id, tariffId, cmoId: tariff.cmoId, version, validFromMs, rulesHash },
        createdAtMs: now,
      });
      await app.close();
      return { id, version, rulesHash };
    });
  }

  private async tariffVersionAt(
    tariffId: string,
    atMs: number,
    db: Db = this.db,
  ): Promise<DB['tariff_versions'] | undefined> {
    return db
      .selectFrom('tariff_versions')
      .selectAll()
      .where('tariff_id', '=', tariffId)
      .where('valid_from_ms', '<=', atMs)
      .orderBy('valid_from_ms', 'desc')
      .executeTakeFirst();
  }

  // ---- accrual ------------------------------------------------------------------------------------

  /** The licences to accrue for a period, each with its rules compiled for the period's year. */
  async licenceContexts(
    period: Period,
  ): Promise<{ licences: AccrualLicence[]; skipped: Array<{ licenceId: string; reason: string }> }> {
    const licences: AccrualLicence[] = [];
    const skipped: Array<{ licenceId: string; reason: string }> = [];
    for (const licence of await this.catalog.licencesOverlapping(period.startMs, period.endMs)) {
      const licensee = (await this.catalog.getLicensee(licence.licenseeId))!;
      if (licensee.platformFromMs >= period.endMs) {
        skipped.push({
          licenceId: licence.id,
          reason: `${licensee.id} reports through the platform only from ${formatDateMs(licensee.platformFromMs)}`,
        });
        continue;
      }
      const cmo = await this.catalog.mustCmo(licence.cmoId);
      const tv = await this.tariffVersionAt(licence.tariffId, period.startMs);
      if (!tv) {
        throw new RoyaltyError(
          `licence ${licence.id}: tariff ${licence.tariffId} has no version in force on ${formatDateMs(period.startMs)} (tyndau tariff version ...)`,
        );
      }
      const mci = await this.catalog.mciTiyn(period.year);
      let rules;
      try {
        rules = compileRules(JSON.parse(tv.rules_json), { mciTiyn: mci, year: period.year });
      } catch (err) {
        throw new RoyaltyError(
          `licence ${licence.id}, tariff version ${tv.id}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      for (const s of rules.split) {
        if (!cmo.rightTypes.includes(s.rightType)) {
          throw new RoyaltyError(
            `tariff version ${tv.id} pays the ${s.rightType} right, which CMO ${cmo.id} does not manage`,
          );
        }
      }
      const channels = await this.db
        .selectFrom('channels')
        .select(['id', 'name', 'time_zone'])
        .where('broadcaster_id', '=', licensee.id)
        .orderBy('id')
        .execute();
      licences.push({
        licence,
        cmo,
        licensee,
        tariffVersion: toTariffVersion(tv),
        rules,
        channels: channels.map((c) => ({ id: c.id, name: c.name, timeZone: c.time_zone })),
        revenueTiyn: await this.catalog.declaredRevenue(licensee.id, period.id),
      });
    }
    return { licences, skipped };
  }

  /**
   * Accrues a period: appends what changed since the last run (reversals and new lines per bucket, then
   * a run summary). A re-run of unchanged data appends nothing. Issues the broadcasters' usage reports.
   */
  async accrue(periodId: string, opts: AccrueOptions = {}): Promise<AccrueResult> {
    const period = parsePeriod(periodId);
    const asOfMs = opts.asOfMs ?? this.now();
    const reviewMs = (opts.reviewWindowDays ?? 7) * DAY_MS;
    const disputeMs = (opts.disputeWindowDays ?? 14) * DAY_MS;
    await this.lock(period.id, opts.force ?? false);
    try {
      if (this.kind === 'sqlite') await sql`pragma cache_size = -65536`.execute(this.db);
      const { licences, skipped } = await this.licenceContexts(period);
      const prior = await this.db
        .selectFrom('ledger_entries')
        .select((eb) => eb.fn.max('revision').as('r'))
        .where('period', '=', period.id)
        .where('kind', 'in', ['accrual', 'accrual_run'])
        .executeTakeFirst();
      const priorRevision = prior?.r === null || prior?.r === undefined ? 0 : Number(prior.r);
      const revision = priorRevision + 1;
      const excluded = await this.acceptedDisputeDetections(period.id);
      const source = this.source(asOfMs, reviewMs, excluded);
      const sink = new LedgerSink(this.db, this.kind, period.id, revision, asOfMs, this.raw);
      const summary = await runAccrual(
        { period, asOfMs, licences, periodHasLines: priorRevision > 0, onProgress: opts.onProgress },
        source,
        sink,
      );
      await sink.flush();
      let headSeq = (await this.head())?.seq ?? 0;
      if (summary.changed) {
        const [entry] = await this.append([
          {
            kind: 'accrual_run',
            period: period.id,
            revision,
            payload: { ...summary, skipped },
            createdAtMs: asOfMs,
          },
        ]);
        headSeq = entry.seq;
      }
      if (opts.indexHolders ?? true) await this.indexHolderLines();
      for (const lic of licences) {
        await this.db
          .insertInto('usage_reports')
          .values({
            licensee_id: lic.licensee.id,
            period: period.id,
            issued_at_ms: asOfMs,
            deadline_ms: asOfMs + disputeMs,
          })
          .onConflict((oc) => oc.columns(['licensee_id', 'period']).doNothing())
          .execute();
      }
      return { ...summary, revision: summary.changed ? revision : null, skipped, headSeq };
    } finally {
      await this.db.deleteFrom('accrual_locks').where('period', '=', period.id).execute();
    }
  }

  private async lock(period: string, force: boolean): Promise<void> {
    const owner = `${process.pid}@${this.now()}`;
    try {
      await this.db
        .insertInto('accrual_locks')
        .values({ period, owner, started_at_ms: this.now() })
        .execute();
    } catch {
      const held = await this.db
        .selectFrom('accrual_locks')
        .selectAll()
        .where('period', '=', period)
        .executeTakeFirst();
      if (!force) {
        throw new RoyaltyError(
          `an accrual of ${period} is already running (${held?.owner ?? 'unknown'} since ${held ? new Date(Number(held.started_at_ms)).toISOString() : '?'}); ` +
            'if it crashed, run again with --force (the next run completes whatever it left)',
        );
      }
      await this.db
        .updateTable('accrual_locks')
        .set({ owner, started_at_ms: this.now() })
        .where('period', '=', period)
        .execute();
    }
  }

  /** Adds lines appended since the last call to the per-holder index, in one sorted pass. */
  async indexHolderLines(): Promise<void> {
    const head = await this.db.selectFrom('ledger_head').selectAll().where('id', '=', 1).executeTakeFirst();
    if (!head || Number(head.holder_index_seq) >= Number(head.line_seq)) return;
    const from = Number(head.holder_index_seq);
    const to = Number(head.line_seq);
    await this.db.transaction().execute(async (trx) => {
      await sql`insert into holder_lines (holder_id, period, seq)
        select l.holder_id, e.period, l.seq from accrual_lines l join ledger_entries e on e.seq = l.entry_seq
        where l.seq > ${from} and l.seq <= ${to} and l.holder_id is not null and e.period is not null
        order by l.holder_id, e.period, l.seq
        on conflict do nothing`.execute(trx);
      await trx.updateTable('ledger_head').set({ holder_index_seq: to }).where('id', '=', 1).execute();
    });
  }

  private async acceptedDisputeDetections(period: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('usage_disputes')
      .select('detection_id')
      .where('period', '=', period)
      .where('status', '=', 'accepted')
      .execute();
    return new Set(rows.map((r) => r.detection_id));
  }

  private source(asOfMs: number, reviewMs: number, excluded: ReadonlySet<string>): AccrualSource {
    const db = this.db;
    const catalog = this.catalog;
    const raw = this.raw;
    const pageSize = 5000;
    return {
      async *detections(channelId: string, fromMs: number, toMs: number): AsyncIterable<DetectionRow[]> {
        if (raw) {
          // Prepared once, rows as arrays: the same query as below, without per-row objects.
          const st = prepared(
            raw,
            `select id, recording_id, start_ms, end_ms, use_type from detections
             where channel_id = ? and start_ms >= ? and start_ms < ? and created_at_ms <= ?
               and (status in ('confirmed', 'reassigned') or (status = 'pending' and created_at_ms <= ?))
               and (start_ms > ? or (start_ms = ? and id > ?))
             order by start_ms, id limit ?`,
          );
          let lastStart = fromMs - 1;
          let lastId = '';
          for (;;) {
            const rows = st
              .raw(true)
              .all(
                channelId,
                lastStart,
                toMs,
                asOfMs,
                asOfMs - reviewMs,
                lastStart,
                lastStart,
                lastId,
                pageSize,
              ) as Array<[string, string, number, number, string | null]>;
            if (rows.length === 0) return;
            const page: DetectionRow[] = [];
            for (const r of rows) {
              if (excluded.has(r[0])) continue;
              page.push({
                id: r[0],
                channelId,
                recordingId: r[1],
                startMs: Number(r[2]),
                endMs: Number(r[3]),
                useType: r[4],
              });
            }
            yield page;
            if (rows.length < pageSize) return;
            lastStart = Number(rows[rows.length - 1][2]);
            lastId = rows[rows.length - 1][0];
          }
        }
        let last: { start: number; id: string } | null = null;
        for (;;) {
          let q = db
            .selectFrom('detections')
            .select(['id', 'channel_id', 'recording_id', 'start_ms', 'end_ms', 'use_type'])
            .where('channel_id', '=', channelId)
            .where('start_ms', '>=', last ? last.start : fromMs)
            .where('start_ms', '<', toMs)
            .where('created_at_ms', '<=', asOfMs)
            .where((eb) =>
              eb.or([
                eb('status', 'in', ['confirmed', 'reassigned']),
                eb.and([eb('status', '=', 'pending'), eb('created_at_ms', '<=', asOfMs - reviewMs)]),
              ]),
            );
          if (last) {
            const l = last;
            q = q.where((eb) =>
              eb.or([
                eb('start_ms', '>', l.start),
                eb.and([eb('start_ms', '=', l.start), eb('id', '>', l.id)]),
              ]),
            );
          }
          const rows: Array<
            Pick<DB['detections'], 'id' | 'channel_id' | 'recording_id' | 'start_ms' | 'end_ms' | 'use_type'>
          > = await q.orderBy('start_ms').orderBy('id').limit(pageSize).execute();
          if (rows.length === 0) return;
          const page: DetectionRow[] = [];
          for (const r of rows) {
            if (excluded.has(r.id)) continue;
            page.push({
              id: r.id,
              channelId: r.channel_id,
              recordingId: r.recording_id,
              startMs: Number(r.start_ms),
              endMs: Number(r.end_ms),
              useType: r.use_type,
            });
          }
          yield page;
          if (rows.length < pageSize) return;
          const tail = rows[rows.length - 1];
          last = { start: Number(tail.start_ms), id: tail.id };
        }
      },
      async recordingRights(ids: string[]) {
        return loadRecordingRights(db, catalog, ids);
      },
      async accruedChannels(periodId: string, licenceId: string): Promise<string[]> {
        const rows = await db
          .selectFrom('ledger_entries')
          .select('channel_id')
          .distinct()
          .where('kind', '=', 'accrual')
          .where('period', '=', periodId)
          .where('licence_id', '=', licenceId)
          .execute();
        return rows.map((r) => r.channel_id ?? '');
      },
      async effectiveLines(
        periodId: string,
        licenceId: string,
        channelId: string,
      ): Promise<Map<string, AccrualLine[]>> {
        const entries = await db
          .selectFrom('ledger_entries')
          .select(['seq', 'day', 'first_line_seq', 'lines_count', 'payload_json'])
          .where('kind', '=', 'accrual')
          .where('period', '=', periodId)
          .where('licence_id', '=', licenceId)
          .where('channel_id', '=', channelId)
          .execute();
        const out = new Map<string, AccrualLine[]>();
        const dayOf = new Map(entries.map((e) => [Number(e.seq), e.day ?? '']));
        for (const l of effectiveLines(await linesOfEntries(db, entries, raw))) {
          const day = dayOf.get(l.entrySeq)!;
          const list = out.get(day);
          if (list) list.push(l);
          else out.set(day, [l]);
        }
        return out;
      },
    };
  }

  // ---- usage confirmation by broadcasters ---------------------------------------------------------

  async usageReport(licenseeId: string, period: string): Promise<UsageReportInfo | null> {
    const r = await this.db
      .selectFrom('usage_reports')
      .selectAll()
      .where('licensee_id', '=', licenseeId)
      .where('period', '=', period)
      .executeTakeFirst();
    return r
      ? { licenseeId, period, issuedAtMs: Number(r.issued_at_ms), deadlineMs: Number(r.deadline_ms) }
      : null;
  }

  private async openReport(
    licenseeId: string,
    period: string,
    atMs: number,
    what: string,
  ): Promise<UsageReportInfo> {
    const rep = await this.usageReport(licenseeId, period);
    if (!rep)
      throw new RoyaltyError(
        `no usage report for ${licenseeId} in ${period} yet: the period has not been accrued`,
      );
    if (atMs > rep.deadlineMs) {
      throw new RoyaltyError(
        `the window to ${what} usage of ${period} closed on ${new Date(rep.deadlineMs).toISOString()}; undisputed lines are deemed accepted`,
      );
    }
    return rep;
  }

  /** Detections of the licensee's channels that have lines in the period. */
  private async usageDetectionIds(
    licenseeId: string,
    period: string,
    only?: readonly string[],
  ): Promise<Set<string>> {
    const licences = (await this.catalog.licencesOf(licenseeId)).map((l) => l.id);
    const out = new Set<string>();
    if (licences.length === 0) return out;
    let q = this.db
      .selectFrom('ledger_entries')
      .select(['seq', 'channel_id', 'day', 'first_line_seq', 'lines_count', 'payload_json'])
      .where('kind', '=', 'accrual')
      .where('period', '=', period)
      .where('licence_id', 'in', licences)
      .where('channel_id', '!=', '');
    if (only) {
      // only the buckets (channel, local day) of the asked detections
      const dets = only.length
        ? await this.db
            .selectFrom('detections as d')
            .innerJoin('channels as c', 'c.id', 'd.channel_id')
            .select(['d.channel_id', 'd.start_ms', 'c.time_zone'])
            .where('d.id', 'in', [...only])
            .execute()
        : [];
      if (dets.length === 0) return out;
      const keys = [
        ...new Set(dets.map((d) => `${d.channel_id}|${localDate(d.time_zone, Number(d.start_ms))}`)),
      ];
      q = q.where((eb) =>
        eb.or(
          keys.map((k) => eb.and([eb('channel_id', '=', k.split('|')[0]), eb('day', '=', k.split('|')[1])])),
        ),
      );
    }
    const entries = await q.orderBy('channel_id').orderBy('seq').execute();
    const wanted = only ? new Set(only) : null;
    // channel by channel, so only one channel's lines are in memory
    for (let i = 0; i < entries.length;) {
      let j = i;
      while (j < entries.length && entries[j].channel_id === entries[i].channel_id) j++;
      for (const l of effectiveLines(await linesOfEntries(this.db, entries.slice(i, j), this.raw))) {
        if (l.detectionId && (!wanted || wanted.has(l.detectionId))) out.add(l.detectionId);
      }
      i = j;
    }
    return out;
  }

  async confirmUsage(
    licenseeId: string,
    period: string,
    detectionIds: readonly string[] | 'all',
    atMs = this.now(),
  ): Promise<number> {
    await this.openReport(licenseeId, period, atMs, 'confirm');
    const known = await this.usageDetectionIds(
      licenseeId,
      period,
      detectionIds === 'all' ? undefined : detectionIds,
    );
    if (detectionIds !== 'all') {
      const unknown = detectionIds.filter((d) => !known.has(d));
      if (unknown.length)
        throw new RoyaltyError(
          `not usage lines of ${licenseeId} in ${period}: ${unknown.slice(0, 5).join(', ')}`,
        );
    }
    const disputed = new Set(
      (
        await this.db
          .selectFrom('usage_disputes')
          .select('detection_id')
          .where('licensee_id', '=', licenseeId)
          .where('period', '=', period)
          .execute()
      ).map((r) => r.detection_id),
    );
    const already = new Set(
      (
        await this.db
          .selectFrom('usage_confirmations')
          .select('detection_id')
          .where('licensee_id', '=', licenseeId)
          .where('period', '=', period)
          .execute()
      ).map((r) => r.detection_id),
    );
    if (detectionIds !== 'all') {
      const clash = detectionIds.filter((d) => disputed.has(d));
      if (clash.length)
        throw new RoyaltyError(
          `usage lines under dispute cannot be confirmed: ${clash.slice(0, 5).join(', ')}`,
        );
    }
    const ids = [...known].filter((d) => !disputed.has(d) && !already.has(d)).sort();
    if (ids.length === 0) return 0;
    await this.db.transaction().execute(async (trx) => {
      await insertRows(
        trx,
        this.kind,
        'usage_confirmations',
        ['licensee_id', 'detection_id', 'period', 'confirmed_at_ms'],
        ids.map((d) => [licenseeId, d, period, atMs]),
      );
      const app = new LedgerAppender(trx, this.kind);
      await app.open();
      app.append({
        kind: 'usage_confirmed',
        period,
        payload: { licenseeId, detections: ids.length, detectionIdsDigest: canonicalDigest(ids) },
        createdAtMs: atMs,
      });
      await app.close();
    });
    return ids.length;
  }

  async disputeUsage(
    licenseeId: string,
    period: string,
    detectionId: string,
    reason: string,
    atMs = this.now(),
  ): Promise<string> {
    if (!reason.trim()) throw new RoyaltyError('a dispute needs a reason');
    await this.openReport(licenseeId, period, atMs, 'dispute');
    const known = await this.usageDetectionIds(licenseeId, period, [detectionId]);
    if (!known.has(detectionId))
      throw new RoyaltyError(`detection ${detectionId} is not a usage line of ${licenseeId} in ${period}`);
    const confirmed = await this.db
      .selectFrom('usage_confirmations')
      .select('detection_id')
      .where('licensee_id', '=', licenseeId)
      .where('detection_id', '=', detectionId)
      .executeTakeFirst();
    if (confirmed) throw new RoyaltyError(`usage line ${detectionId} was already confirmed`);
    const open = await this.db
      .selectFrom('usage_disputes')
      .select('id')
      .where('licensee_id', '=', licenseeId)
      .where('detection_id', '=', detectionId)
      .executeTakeFirst();
    if (open) throw new RoyaltyError(`usage line ${detectionId} is already disputed (${open.id})`);
    const id = `DSP-${canonicalDigest([licenseeId, period, detectionId]).slice(0, 12)}`;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('usage_disputes')
        .values({
          id,
          licensee_id: licenseeId,
          period,
          detection_id: detectionId,
          reason,
          opened_at_ms: atMs,
          status: 'open',
          resolved_at_ms: null,
          resolution: null,
        })
        .execute();
      const app = new LedgerAppender(trx, this.kind);
      await app.open();
      app.append({
        kind: 'usage_disputed',
        period,
        payload: { disputeId: id, licenseeId, detectionId, reason },
        createdAtMs: atMs,
      });
      await app.close();
    });
    return id;
  }

  /**
   * Resolves a dispute. An accepted dispute takes the airing out of the period: the period is accrued again
   * at once and the correction (reversals, and new lines where a pool is re-shared) is appended.
   */
  async resolveDispute(
    disputeId: string,
    accept: boolean,
    note: string,
    atMs = this.now(),
  ): Promise<AccrueResult | null> {
    const d = await this.db
      .selectFrom('usage_disputes')
      .selectAll()
      .where('id', '=', disputeId)
      .executeTakeFirst();
    if (!d) throw new RoyaltyError(`unknown dispute "${disputeId}"`);
    if (d.status !== 'open') throw new RoyaltyError(`dispute ${disputeId} was already ${d.status}`);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('usage_disputes')
        .set({ status: accept ? 'accepted' : 'rejected', resolved_at_ms: atMs, resolution: note })
        .where('id', '=', disputeId)
        .execute();
      const app = new LedgerAppender(trx, this.kind);
      await app.open();
      app.append({
        kind: 'dispute_resolved',
        period: d.period,
        payload: {
          disputeId,
          licenseeId: d.licensee_id,
          detectionId: d.detection_id,
          accepted: accept,
          note,
        },
        createdAtMs: atMs,
      });
      await app.close();
    });
    return accept ? this.accrue(d.period, { asOfMs: atMs }) : null;
  }

  async disputes(period: string, licenseeId?: string): Promise<Array<DB['usage_disputes']>> {
    let q = this.db.selectFrom('usage_disputes').selectAll().where('period', '=', period);
    if (licenseeId) q = q.where('licensee_id', '=', licenseeId);
    return q.orderBy('opened_at_ms').orderBy('id').execute();
  }

  // ---- reports ------------------------------------------------------------------------------------

  async getLine(seq: number): Promise<AccrualLine | null> {
    const r = await this.db
      .selectFrom('accrual_lines as l')
      .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
      .selectAll('l')
      .select('e.payload_json')
      .where('l.seq', '=', seq)
      .executeTakeFirst();
    return r
      ? toLine(r, (JSON.parse(r.payload_json) as { tariffVersionId?: string }).tariffVersionId ?? '')
      : null;
  }

  /** Gathers everything a line points to (see explainLine). */
  async traceLine(seq: number): Promise<LineTrace> {
    const line = await this.getLine(seq);
    if (!line)
      throw new RoyaltyError(
        `no accrual line ${seq} (line ids are the numbers shown in statements, column "line")`,
      );
    const e = await this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '=', line.entrySeq)
      .executeTakeFirstOrThrow();
    const payload = JSON.parse(e.payload_json) as { bucketAmountTiyn?: number; bucketUnits?: string };
    const licence = (await this.catalog.getLicence(e.licence_id!))!;
    const cmo = await this.catalog.mustCmo(licence.cmoId);
    const licensee = (await this.catalog.getLicensee(licence.licenseeId))!;
    const tv = await this.db
      .selectFrom('tariff_versions')
      .selectAll()
      .where('id', '=', line.tariffVersionId)
      .executeTakeFirstOrThrow();
    const tariff = await this.catalog.getTariff(tv.tariff_id);
    const reversal = await this.db
      .selectFrom('accrual_lines')
      .select('seq')
      .where('reverses_seq', '=', seq)
      .executeTakeFirst();
    const reverses = line.reversesSeq !== null ? await this.getLine(line.reversesSeq) : null;
    const runRow = await this.db
      .selectFrom('ledger_entries')
      .select('payload_json')
      .where('kind', '=', 'accrual_run')
      .where('period', '=', e.period)
      .where('revision', '>=', Number(e.revision ?? 0))
      .orderBy('revision')
      .executeTakeFirst();
    const run = runRow ? (JSON.parse(runRow.payload_json) as RunSummary) : null;
    const licenceDue = run?.licences.find((x) => x.licenceId === licence.id)?.dueTiyn ?? null;
    const det = line.detectionId
      ? await this.db
          .selectFrom('detections')
          .selectAll()
          .where('id', '=', line.detectionId)
          .executeTakeFirst()
      : undefined;
    const ch = det
      ? await this.db
          .selectFrom('channels')
          .select(['id', 'name', 'time_zone'])
          .where('id', '=', det.channel_id)
          .executeTakeFirst()
      : undefined;
    const recording = det ? await this.catalog.getRecording(det.recording_id) : null;
    const share = line.shareId ? await this.catalog.getShare(line.shareId) : null;
    const workId =
      share?.subjectKind === 'work'
        ? share.subjectId
        : line.rightType === 'performing'
          ? line.subjectId
          : null;
    const work = workId ? await this.catalog.getWork(workId) : null;
    const holder = line.holderId ? await this.catalog.getHolder(line.holderId) : null;
    let mandateCmoId: string | null = null;
    if (holder && det) {
      const ms = (await this.catalog.mandatesOf([holder.id])).get(holder.id) ?? [];
      mandateCmoId =
        ms.find(
          (m) =>
            m.rightType === line.rightType &&
            m.validFromMs <= Number(det.start_ms) &&
            Number(det.start_ms) < (m.validToMs ?? Infinity),
        )?.cmoId ?? null;
    }
    const mci = await this.catalog.mciTiyn(parsePeriod(e.period!).year);
    const weighing =
      det && ch
        ? weighDetection(
            compileRules(JSON.parse(tv.rules_json), { mciTiyn: mci, year: parsePeriod(e.period!).year }),
            ch.time_zone,
            {
              channelId: det.channel_id,
              startMs: Number(det.start_ms),
              endMs: Number(det.end_ms),
              useType: det.use_type,
            },
          )
        : null;
    return {
      line,
      entry: {
        seq: Number(e.seq),
        period: e.period!,
        revision: e.revision === null ? null : Number(e.revision),
        createdAtMs: Number(e.created_at_ms),
        hash: e.hash,
        bucketAmountTiyn: payload.bucketAmountTiyn ?? null,
        bucketUnits: payload.bucketUnits ?? null,
        channelId: e.channel_id,
        day: e.day,
      },
      reversedBySeq: reversal ? Number(reversal.seq) : null,
      reverses,
      licence,
      cmo,
      licensee,
      tariffVersion: toTariffVersion(tv),
      tariffName: tariff?.name ?? tv.tariff_id,
      licenceDueTiyn: licenceDue,
      detection: det
        ? {
            id: det.id,
            startMs: Number(det.start_ms),
            endMs: Number(det.end_ms),
            status: det.status,
            useType: det.use_type,
            confidence: Number(det.confidence),
            evidencePath: det.evidence_path,
            evidenceStartMs:
              det.evidence_start_ms === null || det.evidence_start_ms === undefined
                ? null
                : Number(det.evidence_start_ms),
          }
        : null,
      channel: ch ? { id: ch.id, name: ch.name, timeZone: ch.time_zone } : null,
      recording,
      work,
      workPortionBp:
        recording && work ? (recording.works.find((w) => w.workId === work.id)?.portionBp ?? null) : null,
      share,
      holder,
      mandateCmoId,
      weighing,
    };
  }

  /** Statement lines of one holder and period, from the per-holder index, in ledger order. */
  async holderStatement(holderId: string, periodId: string): Promise<HolderStatement> {
    const period = parsePeriod(periodId);
    const holder = await this.catalog.getHolder(holderId);
    if (!holder) throw new RoyaltyError(`unknown rights holder "${holderId}"`);
    await this.indexHolderLines();
    const seqs = (
      await this.db
        .selectFrom('holder_lines')
        .select('seq')
        .where('holder_id', '=', holderId)
        .where('period', '=', period.id)
        .orderBy('seq')
        .execute()
    ).map((r) => Number(r.seq));
    const lines: StatementLine[] = [];
    const ctx = new ReportContext(this.db, this.catalog);
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await this.db
        .selectFrom('accrual_lines as l')
        .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
        .selectAll('l')
        .select(['e.period', 'e.licence_id', 'e.payload_json'])
        .where('l.seq', 'in', seqs.slice(i, i + 500))
        .orderBy('l.seq')
        .execute();
      const det = await ctx.detections(
        rows.map((r) => r.detection_id).filter((d): d is string => d !== null),
      );
      for (const r of rows) {
        const l = toLine(
          r,
          (JSON.parse(r.payload_json) as { tariffVersionId?: string }).tariffVersionId ?? '',
        );
        const d = l.detectionId ? det.get(l.detectionId) : undefined;
        const ch = d ? await ctx.channel(d.channel_id) : undefined;
        const rec = d ? await ctx.recording(d.recording_id) : undefined;
        const share = l.shareId ? await ctx.share(l.shareId) : null;
        const work = share?.subjectKind === 'work' ? await ctx.work(share.subjectId) : null;
        const licence = await ctx.licence(r.licence_id!);
        const tz = ch?.time_zone ?? 'Asia/Almaty';
        lines.push({
          lineSeq: l.seq,
          kind: l.kind,
          period: r.period!,
          licenceId: r.licence_id!,
          cmoId: licence?.cmoId ?? '',
          channelId: d?.channel_id ?? '',
          channelName: ch?.name ?? '',
          detectionId: l.detectionId,
          localStart: d ? formatLocal(tz, Number(d.start_ms)) : '',
          localEnd: d ? formatLocal(tz, Number(d.end_ms)) : '',
          timeZone: tz,
          recordingId: d?.recording_id ?? null,
          recordingTitle: rec?.title ?? '',
          isrc: rec?.isrc ?? null,
          workId: work?.id ?? null,
          workTitle: work?.title ?? null,
          iswc: work?.iswc ?? null,
          rightType: l.rightType,
          shareId: l.shareId,
          shareBp: share?.shareBp ?? null,
          tariffVersionId: l.tariffVersionId,
          airtimeMs: l.airtimeMs,
          weightedSec: formatWeightedUs(l.weightedUs),
          grossTiyn: l.grossTiyn,
          deductionTiyn: l.deductionTiyn,
          netTiyn: l.netTiyn,
          reserveReason: l.reserveReason,
        });
      }
    }
    return {
      holderId,
      holderName: holder.name,
      ipiNameNumber: holder.ipiNameNumber,
      period: period.id,
      lines,
      totals: statementTotals(lines),
    };
  }

  /**
   * The broadcaster's usage lines for a period, channel by channel and day by day: each airing with what
   * each licence accrued for it (effective lines) and its confirmation status. Streams, bucket by bucket.
   */
  async *usageRows(licenseeId: string, periodId: string, nowMs = this.now()): AsyncIterable<UsageRow> {
    const period = parsePeriod(periodId);
    const licences = (await this.catalog.licencesOf(licenseeId)).map((l) => l.id);
    if (licences.length === 0) return;
    const report = await this.usageReport(licenseeId, period.id);
    const confirmed = new Set(
      (
        await this.db
          .selectFrom('usage_confirmations')
          .select('detection_id')
          .where('licensee_id', '=', licenseeId)
          .where('period', '=', period.id)
          .execute()
      ).map((r) => r.detection_id),
    );
    const disputes = new Map(
      (await this.disputes(period.id, licenseeId)).map(
        (d) => [d.detection_id, { id: d.id, status: d.status }] as const,
      ),
    );
    const buckets = await this.db
      .selectFrom('ledger_entries')
      .select(['channel_id', 'day'])
      .distinct()
      .where('kind', '=', 'accrual')
      .where('period', '=', period.id)
      .where('licence_id', 'in', licences)
      .where('channel_id', '!=', '')
      .orderBy('channel_id')
      .orderBy('day')
      .execute();
    const ctx = new ReportContext(this.db, this.catalog);
    const licenceCmo = new Map<string, string>();
    for (const id of licences) licenceCmo.set(id, (await this.catalog.getLicence(id))!.cmoId);
    for (const b of buckets) {
      const entries = await this.db
        .selectFrom('ledger_entries')
        .select(['seq', 'licence_id', 'first_line_seq', 'lines_count', 'payload_json'])
        .where('kind', '=', 'accrual')
        .where('period', '=', period.id)
        .where('licence_id', 'in', licences)
        .where('channel_id', '=', b.channel_id)
        .where('day', '=', b.day)
        .execute();
      const licenceOf = new Map(entries.map((e) => [Number(e.seq), e.licence_id!]));
      const lines = effectiveLines(await linesOfEntries(this.db, entries, this.raw));
      const byDetection = new Map<string, Map<string, number>>();
      for (const l of lines) {
        if (!l.detectionId) continue;
        let m = byDetection.get(l.detectionId);
        if (!m) byDetection.set(l.detectionId, (m = new Map()));
        const lic = licenceOf.get(l.entrySeq)!;
        m.set(lic, (m.get(lic) ?? 0) + l.grossTiyn);
      }
      const det = await ctx.detections([...byDetection.keys()]);
      const ordered = [...byDetection.keys()].sort((a, b) => {
        const da = det.get(a);
        const dbb = det.get(b);
        return Number(da?.start_ms ?? 0) - Number(dbb?.start_ms ?? 0) || (a < b ? -1 : 1);
      });
      for (const id of ordered) {
        const d = det.get(id);
        if (!d) continue;
        const ch = await ctx.channel(d.channel_id);
        const rec = await ctx.recording(d.recording_id);
        const people = await ctx.people(d.recording_id);
        const tz = ch?.time_zone ?? 'Asia/Almaty';
        const amounts = [...byDetection.get(id)!].map(([licenceId, grossTiyn]) => ({
          licenceId,
          cmoId: licenceCmo.get(licenceId) ?? '',
          grossTiyn,
        }));
        const dispute = disputes.get(id) ?? null;
        yield {
          detectionId: id,
          channelId: d.channel_id,
          channelName: ch?.name ?? d.channel_id,
          timeZone: tz,
          startMs: Number(d.start_ms),
          endMs: Number(d.end_ms),
          localStart: formatLocal(tz, Number(d.start_ms)),
          localEnd: formatLocal(tz, Number(d.end_ms)),
          airtimeMs: Number(d.end_ms) - Number(d.start_ms),
          useType: d.use_type,
          recordingId: d.recording_id,
          title: rec?.title ?? '(not in the catalogue)',
          isrc: rec?.isrc ?? null,
          iswcs: people.iswcs,
          composers: people.composers,
          performers: people.performers,
          amounts,
          totalTiyn: amounts.reduce((s, a) => s + a.grossTiyn, 0),
          status: usageStatus({
            confirmed: confirmed.has(id),
            dispute,
            deadlineMs: report?.deadlineMs ?? null,
            nowMs,
          }),
          disputeId: dispute?.id ?? null,
        };
      }
    }
  }

  /** Per CMO and period: collected (due), accrued, deducted, undistributed by reason and age. */
  async cmoSummary(cmoId: string, periodId: string, nowMs = this.now()): Promise<CmoSummary> {
    const period = parsePeriod(periodId);
    const cmo = await this.catalog.mustCmo(cmoId);
    const rows = await this.db
      .selectFrom('accrual_lines as l')
      .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
      .innerJoin('licences as c', 'c.id', 'e.licence_id')
      .select((eb) => [
        'e.licence_id',
        'c.licensee_id',
        'l.reserve_reason',
        eb.fn.sum<string | number>('l.gross_tiyn').as('gross'),
        eb.fn.sum<string | number>('l.deduction_tiyn').as('deduction'),
        eb.fn.sum<string | number>('l.net_tiyn').as('net'),
      ])
      .where('e.period', '=', period.id)
      .where('c.cmo_id', '=', cmoId)
      .groupBy(['e.licence_id', 'c.licensee_id', 'l.reserve_reason'])
      .execute();
    const s: CmoSummary = {
      cmoId,
      cmoName: cmo.name,
      period: period.id,
      collectedTiyn: 0,
      accruedTiyn: 0,
      deductedTiyn: 0,
      netTiyn: 0,
      undistributedTiyn: 0,
      undistributedByReason: {},
      undistributedByAge: {},
      licences: [],
    };
    const due = new Map<string, { licenseeId: string; dueTiyn: number }>();
    for (const r of rows) {
      const gross = Number(r.gross);
      s.collectedTiyn += gross;
      const d = due.get(r.licence_id!) ?? { licenseeId: r.licensee_id, dueTiyn: 0 };
      d.dueTiyn += gross;
      due.set(r.licence_id!, d);
      if (r.reserve_reason === null) {
        s.accruedTiyn += gross;
        s.deductedTiyn += Number(r.deduction);
        s.netTiyn += Number(r.net);
      } else {
        s.undistributedTiyn += gross;
        if (gross !== 0)
          s.undistributedByReason[r.reserve_reason] =
            (s.undistributedByReason[r.reserve_reason] ?? 0) + gross;
      }
    }
    s.licences = [...due].sort().map(([licenceId, v]) => ({ licenceId, ...v }));
    // Age of what is still held: effective reserve lines by the time their entry was written.
    const held = await this.db
      .selectFrom('accrual_lines as l')
      .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
      .innerJoin('licences as c', 'c.id', 'e.licence_id')
      .select((eb) => ['e.created_at_ms', eb.fn.sum<string | number>('l.gross_tiyn').as('gross')])
      .where('e.period', '=', period.id)
      .where('c.cmo_id', '=', cmoId)
      .where('l.reverses_seq', 'is', null)
      .where('l.reserve_reason', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(selectFrom('accrual_lines as r').select('r.seq').whereRef('r.reverses_seq', '=', 'l.seq')),
        ),
      )
      .groupBy('e.created_at_ms')
      .execute();
    for (const h of held) {
      const label = ageBucket(nowMs - Number(h.created_at_ms));
      s.undistributedByAge[label] = (s.undistributedByAge[label] ?? 0) + Number(h.gross);
    }
    return s;
  }

  /** Undistributed money still held, by period, licence and reason (effective reserve lines). */
  async reserve(): Promise<
    Array<{ period: string; licenceId: string; reason: string; grossTiyn: number; oldestMs: number }>
  > {
    const rows = await this.db
      .selectFrom('accrual_lines as l')
      .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
      .select((eb) => [
        'e.period',
        'e.licence_id',
        'l.reserve_reason',
        eb.fn.sum<string | number>('l.gross_tiyn').as('gross'),
        eb.fn.min('e.created_at_ms').as('oldest'),
      ])
      .where('l.reverses_seq', 'is', null)
      .where('l.reserve_reason', 'is not', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(selectFrom('accrual_lines as r').select('r.seq').whereRef('r.reverses_seq', '=', 'l.seq')),
        ),
      )
      .groupBy(['e.period', 'e.licence_id', 'l.reserve_reason'])
      .orderBy('e.period')
      .orderBy('e.licence_id')
      .orderBy('l.reserve_reason')
      .execute();
    return rows
      .map((r) => ({
        period: r.period!,
        licenceId: r.licence_id!,
        reason: r.reserve_reason!,
        grossTiyn: Number(r.gross),
        oldestMs: Number(r.oldest),
      }))
      .filter((r) => r.grossTiyn !== 0);
  }

  /** Periods with undistributed money, to accrue again after the catalogue was fixed. */
  async periodsWithReserve(): Promise<string[]> {
    return [...new Set((await this.reserve()).map((r) => r.period))].sort();
  }
}

function canonicalDigest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * The lines of the given entries, in seq order. An entry knows its first line and count, so its lines are
 * a seq range (a rowid range on SQLite); ranges closer than a few thousand lines are read as one range
 * and filtered, so a channel's lines (written together) take one query.
 */
async function linesOfEntries(
  db: Db,
  entries: ReadonlyArray<{
    seq: number;
    first_line_seq: number | null;
    lines_count: number;
    payload_json: string;
  }>,
  raw: RawSqlite | null = null,
): Promise<AccrualLine[]> {
  const tariffOf = new Map<number, string>();
  const ranges: Array<[number, number]> = [];
  for (const e of entries) {
    if (e.first_line_seq === null || Number(e.lines_count) === 0) continue;
    tariffOf.set(
      Number(e.seq),
      (JSON.parse(e.payload_json) as { tariffVersionId?: string }).tariffVersionId ?? '',
    );
    ranges.push([Number(e.first_line_seq), Number(e.first_line_seq) + Number(e.lines_count) - 1]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 5000) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const out: AccrualLine[] = [];
  if (raw) {
    // rows as arrays from a statement prepared once: re-runs read every line of the period
    const st = prepared(
      raw,
      `select ${LINE_COLUMNS.join(', ')} from accrual_lines where seq >= ? and seq <= ? order by seq`,
    );
    for (const [a, b] of merged) {
      for (const r of st.raw(true).all(a, b) as LineTuple[]) {
        const tv = tariffOf.get(r[1]);
        if (tv !== undefined) out.push(tupleLine(r, tv));
      }
    }
    return out;
  }
  for (const [a, b] of merged) {
    const rows = await db
      .selectFrom('accrual_lines')
      .selectAll()
      .where('seq', '>=', a)
      .where('seq', '<=', b)
      .orderBy('seq')
      .execute();
    for (const r of rows) {
      const tv = tariffOf.get(Number(r.entry_seq));
      if (tv !== undefined) out.push(toLine(r, tv));
    }
  }
  return out;
}

/** Accumulates bucket changes and appends them to the ledger in transactions of ~20 000 lines. */
class LedgerSink implements AccrualSink {
  private pending: BucketChange[] = [];
  private pendingLines = 0;
  constructor(
    private db: Kysely<DB>,
    private kind: StoreKind,
    private period: string,
    private revision: number,
    private asOfMs: number,
    private raw: RawSqlite | null,
  ) {}

  async append(change: BucketChange): Promise<void> {
    this.pending.push(change);
    this.pendingLines += change.reversals.length + change.additions.length;
    if (this.pendingLines >= 20_000) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingLines = 0;
    await this.db.transaction().execute(async (trx) => {
      const app = new LedgerAppender(trx, this.kind, this.raw);
      await app.open();
      for (const c of batch) {
        const tv = c.licence.tariffVersion.id;
        const tuples: LineTuple[] = [];
        for (const r of c.reversals) {
          tuples.push([
            0,
            0,
            r.seq,
            r.detectionId,
            r.rightType,
            r.holderId,
            r.reserveReason,
            r.shareId,
            r.subjectId,
            -r.airtimeMs || 0,
            -r.weightedUs || 0,
            -r.grossTiyn || 0,
            -r.deductionTiyn || 0,
            -r.netTiyn || 0,
          ]);
        }
        for (const d of c.additions) {
          tuples.push([
            0,
            0,
            null,
            d.detectionId,
            d.rightType,
            d.holderId,
            d.reserveReason,
            d.shareId,
            d.subjectId,
            d.airtimeMs,
            d.weightedUs,
            d.grossTiyn,
            d.deductionTiyn,
            d.netTiyn,
          ]);
        }
        app.appendTuples(
          {
            kind: 'accrual',
            period: this.period,
            licenceId: c.licence.licence.id,
            channelId: c.bucket.channelId,
            day: c.bucket.day,
            revision: this.revision,
            payload: {
              cmoId: c.licence.cmo.id,
              licenseeId: c.licence.licensee.id,
              tariffVersionId: tv,
              bucketUnits: c.bucketUnits,
              bucketAmountTiyn: c.bucketAmountTiyn,
              reversals: c.reversals.length,
              additions: c.additions.length,
            },
            createdAtMs: this.asOfMs,
          },
          tuples,
        );
        if (app.pendingLines >= 10_000) await app.writePending();
      }
      await app.close();
    });
  }
}

/** Small caches for report assembly (catalogue and detection lookups by id). */
class ReportContext {
  private channels = new Map<string, { id: string; name: string; time_zone: string } | undefined>();
  private recordings = new Map<string, Awaited<ReturnType<CatalogRepository['getRecording']>>>();
  private shares = new Map<string, Share | null>();
  private works = new Map<string, Awaited<ReturnType<CatalogRepository['getWork']>>>();
  private licences = new Map<string, Awaited<ReturnType<CatalogRepository['getLicence']>>>();
  private peopleCache = new Map<string, { iswcs: string[]; composers: string[]; performers: string[] }>();
  constructor(
    private db: Kysely<DB>,
    private catalog: CatalogRepository,
  ) {}
  async detections(ids: string[]): Promise<Map<string, DB['detections']>> {
    const out = new Map<string, DB['detections']>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.db
        .selectFrom('detections')
        .selectAll()
        .where('id', 'in', unique.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.id, r);
    }
    return out;
  }
  async channel(id: string) {
    if (!this.channels.has(id))
      this.channels.set(
        id,
        await this.db
          .selectFrom('channels')
          .select(['id', 'name', 'time_zone'])
          .where('id', '=', id)
          .executeTakeFirst(),
      );
    return this.channels.get(id);
  }
  async recording(id: string) {
    if (!this.recordings.has(id)) this.recordings.set(id, await this.catalog.getRecording(id));
    return this.recordings.get(id) ?? null;
  }
  async share(id: string) {
    if (!this.shares.has(id)) this.shares.set(id, await this.catalog.getShare(id));
    return this.shares.get(id) ?? null;
  }
  async work(id: string) {
    if (!this.works.has(id)) this.works.set(id, await this.catalog.getWork(id));
    return this.works.get(id) ?? null;
  }
  async licence(id: string) {
    if (!this.licences.has(id)) this.licences.set(id, await this.catalog.getLicence(id));
    return this.licences.get(id) ?? null;
  }
  async people(recordingId: string) {
    let p = this.peopleCache.get(recordingId);
    if (p) return p;
    const rec = await this.recording(recordingId);
    p = { iswcs: [], composers: [], performers: [] };
    if (rec) {
      for (const w of rec.works) {
        const work = await this.work(w.workId);
        if (work?.iswc) p.iswcs.push(work.iswc);
        for (const c of work?.creators ?? []) {
          if (c.role === 'composer' || c.role === 'lyricist') {
            const h = await this.catalog.getHolder(c.holderId);
            if (h && !p.composers.includes(h.name)) p.composers.push(h.name);
          }
        }
      }
      for (const id of rec.performerIds) {
        const h = await this.catalog.getHolder(id);
        if (h) p.performers.push(h.name);
      }
    }
    this.peopleCache.set(recordingId, p);
    return p;
  }
}

/** Loads recordings' works, active shares and their holders' mandates, in chunks of 500 ids. */
async function loadRecordingRights(
  db: Kysely<DB>,
  catalog: CatalogRepository,
  ids: readonly string[],
): Promise<{ rights: Map<string, RecordingRights>; mandates: Map<string, Mandate[]> }> {
  const rights = new Map<string, RecordingRights>();
  const holders = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const recs = await db.selectFrom('recordings').select('id').where('id', 'in', chunk).execute();
    const rw = await db
      .selectFrom('recording_works')
      .selectAll()
      .where('recording_id', 'in', chunk)
      .orderBy('work_id')
      .execute();
    const workIds = [...new Set(rw.map((r) => r.work_id))];
    const shareRows = await db
      .selectFrom('shares')
      .selectAll()
      .where('retired_at_ms', 'is', null)
      .where((eb) =>
        eb.or([
          eb.and([eb('subject_kind', '=', 'recording'), eb('subject_id', 'in', chunk)]),
          ...(workIds.length
            ? [eb.and([eb('subject_kind', '=', 'work'), eb('subject_id', 'in', workIds)])]
            : []),
        ]),
      )
      .orderBy('id')
      .execute();
    const byKey = new Map<string, Share[]>();
    for (const r of shareRows) {
      const key = `${r.subject_kind}:${r.subject_id}`;
      let l = byKey.get(key);
      if (!l) byKey.set(key, (l = []));
      l.push(toShare(r)); // only rows not retired are selected
      holders.add(r.holder_id);
    }
    for (const rec of recs) {
      const works = rw
        .filter((r) => r.recording_id === rec.id)
        .map((r) => ({ workId: r.work_id, portionBp: Number(r.portion_bp) }));
      const shares = new Map<string, Share[]>();
      const own = byKey.get(`recording:${rec.id}`);
      if (own) shares.set(`recording:${rec.id}`, own);
      for (const w of works) {
        const ws = byKey.get(`work:${w.workId}`);
        if (ws) shares.set(`work:${w.workId}`, ws);
      }
      rights.set(rec.id, { recordingId: rec.id, known: true, works, shares });
    }
  }
  const mandates = await catalog.mandatesOf([...holders]);
  return { rights, mandates };
}
