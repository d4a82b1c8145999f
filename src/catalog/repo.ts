import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../store/index.js';
import { parseCatalogCsv, type CatalogImportItem, type CsvImportKind, type ShareImport } from './csv.js';
import {
  parseCwr,
  type CwrFile,
  type CwrRecordAck,
  type CwrWorkRegistration,
  type TransactionStatus,
} from './cwr.js';
import { assertPeriod, findLicenceOverlap, findMandateOverlap, findShareConflicts } from './rules.js';
import {
  CatalogError,
  FULL_SHARE_BP,
  HOLDER_ROLES,
  LICENSEE_CATEGORIES,
  RIGHT_TYPES,
  type Cmo,
  type HolderRole,
  type Licence,
  type Licensee,
  type Mandate,
  type Recording,
  type RightType,
  type RightsHolder,
  type Share,
  type ShareConflict,
  type ShareSubjectKind,
  type Tariff,
  type TariffVersion,
  type Work,
} from './types.js';
import {
  formatBp,
  formatDateMs,
  parseBin,
  parseIin,
  parseIpiNameNumber,
  parseIsrc,
  parseIswc,
} from './validate.js';

/** Kysely repository of the catalogue. Returns domain types; validates before writing; clear errors. */

type Db = Kysely<DB> | Transaction<DB>;

function shortHash(...parts: Array<string | number | null>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** A shares row as the domain's Share. */
export function toShare(r: DB['shares']): Share {
  return {
    id: r.id,
    subjectKind: r.subject_kind as ShareSubjectKind,
    subjectId: r.subject_id,
    rightType: r.right_type as RightType,
    holderId: r.holder_id,
    shareBp: Number(r.share_bp),
    validFromMs: Number(r.valid_from_ms),
    validToMs: r.valid_to_ms === null ? null : Number(r.valid_to_ms),
    version: Number(r.version),
    supersedesId: r.supersedes_id,
    retiredAtMs: r.retired_at_ms === null ? null : Number(r.retired_at_ms),
  };
}

function toMandate(r: DB['mandates']): Mandate {
  return {
    id: r.id,
    holderId: r.holder_id,
    cmoId: r.cmo_id,
    rightType: r.right_type as RightType,
    validFromMs: Number(r.valid_from_ms),
    validToMs: r.valid_to_ms === null ? null : Number(r.valid_to_ms),
  };
}

function toLicence(r: DB['licences']): Licence {
  return {
    id: r.id,
    licenseeId: r.licensee_id,
    cmoId: r.cmo_id,
    tariffId: r.tariff_id,
    validFromMs: Number(r.valid_from_ms),
    validToMs: r.valid_to_ms === null ? null : Number(r.valid_to_ms),
  };
}

export function toTariffVersion(r: DB['tariff_versions']): TariffVersion {
  return {
    id: r.id,
    tariffId: r.tariff_id,
    version: Number(r.version),
    validFromMs: Number(r.valid_from_ms),
    rulesJson: r.rules_json,
    rulesHash: r.rules_hash,
  };
}

export type ShareChange = 'added' | 'replaced' | 'unchanged';

export interface ImportRowReport {
  line: number;
  status: 'accepted' | 'rejected';
  message: string;
}

export interface CsvImportReport {
  kind: CsvImportKind;
  accepted: number;
  rejected: number;
  rows: ImportRowReport[];
}

export interface CwrTransactionReport {
  line: number;
  transactionSeq: number;
  type: 'NWR' | 'REV';
  workId: string | null;
  title: string;
  status: TransactionStatus;
  message: string;
}

export interface CwrImportReport {
  version: '2.1' | '2.2';
  sender: string;
  transactions: CwrTransactionReport[];
  records: CwrRecordAck[];
}

export class CatalogRepository {
  constructor(
    readonly db: Kysely<DB>,
    private now: () => number = Date.now,
  ) {}

  // ---- CMOs, holders ------------------------------------------------------------------------------

  async addCmo(cmo: Cmo, db: Db = this.db): Promise<void> {
    if (!cmo.id.trim() || !cmo.name.trim()) throw new CatalogError('a CMO needs an id and a name');
    const rightTypes = [...new Set(cmo.rightTypes)];
    if (rightTypes.length === 0 || rightTypes.some((r) => !RIGHT_TYPES.includes(r))) {
      throw new CatalogError(`CMO ${cmo.id}: right types must be some of ${RIGHT_TYPES.join(', ')}`);
    }
    const row = {
      id: cmo.id,
      name: cmo.name,
      bin: cmo.bin ? parseBin(cmo.bin, `BIN of CMO ${cmo.id}`) : null,
      right_types_json: JSON.stringify(rightTypes),
    };
    await db
      .insertInto('cmos')
      .values({ ...row, created_at_ms: this.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async getCmo(id: string, db: Db = this.db): Promise<Cmo | null> {
    const r = await db.selectFrom('cmos').selectAll().where('id', '=', id).executeTakeFirst();
    return r
      ? { id: r.id, name: r.name, bin: r.bin, rightTypes: JSON.parse(r.right_types_json) as RightType[] }
      : null;
  }

  async mustCmo(id: string, db: Db = this.db): Promise<Cmo> {
    const c = await this.getCmo(id, db);
    if (!c) throw new CatalogError(`unknown CMO "${id}"`);
    return c;
  }

  async listCmos(): Promise<Cmo[]> {
    const rows = await this.db.selectFrom('cmos').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      bin: r.bin,
      rightTypes: JSON.parse(r.right_types_json) as RightType[],
    }));
  }

  async upsertHolder(h: RightsHolder, db: Db = this.db): Promise<void> {
    if (!h.id.trim() || !h.name.trim()) throw new CatalogError('a rights holder needs an id and a name');
    if (h.kind !== 'person' && h.kind !== 'entity')
      throw new CatalogError(`holder ${h.id}: kind must be person or entity`);
    if (h.kind === 'person' && h.bin)
      throw new CatalogError(`holder ${h.id}: a person has an IIN, not a BIN`);
    if (h.kind === 'entity' && h.iin)
      throw new CatalogError(`holder ${h.id}: a legal entity has a BIN, not an IIN`);
    for (const r of h.roles)
      if (!HOLDER_ROLES.includes(r)) throw new CatalogError(`holder ${h.id}: unknown role "${r}"`);
    const row = {
      kind: h.kind,
      name: h.name,
      iin: h.iin ? parseIin(h.iin) : null,
      bin: h.bin ? parseBin(h.bin) : null,
      ipi_name_number: h.ipiNameNumber ? parseIpiNameNumber(h.ipiNameNumber) : null,
      roles_json: JSON.stringify([...new Set(h.roles)].sort()),
    };
    for (const [col, value, what] of [
      ['iin', row.iin, 'IIN'],
      ['bin', row.bin, 'BIN'],
      ['ipi_name_number', row.ipi_name_number, 'IPI name number'],
    ] as const) {
      if (value === null) continue;
      const other = await db
        .selectFrom('rights_holders')
        .select('id')
        .where(col, '=', value)
        .where('id', '!=', h.id)
        .executeTakeFirst();
      if (other)
        throw new CatalogError(`holder ${h.id}: ${what} ${value} already belongs to holder ${other.id}`);
    }
    await db
      .insertInto('rights_holders')
      .values({ id: h.id, ...row, created_at_ms: this.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async getHolder(id: string, db: Db = this.db): Promise<RightsHolder | null> {
    const r = await db.selectFrom('rights_holders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    return {
      id: r.id,
      kind: r.kind as 'person' | 'entity',
      name: r.name,
      iin: r.iin,
      bin: r.bin,
      ipiNameNumber: r.ipi_name_number,
      roles: JSON.parse(r.roles_json) as HolderRole[],
    };
  }

  private async mustHolder(id: string, db: Db): Promise<void> {
    const r = await db.selectFrom('rights_holders').select('id').where('id', '=', id).executeTakeFirst();
    if (!r) throw new CatalogError(`unknown rights holder "${id}"`);
  }

  // ---- works, recordings --------------------------------------------------------------------------

  async upsertWork(w: Work, db: Db = this.db): Promise<void> {
    if (!w.id.trim() || !w.title.trim()) throw new CatalogError('a work needs an id and a title');
    const iswc = w.iswc ? parseIswc(w.iswc) : null;
    if (iswc) {
      const other = await db
        .selectFrom('works')
        .select('id')
        .where('iswc', '=', iswc)
        .where('id', '!=', w.id)
        .executeTakeFirst();
      if (other) throw new CatalogError(`work ${w.id}: ISWC ${iswc} already belongs to work ${other.id}`);
    }
    for (const c of w.creators) await this.mustHolder(c.holderId, db);
    const row = { iswc, title: w.title, title_kk: w.titleKk, title_ru: w.titleRu, title_lat: w.titleLat };
    await db
      .insertInto('works')
      .values({ id: w.id, ...row, created_at_ms: this.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
    await db.deleteFrom('work_creators').where('work_id', '=', w.id).execute();
    const creators = [...new Map(w.creators.map((c) => [`${c.holderId}|${c.role}`, c])).values()];
    if (creators.length) {
      await db
        .insertInto('work_creators')
        .values(creators.map((c) => ({ work_id: w.id, holder_id: c.holderId, role: c.role })))
        .execute();
    }
  }

  async getWork(id: string, db: Db = this.db): Promise<Work | null> {
    const r = await db.selectFrom('works').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    const creators = await db
      .selectFrom('work_creators')
      .selectAll()
      .where('work_id', '=', id)
      .orderBy('holder_id')
      .orderBy('role')
      .execute();
    return {
      id: r.id,
      iswc: r.iswc,
      title: r.title,
      titleKk: r.title_kk,
      titleRu: r.title_ru,
      titleLat: r.title_lat,
      creators: creators.map((c) => ({ holderId: c.holder_id, role: c.role as HolderRole })),
    };
  }

  async upsertRecording(rec: Recording, db: Db = this.db): Promise<void> {
    if (!rec.id.trim() || !rec.title.trim()) throw new CatalogError('a recording needs an id and a title');
    const isrc = rec.isrc ? parseIsrc(rec.isrc) : null;
    if (isrc) {
      const other = await db
        .selectFrom('recordings')
        .select('id')
        .where('isrc', '=', isrc)
        .where('id', '!=', rec.id)
        .executeTakeFirst();
      if (other)
        throw new CatalogError(`recording ${rec.id}: ISRC ${isrc} already belongs to recording ${other.id}`);
    }
    if (rec.durationMs !== null && !(Number.isSafeInteger(rec.durationMs) && rec.durationMs > 0)) {
      throw new CatalogError(`recording ${rec.id}: duration must be a positive number of milliseconds`);
    }
    const portions = rec.works.reduce((s, w) => s + w.portionBp, 0);
    if (rec.works.length > 0 && portions !== FULL_SHARE_BP) {
      throw new CatalogError(`recording ${rec.id}: work portions sum to ${formatBp(portions)} %, not 100 %`);
    }
    for (const w of rec.works) {
      const ok = await db.selectFrom('works').select('id').where('id', '=', w.workId).executeTakeFirst();
      if (!ok) throw new CatalogError(`recording ${rec.id}: unknown work "${w.workId}"`);
    }
    for (const h of [...rec.performerIds, ...(rec.producerId ? [rec.producerId] : [])])
      await this.mustHolder(h, db);
    const row = { isrc, title: rec.title, duration_ms: rec.durationMs, fingerprint_ref: rec.fingerprintRef };
    await db
      .insertInto('recordings')
      .values({ id: rec.id, ...row, created_at_ms: this.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
    await db.deleteFrom('recording_works').where('recording_id', '=', rec.id).execute();
    if (rec.works.length) {
      await db
        .insertInto('recording_works')
        .values(rec.works.map((w) => ({ recording_id: rec.id, work_id: w.workId, portion_bp: w.portionBp })))
        .execute();
    }
    await db.deleteFrom('recording_contributors').where('recording_id', '=', rec.id).execute();
    const contributors = [
      ...[...new Set(rec.performerIds)].map((h) => ({
        recording_id: rec.id,
        holder_id: h,
        role: 'performer',
      })),
      ...(rec.producerId ? [{ recording_id: rec.id, holder_id: rec.producerId, role: 'producer' }] : []),
    ];
    if (contributors.length) await db.insertInto('recording_contributors').values(contributors).execute();
  }

  async getRecording(id: string, db: Db = this.db): Promise<Recording | null> {
    const r = await db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return null;
    const works = await db
      .selectFrom('recording_works')
      .selectAll()
      .where('recording_id', '=', id)
      .orderBy('work_id')
      .execute();
    const contributors = await db
      .selectFrom('recording_contributors')
      .selectAll()
      .where('recording_id', '=', id)
      .orderBy('holder_id')
      .execute();
    return {
      id: r.id,
      isrc: r.isrc,
      title: r.title,
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      performerIds: contributors.filter((c) => c.role === 'performer').map((c) => c.holder_id),
      producerId: contributors.find((c) => c.role === 'producer')?.holder_id ?? null,
      works: works.map((w) => ({ workId: w.work_id, portionBp: Number(w.portion_bp) })),
      fingerprintRef: r.fingerprint_ref,
    };
  }

  // ---- shares and conflicts -----------------------------------------------------------------------

  /**
   * Registers a share. An active share of the same holder, subject and right type whose validity overlaps
   * is retired and replaced by this one as its next version (shares are never edited in place). Shares
   * over 100 % are kept and recorded as a conflict until resolved.
   */
  async addShare(s: ShareImport, db?: Db): Promise<{ change: ShareChange; share: Share }> {
    if (!db) return this.db.transaction().execute((trx) => this.addShare(s, trx));
    assertPeriod(s.validFromMs, s.validToMs, `share of ${s.holderId} in ${s.subjectKind} ${s.subjectId}`);
    if (!Number.isSafeInteger(s.shareBp) || s.shareBp < 0 || s.shareBp > FULL_SHARE_BP) {
      throw new CatalogError(`share of ${s.holderId} in ${s.subjectId}: must be between 0 and 100 %`);
    }
    if (!RIGHT_TYPES.includes(s.rightType)) throw new CatalogError(`unknown right type "${s.rightType}"`);
    if ((s.subjectKind === 'work') !== (s.rightType === 'performing')) {
      throw new CatalogError(
        `a ${s.subjectKind} does not carry the ${s.rightType} right (works: performing; recordings: performer, producer)`,
      );
    }
    const subject = await db
      .selectFrom(s.subjectKind === 'work' ? 'works' : 'recordings')
      .select('id')
      .where('id', '=', s.subjectId)
      .executeTakeFirst();
    if (!subject) throw new CatalogError(`unknown ${s.subjectKind} "${s.subjectId}"`);
    await this.mustHolder(s.holderId, db);
    const existing = (
      await db
        .selectFrom('shares')
        .selectAll()
        .where('subject_kind', '=', s.subjectKind)
        .where('subject_id', '=', s.subjectId)
        .where('right_type', '=', s.rightType)
        .where('holder_id', '=', s.holderId)
        .where('retired_at_ms', 'is', null)
        .execute()
    ).map(toShare);
    const overlapping = existing.filter(
      (e) => e.validFromMs < (s.validToMs ?? Infinity) && s.validFromMs < (e.validToMs ?? Infinity),
    );
    const same = overlapping.find(
      (e) => e.shareBp === s.shareBp && e.validFromMs === s.validFromMs && e.validToMs === s.validToMs,
    );
    if (same && overlapping.length === 1) return { change: 'unchanged', share: same };
    const now = this.now();
    const prev = overlapping.sort((a, b) => b.version - a.version)[0];
    const allVersions = await db
      .selectFrom('shares')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('subject_kind', '=', s.subjectKind)
      .where('subject_id', '=', s.subjectId)
      .where('right_type', '=', s.rightType)
      .where('holder_id', '=', s.holderId)
      .executeTakeFirst();
    const version = Number(allVersions?.v ?? 0) + 1;
    const id = `SH-${shortHash(s.subjectKind, s.subjectId, s.rightType, s.holderId, version)}`;
    for (const o of overlapping) {
      await db.updateTable('shares').set({ retired_at_ms: now }).where('id', '=', o.id).execute();
    }
    const share: Share = {
      id,
      subjectKind: s.subjectKind,
      subjectId: s.subjectId,
      rightType: s.rightType,
      holderId: s.holderId,
      shareBp: s.shareBp,
      validFromMs: s.validFromMs,
      validToMs: s.validToMs,
      version,
      supersedesId: prev?.id ?? null,
      retiredAtMs: null,
    };
    await db
      .insertInto('shares')
      .values({
        id,
        subject_kind: share.subjectKind,
        subject_id: share.subjectId,
        right_type: share.rightType,
        holder_id: share.holderId,
        share_bp: share.shareBp,
        valid_from_ms: share.validFromMs,
        valid_to_ms: share.validToMs,
        version,
        supersedes_id: share.supersedesId,
        retired_at_ms: null,
        created_at_ms: now,
      })
      .execute();
    await this.refreshConflicts(s.subjectKind, s.subjectId, s.rightType, db);
    return { change: overlapping.length ? 'replaced' : 'added', share };
  }

  /** Retires a share version without a replacement (a share registered in error). */
  async withdrawShare(shareId: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const r = await trx.selectFrom('shares').selectAll().where('id', '=', shareId).executeTakeFirst();
      if (!r) throw new CatalogError(`unknown share "${shareId}"`);
      if (r.retired_at_ms !== null) throw new CatalogError(`share ${shareId} is already retired`);
      await trx.updateTable('shares').set({ retired_at_ms: this.now() }).where('id', '=', shareId).execute();
      await this.refreshConflicts(
        r.subject_kind as ShareSubjectKind,
        r.subject_id,
        r.right_type as RightType,
        trx,
      );
    });
  }

  async sharesOf(
    subjectKind: ShareSubjectKind,
    subjectId: string,
    includeRetired = false,
    db: Db = this.db,
  ): Promise<Share[]> {
    let q = db
      .selectFrom('shares')
      .selectAll()
      .where('subject_kind', '=', subjectKind)
      .where('subject_id', '=', subjectId);
    if (!includeRetired) q = q.where('retired_at_ms', 'is', null);
    return (await q.orderBy('right_type').orderBy('holder_id').orderBy('version').execute()).map(toShare);
  }

  async getShare(id: string, db: Db = this.db): Promise<Share | null> {
    const r = await db.selectFrom('shares').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toShare(r) : null;
  }

  /** Recomputes the conflicts of one subject and right type: new ones recorded, vanished ones resolved. */
  private async refreshConflicts(
    kind: ShareSubjectKind,
    subjectId: string,
    rightType: RightType,
    db: Db,
  ): Promise<void> {
    const shares = await this.sharesOf(kind, subjectId, false, db);
    const spans = findShareConflicts(shares.filter((s) => s.rightType === rightType));
    const open = await db
      .selectFrom('share_conflicts')
      .selectAll()
      .where('subject_kind', '=', kind)
      .where('subject_id', '=', subjectId)
      .where('right_type', '=', rightType)
      .where('resolved_at_ms', 'is', null)
      .execute();
    const now = this.now();
    const keyOf = (from: number, to: number | null, total: number) => `${from}|${to}|${total}`;
    const wanted = new Set(spans.map((sp) => keyOf(sp.fromMs, sp.toMs, sp.totalBp)));
    for (const o of open) {
      if (
        !wanted.has(keyOf(Number(o.from_ms), o.to_ms === null ? null : Number(o.to_ms), Number(o.total_bp)))
      ) {
        await db.updateTable('share_conflicts').set({ resolved_at_ms: now }).where('id', '=', o.id).execute();
      }
    }
    const have = new Set(
      open.map((o) =>
        keyOf(Number(o.from_ms), o.to_ms === null ? null : Number(o.to_ms), Number(o.total_bp)),
      ),
    );
    for (const sp of spans) {
      const key = keyOf(sp.fromMs, sp.toMs, sp.totalBp);
      if (have.has(key)) continue;
      await db
        .insertInto('share_conflicts')
        .values({
          id: `SC-${shortHash(kind, subjectId, rightType, sp.fromMs, sp.toMs, sp.totalBp, now)}`,
          subject_kind: kind,
          subject_id: subjectId,
          right_type: rightType,
          from_ms: sp.fromMs,
          to_ms: sp.toMs,
          total_bp: sp.totalBp,
          detected_at_ms: now,
          resolved_at_ms: null,
        })
        .execute();
    }
  }

  async conflicts(includeResolved = false): Promise<ShareConflict[]> {
    let q = this.db.selectFrom('share_conflicts').selectAll();
    if (!includeResolved) q = q.where('resolved_at_ms', 'is', null);
    const rows = await q
      .orderBy('subject_kind')
      .orderBy('subject_id')
      .orderBy('right_type')
      .orderBy('from_ms')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      subjectKind: r.subject_kind as ShareSubjectKind,
      subjectId: r.subject_id,
      rightType: r.right_type as RightType,
      fromMs: Number(r.from_ms),
      toMs: r.to_ms === null ? null : Number(r.to_ms),
      totalBp: Number(r.total_bp),
      detectedAtMs: Number(r.detected_at_ms),
      resolvedAtMs: r.resolved_at_ms === null ? null : Number(r.resolved_at_ms),
    }));
  }

  // ---- mandates -----------------------------------------------------------------------------------

  /** A holder is represented by exactly one CMO per right type at any time: overlaps are refused. */
  async addMandate(m: Omit<Mandate, 'id'>, db?: Db): Promise<Mandate> {
    if (!db) return this.db.transaction().execute((trx) => this.addMandate(m, trx));
    assertPeriod(m.validFromMs, m.validToMs, `mandate of ${m.holderId}`);
    await this.mustHolder(m.holderId, db);
    const cmo = await this.mustCmo(m.cmoId, db);
    if (!cmo.rightTypes.includes(m.rightType)) {
      throw new CatalogError(
        `CMO ${cmo.id} does not manage the ${m.rightType} right (it manages ${cmo.rightTypes.join(', ')})`,
      );
    }
    const existing = (
      await db.selectFrom('mandates').selectAll().where('holder_id', '=', m.holderId).execute()
    ).map(toMandate);
    const clash = findMandateOverlap(existing, m);
    if (clash) {
      throw new CatalogError(
        `mandate of ${m.holderId} for the ${m.rightType} right overlaps mandate ${clash.id} with CMO ${clash.cmoId} ` +
          `(${formatDateMs(clash.validFromMs)} - ${clash.validToMs === null ? 'open' : formatDateMs(clash.validToMs)}): ` +
          'a rights holder is represented by exactly one CMO for a right type; end the other mandate first',
      );
    }
    const id = `MD-${shortHash(m.holderId, m.cmoId, m.rightType, m.validFromMs)}`;
    await db
      .insertInto('mandates')
      .values({
        id,
        holder_id: m.holderId,
        cmo_id: m.cmoId,
        right_type: m.rightType,
        valid_from_ms: m.validFromMs,
        valid_to_ms: m.validToMs,
        created_at_ms: this.now(),
      })
      .execute();
    return { id, ...m };
  }

  /** Ends an open mandate (the holder moves to another CMO, say). */
  async endMandate(id: string, validToMs: number): Promise<void> {
    const r = await this.db.selectFrom('mandates').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new CatalogError(`unknown mandate "${id}"`);
    if (r.valid_to_ms !== null)
      throw new CatalogError(`mandate ${id} already ends on ${formatDateMs(Number(r.valid_to_ms))}`);
    assertPeriod(Number(r.valid_from_ms), validToMs, `mandate ${id}`);
    await this.db.updateTable('mandates').set({ valid_to_ms: validToMs }).where('id', '=', id).execute();
  }

  async mandatesOf(holderIds: readonly string[], db: Db = this.db): Promise<Map<string, Mandate[]>> {
    const out = new Map<string, Mandate[]>();
    for (let i = 0; i < holderIds.length; i += 500) {
      const chunk = holderIds.slice(i, i + 500);
      const rows = await db
        .selectFrom('mandates')
        .selectAll()
        .where('holder_id', 'in', chunk)
        .orderBy('id')
        .execute();
      for (const r of rows) {
        let l = out.get(r.holder_id);
        if (!l) out.set(r.holder_id, (l = []));
        l.push(toMandate(r));
      }
    }
    return out;
  }

  // ---- licensees, licences, tariffs ---------------------------------------------------------------

  async upsertLicensee(l: Licensee, db: Db = this.db): Promise<void> {
    if (!l.id.trim() || !l.name.trim()) throw new CatalogError('a licensee needs an id and a name');
    if (!LICENSEE_CATEGORIES.includes(l.category)) {
      throw new CatalogError(`licensee ${l.id}: category must be one of ${LICENSEE_CATEGORIES.join(', ')}`);
    }
    const row = {
      name: l.name,
      bin: l.bin ? parseBin(l.bin) : null,
      category: l.category,
      platform_from_ms: l.platformFromMs,
    };
    await db
      .insertInto('licensees')
      .values({ id: l.id, ...row, created_at_ms: this.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet(row))
      .execute();
  }

  async getLicensee(id: string, db: Db = this.db): Promise<Licensee | null> {
    const r = await db.selectFrom('licensees').selectAll().where('id', '=', id).executeTakeFirst();
    return r
      ? {
          id: r.id,
          name: r.name,
          bin: r.bin,
          category: r.category as Licensee['category'],
          platformFromMs: Number(r.platform_from_ms),
        }
      : null;
  }

  async addTariff(t: Tariff, db: Db = this.db): Promise<void> {
    if (!t.id.trim() || !t.name.trim()) throw new CatalogError('a tariff needs an id and a name');
    if (t.id.includes('@'))
      throw new CatalogError(`tariff id "${t.id}" must not contain @ (it separates the version)`);
    await this.mustCmo(t.cmoId, db);
    const existing = await db.selectFrom('tariffs').selectAll().where('id', '=', t.id).executeTakeFirst();
    if (existing) {
      if (existing.cmo_id !== t.cmoId)
        throw new CatalogError(`tariff ${t.id} belongs to CMO ${existing.cmo_id}`);
      await db.updateTable('tariffs').set({ name: t.name }).where('id', '=', t.id).execute();
      return;
    }
    await db
      .insertInto('tariffs')
      .values({ id: t.id, cmo_id: t.cmoId, name: t.name, created_at_ms: this.now() })
      .execute();
  }

  async getTariff(id: string, db: Db = this.db): Promise<Tariff | null> {
    const r = await db.selectFrom('tariffs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { id: r.id, cmoId: r.cmo_id, name: r.name } : null;
  }

  async tariffVersions(tariffId: string, db: Db = this.db): Promise<TariffVersion[]> {
    const rows = await db
      .selectFrom('tariff_versions')
      .selectAll()
      .where('tariff_id', '=', tariffId)
      .orderBy('version')
      .execute();
    return rows.map(toTariffVersion);
  }

  async addLicence(l: Omit<Licence, 'id'> & { id?: string }, db?: Db): Promise<Licence> {
    if (!db) return this.db.transaction().execute((trx) => this.addLicence(l, trx));
    assertPeriod(l.validFromMs, l.validToMs, `licence of ${l.licenseeId}`);
    const licensee = await this.getLicensee(l.licenseeId, db);
    if (!licensee) throw new CatalogError(`unknown licensee "${l.licenseeId}"`);
    await this.mustCmo(l.cmoId, db);
    const tariff = await this.getTariff(l.tariffId, db);
    if (!tariff) throw new CatalogError(`unknown tariff "${l.tariffId}"`);
    if (tariff.cmoId !== l.cmoId)
      throw new CatalogError(`tariff ${tariff.id} belongs to CMO ${tariff.cmoId}, not ${l.cmoId}`);
    const existing = (
      await db.selectFrom('licences').selectAll().where('licensee_id', '=', l.licenseeId).execute()
    ).map(toLicence);
    const clash = findLicenceOverlap(existing, l);
    if (clash)
      throw new CatalogError(`licence of ${l.licenseeId} with CMO ${l.cmoId} overlaps licence ${clash.id}`);
    const id = l.id ?? `LC-${shortHash(l.licenseeId, l.cmoId, l.validFromMs)}`;
    const licence: Licence = {
      id,
      licenseeId: l.licenseeId,
      cmoId: l.cmoId,
      tariffId: l.tariffId,
      validFromMs: l.validFromMs,
      validToMs: l.validToMs,
    };
    await db
      .insertInto('licences')
      .values({
        id,
        licensee_id: licence.licenseeId,
        cmo_id: licence.cmoId,
        tariff_id: licence.tariffId,
        valid_from_ms: licence.validFromMs,
        valid_to_ms: licence.validToMs,
        created_at_ms: this.now(),
      })
      .execute();
    return licence;
  }

  async licencesOf(licenseeId: string): Promise<Licence[]> {
    const rows = await this.db
      .selectFrom('licences')
      .selectAll()
      .where('licensee_id', '=', licenseeId)
      .orderBy('id')
      .execute();
    return rows.map(toLicence);
  }

  async getLicence(id: string, db: Db = this.db): Promise<Licence | null> {
    const r = await db.selectFrom('licences').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toLicence(r) : null;
  }

  /** Licences in force at some time in [fromMs, toMs). */
  async licencesOverlapping(fromMs: number, toMs: number, db: Db = this.db): Promise<Licence[]> {
    const rows = await db
      .selectFrom('licences')
      .selectAll()
      .where('valid_from_ms', '<', toMs)
      .where((eb) => eb.or([eb('valid_to_ms', 'is', null), eb('valid_to_ms', '>', fromMs)]))
      .orderBy('id')
      .execute();
    return rows.map(toLicence);
  }

  async setMci(year: number, valueTiyn: number): Promise<void> {
    if (!Number.isSafeInteger(year) || year < 1990 || year > 2200)
      throw new CatalogError(`year ${year} is not plausible`);
    if (!Number.isSafeInteger(valueTiyn) || valueTiyn <= 0)
      throw new CatalogError('the MCI value must be a positive number of tiyn');
    await this.db
      .insertInto('mci_values')
      .values({ year, value_tiyn: valueTiyn })
      .onConflict((oc) => oc.column('year').doUpdateSet({ value_tiyn: valueTiyn }))
      .execute();
  }

  async mciTiyn(year: number, db: Db = this.db): Promise<number | null> {
    const r = await db
      .selectFrom('mci_values')
      .select('value_tiyn')
      .where('year', '=', year)
      .executeTakeFirst();
    return r ? Number(r.value_tiyn) : null;
  }

  /** Records a licensee's declared revenue for a period; the latest declaration counts. */
  async declareRevenue(licenseeId: string, period: string, revenueTiyn: number): Promise<void> {
    if (!(await this.getLicensee(licenseeId))) throw new CatalogError(`unknown licensee "${licenseeId}"`);
    if (!/^\d{4}-\d{2}$/.test(period)) throw new CatalogError(`period "${period}" is not YYYY-MM`);
    if (!Number.isSafeInteger(revenueTiyn) || revenueTiyn < 0)
      throw new CatalogError('revenue must be a whole, non-negative number of tiyn');
    const now = this.now();
    await this.db
      .insertInto('revenue_declarations')
      .values({
        id: `RV-${shortHash(licenseeId, period, now, revenueTiyn)}`,
        licensee_id: licenseeId,
        period,
        revenue_tiyn: revenueTiyn,
        declared_at_ms: now,
      })
      .execute();
  }

  async declaredRevenue(licenseeId: string, period: string, db: Db = this.db): Promise<number | null> {
    const r = await db
      .selectFrom('revenue_declarations')
      .select('revenue_tiyn')
      .where('licensee_id', '=', licenseeId)
      .where('period', '=', period)
      .orderBy('declared_at_ms', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return r ? Number(r.revenue_tiyn) : null;
  }

  // ---- bulk import --------------------------------------------------------------------------------

  /** Imports a catalogue CSV; each row is applied on its own and reported accepted or rejected with why. */
  async importCsv(text: string, kind?: CsvImportKind): Promise<CsvImportReport> {
    const parsed = parseCatalogCsv(text, kind);
    const report: CsvImportReport = { kind: parsed.kind, accepted: 0, rejected: 0, rows: [] };
    for (const row of parsed.rows) {
      if (row.error || !row.item) {
        report.rejected++;
        report.rows.push({ line: row.line, status: 'rejected', message: row.error ?? 'unreadable row' });
        continue;
      }
      try {
        const message = await this.db.transaction().execute((trx) => this.applyItem(row.item!, trx));
        report.accepted++;
        report.rows.push({ line: row.line, status: 'accepted', message });
      } catch (err) {
        report.rejected++;
        report.rows.push({
          line: row.line,
          status: 'rejected',
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return report;
  }

  private async applyItem(item: CatalogImportItem, db: Db): Promise<string> {
    switch (item.kind) {
      case 'holders':
        await this.upsertHolder(item.holder, db);
        return `holder ${item.holder.id}`;
      case 'works':
        await this.upsertWork(item.work, db);
        return `work ${item.work.id}`;
      case 'recordings':
        await this.upsertRecording(item.recording, db);
        return `recording ${item.recording.id}`;
      case 'shares': {
        const { change, share } = await this.addShare(item.share, db);
        const conflict = await this.openConflictText(share.subjectKind, share.subjectId, share.rightType, db);
        return `share ${share.id} ${change}${conflict}`;
      }
      case 'mandates': {
        const m = await this.addMandate(item.mandate, db);
        return `mandate ${m.id}`;
      }
    }
  }

  private async openConflictText(
    kind: ShareSubjectKind,
    subjectId: string,
    rightType: RightType,
    db: Db,
  ): Promise<string> {
    const c = await db
      .selectFrom('share_conflicts')
      .select(['total_bp'])
      .where('subject_kind', '=', kind)
      .where('subject_id', '=', subjectId)
      .where('right_type', '=', rightType)
      .where('resolved_at_ms', 'is', null)
      .executeTakeFirst();
    return c
      ? `; CONFLICT: ${rightType} shares of ${kind} ${subjectId} sum to ${formatBp(Number(c.total_bp))} %`
      : '';
  }

  /** Imports CWR work registrations and returns the acknowledgement: per transaction and per record. */
  async importCwr(text: string): Promise<CwrImportReport> {
    const file = parseCwr(text);
    const report: CwrImportReport = {
      version: file.version,
      sender: `${file.senderType} ${file.senderId} ${file.senderName}`.trim(),
      transactions: [],
      records: file.records,
    };
    for (const tx of file.registrations) {
      let status = tx.status;
      let message = tx.statusMessage ?? 'accepted';
      let workId: string | null = null;
      if (status !== 'TR') {
        try {
          const applied = await this.db.transaction().execute((trx) => this.applyRegistration(file, tx, trx));
          workId = applied.workId;
          if (applied.duplicate) {
            status = 'DU';
            message = `work already registered as ${applied.workId}: send a REV to revise it`;
          } else if (applied.recordProblems.length) {
            if (status === 'AS') status = 'RA';
            message = applied.recordProblems.join('; ');
            for (const p of applied.recordAcks) report.records.push(p);
          }
        } catch (err) {
          status = 'TR';
          message = err instanceof Error ? err.message : String(err);
        }
      }
      report.transactions.push({
        line: tx.line,
        transactionSeq: tx.transactionSeq,
        type: tx.type,
        workId,
        title: tx.title,
        status,
        message,
      });
    }
    report.records.sort((a, b) => a.line - b.line);
    return report;
  }

  private async holderForParty(
    file: CwrFile,
    party: {
      ipNumber: string;
      ipiNameNumber: string | null;
      name: string;
      kind: 'person' | 'entity';
      roles: HolderRole[];
    },
    db: Db,
  ): Promise<string> {
    if (party.ipiNameNumber) {
      const byIpi = await db
        .selectFrom('rights_holders')
        .selectAll()
        .where('ipi_name_number', '=', party.ipiNameNumber)
        .executeTakeFirst();
      if (byIpi) {
        const roles = [
          ...new Set([...(JSON.parse(byIpi.roles_json) as HolderRole[]), ...party.roles]),
        ].sort();
        await db
          .updateTable('rights_holders')
          .set({ roles_json: JSON.stringify(roles) })
          .where('id', '=', byIpi.id)
          .execute();
        return byIpi.id;
      }
    }
    const id = party.ipiNameNumber
      ? `IPI-${party.ipiNameNumber}`
      : `CWR-${file.senderId || 'X'}-${party.ipNumber}`;
    const existing = await this.getHolder(id, db);
    await this.upsertHolder(
      {
        id,
        kind: party.kind,
        name: party.name,
        iin: existing?.iin ?? null,
        bin: existing?.bin ?? null,
        ipiNameNumber: party.ipiNameNumber,
        roles: [...new Set([...(existing?.roles ?? []), ...party.roles])],
      },
      db,
    );
    return id;
  }

  private async applyRegistration(
    file: CwrFile,
    tx: CwrWorkRegistration,
    db: Db,
  ): Promise<{ workId: string; duplicate: boolean; recordProblems: string[]; recordAcks: CwrRecordAck[] }> {
    const byIswc = tx.iswc
      ? await db.selectFrom('works').select('id').where('iswc', '=', tx.iswc).executeTakeFirst()
      : undefined;
    const workId = byIswc?.id ?? `CWR-${file.senderId || 'X'}-${tx.submitterWorkId}`;
    const known =
      byIswc ?? (await db.selectFrom('works').select('id').where('id', '=', workId).executeTakeFirst());
    if (tx.type === 'NWR' && known)
      return { workId: known.id, duplicate: true, recordProblems: [], recordAcks: [] };
    if (tx.type === 'REV' && !known)
      throw new CatalogError(
        `REV of a work that is not registered (ISWC ${tx.iswc ?? '-'}, work number ${tx.submitterWorkId})`,
      );
    const title = (lang: string) =>
      tx.altTitles.find((a) => a.language?.toUpperCase() === lang && (a.type === 'OL' || a.type === 'AL'))
        ?.title ??
      tx.altTitles.find((a) => a.language?.toUpperCase() === lang)?.title ??
      (tx.language?.toUpperCase() === lang ? tx.title : null);
    const creators: Array<{ holderId: string; role: HolderRole }> = [];
    const shareRows: Array<{ holderId: string; bp: number }> = [];
    const problems: string[] = [];
    const acks: CwrRecordAck[] = [];
    for (const p of tx.publishers) {
      try {
        const holderId = await this.holderForParty(
          file,
          {
            ipNumber: p.ipNumber,
            ipiNameNumber: p.ipiNameNumber,
            name: p.name,
            kind: 'entity',
            roles: ['publisher'],
          },
          db,
        );
        creators.push({ holderId, role: 'publisher' });
        if (p.owns && p.prShareBp > 0) shareRows.push({ holderId, bp: p.prShareBp });
      } catch (err) {
        const msg = `publisher at line ${p.line}: ${err instanceof Error ? err.message : String(err)}`;
        problems.push(msg);
        acks.push({
          line: p.line,
          recordType: 'SPU',
          transactionSeq: tx.transactionSeq,
          status: 'rejected',
          message: msg,
        });
      }
    }
    for (const w of tx.writers) {
      try {
        const name = w.firstName ? `${w.firstName} ${w.lastName}` : w.lastName;
        const holderId = await this.holderForParty(
          file,
          { ipNumber: w.ipNumber, ipiNameNumber: w.ipiNameNumber, name, kind: 'person', roles: w.roles },
          db,
        );
        for (const role of w.roles) creators.push({ holderId, role });
        if (w.prShareBp > 0) shareRows.push({ holderId, bp: w.prShareBp });
      } catch (err) {
        const msg = `writer at line ${w.line}: ${err instanceof Error ? err.message : String(err)}`;
        problems.push(msg);
        acks.push({
          line: w.line,
          recordType: 'SWR',
          transactionSeq: tx.transactionSeq,
          status: 'rejected',
          message: msg,
        });
      }
    }
    await this.upsertWork(
      {
        id: workId,
        iswc: tx.iswc,
        title: tx.title,
        titleKk: title('KK'),
        titleRu: title('RU'),
        titleLat: tx.title,
        creators,
      },
      db,
    );
    // A registration states the work's whole performing-right ownership: it replaces the earlier one.
    const now = this.now();
    const active = await this.sharesOf('work', workId, false, db);
    const incoming = new Map<string, number>();
    for (const s of shareRows) incoming.set(s.holderId, (incoming.get(s.holderId) ?? 0) + s.bp);
    for (const s of active) {
      if (s.rightType === 'performing' && !incoming.has(s.holderId)) {
        await db.updateTable('shares').set({ retired_at_ms: now }).where('id', '=', s.id).execute();
      }
    }
    for (const [holderId, bp] of [...incoming].sort()) {
      await this.addShare(
        {
          subjectKind: 'work',
          subjectId: workId,
          rightType: 'performing',
          holderId,
          shareBp: Math.min(bp, FULL_SHARE_BP),
          validFromMs: 0,
          validToMs: null,
        },
        db,
      );
    }
    await this.refreshConflicts('work', workId, 'performing', db);
    // Performing artists become the performers of the registered recordings.
    const performerIds: string[] = [];
    for (const p of tx.performers) {
      try {
        const id = p.ipiNameNumber ? `IPI-${p.ipiNameNumber}` : `ART-${shortHash(p.name.toUpperCase())}`;
        const existing = await this.getHolder(id, db);
        if (!existing) {
          await this.upsertHolder(
            {
              id,
              kind: 'person',
              name: p.name,
              iin: null,
              bin: null,
              ipiNameNumber: p.ipiNameNumber,
              roles: ['performer'],
            },
            db,
          );
        }
        performerIds.push(id);
      } catch (err) {
        const msg = `performing artist at line ${p.line}: ${err instanceof Error ? err.message : String(err)}`;
        problems.push(msg);
        acks.push({
          line: p.line,
          recordType: 'PER',
          transactionSeq: tx.transactionSeq,
          status: 'rejected',
          message: msg,
        });
      }
    }
    for (const r of tx.recordings) {
      if (!r.isrc) continue;
      const existing = await db
        .selectFrom('recordings')
        .select('id')
        .where('isrc', '=', r.isrc)
        .executeTakeFirst();
      const recId = existing?.id ?? r.isrc;
      const current = await this.getRecording(recId, db);
      const works = current?.works.some((w) => w.workId === workId)
        ? current.works
        : current?.works.length
          ? null
          : [{ workId, portionBp: FULL_SHARE_BP }];
      if (works === null) {
        const msg = `recording ${r.isrc} at line ${r.line} already carries other works; link ${workId} to it by hand (portions)`;
        problems.push(msg);
        acks.push({
          line: r.line,
          recordType: 'REC',
          transactionSeq: tx.transactionSeq,
          status: 'rejected',
          message: msg,
        });
        continue;
      }
      await this.upsertRecording(
        {
          id: recId,
          isrc: r.isrc,
          title: current?.title ?? r.title ?? tx.title,
          durationMs:
            current?.durationMs ??
            (r.durationSec ? r.durationSec * 1000 : tx.durationSec ? tx.durationSec * 1000 : null),
          performerIds: [...new Set([...(current?.performerIds ?? []), ...performerIds])],
          producerId: current?.producerId ?? null,
          works,
          fingerprintRef: current?.fingerprintRef ?? null,
        },
        db,
      );
    }
    return { workId, duplicate: false, recordProblems: problems, recordAcks: acks };
  }
}
