import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import {
  CatalogError,
  parseIsrc,
  type CsvImportKind,
  type CsvImportReport,
  type CwrImportReport,
  type Recording,
  type RightsHolder,
  type Share,
  type ShareConflict,
  type Work,
} from '../../catalog/index.js';
import { enrollFile } from '../../index/index.js';
import { requireRole, type Caller } from '../access.js';
import type { AuditActor } from '../audit.js';
import type { AppContext } from '../context.js';
import { ApiError, badInput, notFound } from '../errors.js';
import type { Paging } from '../http/query.js';

export interface RecordingSummary {
  id: string;
  isrc: string | null;
  title: string;
  durationMs: number | null;
  /** Enrolled in the fingerprint index (it can be recognised on air). */
  enrolled: boolean;
  workTitles: string[];
  performers: string[];
}

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Case-insensitive substring match (ILIKE on PostgreSQL; SQLite's LIKE folds ASCII letters only). */
function matches(ctx: AppContext, column: string, q: string) {
  const op = ctx.store.kind === 'postgres' ? sql`ilike` : sql`like`;
  return sql<boolean>`${sql.ref(column)} ${op} ${likePattern(q)} escape '\\'`;
}

export async function searchRecordings(
  ctx: AppContext,
  p: Caller,
  f: { q?: string; holderId?: string; enrolled?: boolean },
  page: Paging,
): Promise<{ items: RecordingSummary[]; total: number }> {
  const scope = ctx.scope.recordings(p, 'r.id');
  let q = ctx.db.selectFrom('recordings as r');
  if (scope) q = q.where(scope);
  const text = f.q?.trim();
  if (text) {
    const isrc = text.replace(/[-\s]/g, '').toUpperCase();
    q = q.where((eb) =>
      eb.or([
        matches(ctx, 'r.title', text),
        eb('r.isrc', '=', isrc),
        eb('r.id', '=', text),
        eb(
          'r.id',
          'in',
          eb
            .selectFrom('recording_works as rw')
            .innerJoin('works as w', 'w.id', 'rw.work_id')
            .select('rw.recording_id')
            .where((e2) => e2.or([matches(ctx, 'w.title', text), e2('w.iswc', '=', isrc)])),
        ),
        eb(
          'r.id',
          'in',
          eb
            .selectFrom('recording_contributors as rc')
            .innerJoin('rights_holders as h', 'h.id', 'rc.holder_id')
            .select('rc.recording_id')
            .where(matches(ctx, 'h.name', text)),
        ),
      ]),
    );
  }
  if (f.holderId) q = q.where('r.id', 'in', ctx.scope.holderRecordings(f.holderId));
  if (f.enrolled === true) q = q.where('r.fingerprint_ref', 'is not', null);
  if (f.enrolled === false) q = q.where('r.fingerprint_ref', 'is', null);
  const total = Number(
    (await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n,
  );
  const rows = await q
    .select(['r.id', 'r.isrc', 'r.title', 'r.duration_ms', 'r.fingerprint_ref'])
    .orderBy('r.title')
    .orderBy('r.id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const ids = rows.map((r) => r.id);
  const works = ids.length
    ? await ctx.db
        .selectFrom('recording_works as rw')
        .innerJoin('works as w', 'w.id', 'rw.work_id')
        .select(['rw.recording_id', 'w.title'])
        .where('rw.recording_id', 'in', ids)
        .execute()
    : [];
  const people = ids.length
    ? await ctx.db
        .selectFrom('recording_contributors as rc')
        .innerJoin('rights_holders as h', 'h.id', 'rc.holder_id')
        .select(['rc.recording_id', 'h.name'])
        .where('rc.recording_id', 'in', ids)
        .where('rc.role', '=', 'performer')
        .execute()
    : [];
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      isrc: r.isrc,
      title: r.title,
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      enrolled:
        r.fingerprint_ref !== null && (ctx.index ? ctx.index.get(r.fingerprint_ref) !== undefined : true),
      workTitles: works.filter((w) => w.recording_id === r.id).map((w) => w.title),
      performers: people.filter((x) => x.recording_id === r.id).map((x) => x.name),
    })),
  };
}

export interface RecordingDetail {
  recording: Recording;
  works: Work[];
  holders: RightsHolder[];
  shares: Share[];
  enrolled: { durationSec: number; peakCount: number; enrolledAtMs: number } | null;
  hasReferenceAudio: boolean;
}

export async function recordingDetail(ctx: AppContext, p: Caller, id: string): Promise<RecordingDetail> {
  await ctx.scope.assertRecording(p, id);
  const recording = (await ctx.catalog.getRecording(id))!;
  const works: Work[] = [];
  for (const w of recording.works) {
    const work = await ctx.catalog.getWork(w.workId);
    if (work) works.push(work);
  }
  const shares = [
    ...(await ctx.catalog.sharesOf('recording', id)),
    ...(await Promise.all(works.map((w) => ctx.catalog.sharesOf('work', w.id)))).flat(),
  ];
  const holderIds = new Set<string>([
    ...recording.performerIds,
    ...(recording.producerId ? [recording.producerId] : []),
    ...shares.map((s) => s.holderId),
    ...works.flatMap((w) => w.creators.map((c) => c.holderId)),
  ]);
  const holders: RightsHolder[] = [];
  for (const h of [...holderIds].sort()) {
    const holder = await ctx.catalog.getHolder(h);
    if (holder) holders.push(holder);
  }
  const stored = recording.fingerprintRef && ctx.index ? ctx.index.get(recording.fingerprintRef) : undefined;
  return {
    recording,
    works,
    holders,
    shares,
    enrolled: stored
      ? { durationSec: stored.durationSec, peakCount: stored.peakCount, enrolledAtMs: stored.enrolledAtMs }
      : null,
    hasReferenceAudio: !!(stored?.sourcePath && existsSync(stored.sourcePath)),
  };
}

/**
 * A recording the caller may see, or one detected where the caller may see detections (a CMO reviewer
 * hears the reference of whatever aired on its licensees' channels, in its repertoire or not).
 */
export async function assertRecordingOrDetected(ctx: AppContext, p: Caller, id: string): Promise<void> {
  try {
    await ctx.scope.assertRecording(p, id);
    return;
  } catch (err) {
    if (!(err instanceof ApiError) || (err.statusCode !== 404 && err.statusCode !== 403)) throw err;
  }
  const filter = ctx.scope.detections(p, 'detections.channel_id', 'detections.recording_id');
  let q = ctx.db.selectFrom('detections').select('id').where('recording_id', '=', id).limit(1);
  if (filter) q = q.where(filter);
  if (!(await q.executeTakeFirst())) throw notFound(`recording ${id}`);
}

/** The reference audio file of a recording (the one it was enrolled from), after the access check. */
export async function referenceAudioPath(ctx: AppContext, p: Caller, id: string): Promise<string> {
  await assertRecordingOrDetected(ctx, p, id);
  const rec = await ctx.catalog.getRecording(id);
  const stored = rec?.fingerprintRef && ctx.index ? ctx.index.get(rec.fingerprintRef) : undefined;
  if (!stored?.sourcePath || !existsSync(stored.sourcePath))
    throw notFound(`reference audio of recording ${id}`);
  return stored.sourcePath;
}

export interface EnrolInput {
  id?: string;
  title: string;
  isrc?: string;
  workId?: string;
  performerId?: string;
  producerId?: string;
  allowDuplicate?: boolean;
}

export interface EnrolOutcome {
  /** enrolled: in the catalogue and the index; duplicate: the audio is already enrolled (nothing saved). */
  status: 'enrolled' | 'duplicate';
  recordingId: string;
  duplicateOf: string | null;
  durationSec: number;
  warnings: string[];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Enrols an uploaded recording: checks the metadata and the catalogue for conflicts (an ISRC or id
 * already used), fingerprints the audio (refusing a duplicate of an enrolled recording unless asked),
 * keeps the file as the reference audio, and registers the recording in the catalogue.
 */
export async function enrolUpload(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  file: { path: string; filename: string; bytes: number },
  input: EnrolInput,
): Promise<EnrolOutcome> {
  requireRole(p, 'operator', 'registrar');
  if (!ctx.index || !ctx.uploadDir)
    throw new ApiError(503, 'unavailable', 'this server has no reference index or upload folder configured');
  if (file.bytes === 0) throw badInput(`${file.filename}: the file is empty`);
  const title = input.title?.trim();
  if (!title) throw badInput('a recording needs a title');
  let isrc: string | null = null;
  if (input.isrc?.trim()) {
    try {
      isrc = parseIsrc(input.isrc);
    } catch (err) {
      throw badInput((err as Error).message);
    }
  }
  const id = input.id?.trim() || (isrc ? isrc : `rec-${randomBytes(5).toString('hex')}`);
  if (!ID.test(id))
    throw badInput(`recording id must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(id)}`);
  const existing = await ctx.catalog.getRecording(id);
  if (existing)
    throw new ApiError(
      409,
      'conflict',
      `recording id ${id} is already in the catalogue ("${existing.title}")`,
    );
  if (isrc) {
    const clash = await ctx.db
      .selectFrom('recordings')
      .select(['id', 'title'])
      .where('isrc', '=', isrc)
      .executeTakeFirst();
    if (clash)
      throw new ApiError(409, 'conflict', `ISRC ${isrc} is already recording ${clash.id} ("${clash.title}")`);
  }
  if (ctx.index.get(id))
    throw new ApiError(409, 'conflict', `recording id ${id} is already enrolled in the fingerprint index`);
  for (const [what, holder] of [
    ['performer', input.performerId],
    ['producer', input.producerId],
  ] as const) {
    if (holder && !(await ctx.catalog.getHolder(holder)))
      throw badInput(`${what}: no rights holder with id ${holder}`);
  }
  if (input.workId && !(await ctx.catalog.getWork(input.workId)))
    throw badInput(`no work with id ${input.workId}`);

  mkdirSync(ctx.uploadDir, { recursive: true });
  const kept = join(
    ctx.uploadDir,
    `${id}${
      extname(file.filename)
        .toLowerCase()
        .replace(/[^.a-z0-9]/g, '') || '.audio'
    }`,
  );
  copyFileSync(file.path, kept);
  let result;
  try {
    result = await enrollFile(
      ctx.index,
      kept,
      { id, title, isrc, sourcePath: kept },
      { allowDuplicate: input.allowDuplicate },
    );
  } catch (err) {
    throw badInput(`${file.filename}: ${(err as Error).message.replace(kept, file.filename)}`);
  }
  if (result.status === 'duplicate') {
    return {
      status: 'duplicate',
      recordingId: id,
      duplicateOf: result.duplicateOf ?? null,
      durationSec: result.durationSec,
      warnings: result.warnings,
    };
  }
  const recording: Recording = {
    id,
    isrc,
    title,
    durationMs: Math.round(result.durationSec * 1000),
    performerIds: input.performerId ? [input.performerId] : [],
    producerId: input.producerId || null,
    works: input.workId ? [{ workId: input.workId, portionBp: 10000 }] : [],
    fingerprintRef: id,
  };
  try {
    await ctx.catalog.upsertRecording(recording);
  } catch (err) {
    ctx.index.remove(id);
    throw err instanceof CatalogError ? badInput(err.message) : err;
  }
  await ctx.audit.record(
    actor,
    'recording.enrol',
    { kind: 'recording', id },
    {
      title,
      isrc,
      file: file.filename,
      bytes: file.bytes,
      durationSec: Math.round(result.durationSec * 10) / 10,
    },
  );
  return {
    status: 'enrolled',
    recordingId: id,
    duplicateOf: null,
    durationSec: result.durationSec,
    warnings: result.warnings,
  };
}

export type ImportKind = CsvImportKind | 'cwr' | 'auto';

/** A bulk import (catalogue CSV or CWR), each row applied on its own and reported. */
export async function importCatalogue(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  text: string,
  kind: ImportKind,
  fileName: string,
): Promise<{ format: 'csv'; report: CsvImportReport } | { format: 'cwr'; report: CwrImportReport }> {
  requireRole(p, 'operator', 'registrar');
  if (!text.trim()) throw badInput(`${fileName}: the file is empty`);
  const isCwr = kind === 'cwr' || (kind === 'auto' && /^HDR/.test(text));
  try {
    if (isCwr) {
      const report = await ctx.catalog.importCwr(text);
      await ctx.audit.record(
        actor,
        'catalogue.import_cwr',
        { kind: 'import', id: fileName },
        {
          transactions: report.transactions.length,
          rejected: report.transactions.filter((t) => t.status === 'TR').length,
        },
      );
      return { format: 'cwr', report };
    }
    const report = await ctx.catalog.importCsv(text, kind === 'auto' ? undefined : kind);
    await ctx.audit.record(
      actor,
      `catalogue.import_${report.kind}`,
      { kind: 'import', id: fileName },
      {
        accepted: report.accepted,
        rejected: report.rejected,
      },
    );
    return { format: 'csv', report };
  } catch (err) {
    if (err instanceof CatalogError) throw badInput(`${fileName}: ${err.message}`);
    throw err;
  }
}

export async function shareConflicts(ctx: AppContext, p: Caller): Promise<ShareConflict[]> {
  requireRole(p, 'operator', 'registrar', 'cmo_reviewer');
  const all = await ctx.catalog.conflicts();
  if (p!.user.role !== 'cmo_reviewer') return all;
  const works = new Set((await ctx.scope.cmoWorks(p!.user.cmoId!).execute()).map((r) => r.id));
  const recs = new Set((await ctx.scope.cmoRecordings(p!.user.cmoId!).execute()).map((r) => r.id));
  return all.filter((c) => (c.subjectKind === 'work' ? works.has(c.subjectId) : recs.has(c.subjectId)));
}

export async function workDetail(ctx: AppContext, p: Caller, id: string) {
  await ctx.scope.assertWork(p, id);
  const work = (await ctx.catalog.getWork(id))!;
  const shares = await ctx.catalog.sharesOf('work', id);
  const recordings = await ctx.db
    .selectFrom('recording_works as rw')
    .innerJoin('recordings as r', 'r.id', 'rw.recording_id')
    .select(['r.id', 'r.title', 'r.isrc', 'rw.portion_bp'])
    .where('rw.work_id', '=', id)
    .orderBy('r.title')
    .execute();
  return {
    work,
    shares,
    recordings: recordings.map((r) => ({
      id: r.id,
      title: r.title,
      isrc: r.isrc,
      portionBp: Number(r.portion_bp),
    })),
  };
}

export async function searchWorks(ctx: AppContext, p: Caller, text: string | undefined, page: Paging) {
  const scope = ctx.scope.works(p, 'w.id');
  let q = ctx.db.selectFrom('works as w');
  if (scope) q = q.where(scope);
  const t = text?.trim();
  if (t) {
    const code = t.replace(/[-.\s]/g, '').toUpperCase();
    q = q.where((eb) =>
      eb.or([
        matches(ctx, 'w.title', t),
        matches(ctx, 'w.title_kk', t),
        matches(ctx, 'w.title_ru', t),
        eb('w.iswc', '=', code),
        eb('w.id', '=', t),
      ]),
    );
  }
  const total = Number(
    (await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n,
  );
  const rows = await q
    .select(['w.id', 'w.iswc', 'w.title', 'w.title_kk', 'w.title_ru'])
    .orderBy('w.title')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      iswc: r.iswc,
      title: r.title,
      titleKk: r.title_kk,
      titleRu: r.title_ru,
    })),
  };
}

/** Rights holders: operator and registrar all; a CMO reviewer those mandating its CMO; a holder itself. */
export async function searchHolders(ctx: AppContext, p: Caller, text: string | undefined, page: Paging) {
  const who = requireRole(p, 'operator', 'registrar', 'cmo_reviewer', 'rights_holder');
  let q = ctx.db.selectFrom('rights_holders as h');
  if (who.user.role === 'cmo_reviewer') {
    q = q.where(
      'h.id',
      'in',
      ctx.db.selectFrom('mandates').select('holder_id').where('cmo_id', '=', who.user.cmoId!),
    );
  } else if (who.user.role === 'rights_holder') {
    q = q.where('h.id', '=', who.user.holderId!);
  }
  const t = text?.trim();
  if (t) {
    const digits = t.replace(/\D/g, '');
    q = q.where((eb) =>
      eb.or([
        matches(ctx, 'h.name', t),
        eb('h.id', '=', t),
        ...(digits.length >= 9
          ? [
              eb('h.ipi_name_number', '=', digits.padStart(11, '0')),
              eb('h.iin', '=', digits),
              eb('h.bin', '=', digits),
            ]
          : []),
      ]),
    );
  }
  const total = Number(
    (await q.select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow()).n,
  );
  const rows = await q.selectAll('h').orderBy('h.name').limit(page.limit).offset(page.offset).execute();
  return {
    total,
    items: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      name: r.name,
      ipiNameNumber: r.ipi_name_number,
      roles: JSON.parse(r.roles_json) as string[],
    })),
  };
}
