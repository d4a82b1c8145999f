import type { Caller } from '../access.js';
import { requireRole } from '../access.js';
import type { AuditActor, AuditEntry } from '../audit.js';
import type { AppContext } from '../context.js';
import { badInput, notFound } from '../errors.js';
import type { Paging } from '../http/query.js';
import { MoneyEstimator } from './money.js';

/** An airplay detection as the API and the pages show it. */
export interface DetectionView {
  id: string;
  channelId: string;
  channelName: string;
  timeZone: string;
  recordingId: string;
  recordingTitle: string | null;
  isrc: string | null;
  startMs: number;
  endMs: number;
  durationSec: number;
  refStartSec: number;
  refEndSec: number;
  speed: number;
  confidence: number;
  /** pending | confirmed | rejected | reassigned */
  status: string;
  useType: string | null;
  hasEvidence: boolean;
  evidenceStartMs: number | null;
  /** What the ledger holds for this airing (effective lines), tiyn; 0 before any accrual. */
  accruedTiyn: number;
  /** Accrued amount if any, else the estimate of what per-second licences would pay; null if unknown. */
  atStakeTiyn: number | null;
  atStakeEstimated: boolean;
}

export const DETECTION_STATUSES = ['pending', 'confirmed', 'rejected', 'reassigned'] as const;
export const DETECTION_SORTS = ['time', 'confidence', 'money', 'duration'] as const;
export type DetectionSort = (typeof DETECTION_SORTS)[number];

export interface DetectionFilter {
  channelId?: string;
  recordingId?: string;
  holderId?: string;
  fromMs?: number | null;
  toMs?: number | null;
  statuses?: string[];
  minConfidence?: number;
  maxConfidence?: number;
  sort?: DetectionSort;
  order?: 'asc' | 'desc';
}

/** Ordering by money needs every matching row in memory: at most this many are considered. */
export const MONEY_SORT_MAX_ROWS = 10_000;

function baseQuery(ctx: AppContext, p: Caller, f: DetectionFilter) {
  const scope = ctx.scope.detections(p, 'd.channel_id', 'd.recording_id');
  let q = ctx.db
    .selectFrom('detections as d')
    .innerJoin('channels as c', 'c.id', 'd.channel_id')
    .leftJoin('recordings as r', 'r.id', 'd.recording_id');
  if (scope) q = q.where(scope);
  if (f.channelId) q = q.where('d.channel_id', '=', f.channelId);
  if (f.recordingId) q = q.where('d.recording_id', '=', f.recordingId);
  if (f.holderId) q = q.where('d.recording_id', 'in', ctx.scope.holderRecordings(f.holderId));
  if (f.fromMs !== null && f.fromMs !== undefined) q = q.where('d.start_ms', '>=', f.fromMs);
  if (f.toMs !== null && f.toMs !== undefined) q = q.where('d.start_ms', '<', f.toMs);
  if (f.statuses?.length) q = q.where('d.status', 'in', f.statuses);
  if (f.minConfidence !== undefined) q = q.where('d.confidence', '>=', f.minConfidence);
  if (f.maxConfidence !== undefined) q = q.where('d.confidence', '<=', f.maxConfidence);
  return q;
}

/** A CMO reviewer sees the money of its own CMO's licences only. */
function moneyCmo(p: Caller): string | null {
  return p?.user.role === 'cmo_reviewer' ? p.user.cmoId : null;
}

function selectView(q: ReturnType<typeof baseQuery>, cmoId: string | null) {
  return q.select((eb) => [
    'd.id',
    'd.channel_id',
    'c.name as channel_name',
    'c.time_zone',
    'd.recording_id',
    'r.title as recording_title',
    'r.isrc',
    'd.start_ms',
    'd.end_ms',
    'd.ref_start_sec',
    'd.ref_end_sec',
    'd.speed',
    'd.confidence',
    'd.status',
    'd.use_type',
    'd.evidence_path',
    'd.evidence_start_ms',
    eb
      .selectFrom('accrual_lines as l')
      .select((e2) => e2.fn.sum<string | number | null>('l.gross_tiyn').as('s'))
      .whereRef('l.detection_id', '=', 'd.id')
      .$if(cmoId !== null, (sq) =>
        sq
          .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
          .innerJoin('licences as lc', 'lc.id', 'e.licence_id')
          .where('lc.cmo_id', '=', cmoId!),
      )
      .as('accrued_tiyn'),
  ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof selectView>['execute']>>[number];

function toView(r: Row): DetectionView {
  const startMs = Number(r.start_ms);
  const endMs = Number(r.end_ms);
  const accrued = r.accrued_tiyn === null || r.accrued_tiyn === undefined ? null : Number(r.accrued_tiyn);
  return {
    id: r.id,
    channelId: r.channel_id,
    channelName: r.channel_name,
    timeZone: r.time_zone,
    recordingId: r.recording_id,
    recordingTitle: r.recording_title ?? null,
    isrc: r.isrc ?? null,
    startMs,
    endMs,
    durationSec: Math.round((endMs - startMs) / 100) / 10,
    refStartSec: Number(r.ref_start_sec),
    refEndSec: Number(r.ref_end_sec),
    speed: Number(r.speed),
    confidence: Number(r.confidence),
    status: r.status,
    useType: r.use_type,
    hasEvidence: r.evidence_path !== null,
    evidenceStartMs: r.evidence_start_ms === null ? null : Number(r.evidence_start_ms),
    accruedTiyn: accrued ?? 0,
    atStakeTiyn: accrued,
    atStakeEstimated: false,
  };
}

async function withMoney(ctx: AppContext, p: Caller, views: DetectionView[]) {
  const estimator = new MoneyEstimator(ctx, moneyCmo(p));
  for (const v of views) {
    if (v.atStakeTiyn !== null) continue;
    v.atStakeTiyn = await estimator.estimateTiyn(v);
    v.atStakeEstimated = v.atStakeTiyn !== null;
  }
  return views;
}

export async function listDetections(
  ctx: AppContext,
  p: Caller,
  f: DetectionFilter,
  page: Paging,
): Promise<{ items: DetectionView[]; total: number; truncated: boolean }> {
  const countRow = await baseQuery(ctx, p, f)
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirstOrThrow();
  const total = Number(countRow.n);
  const sort = f.sort ?? 'time';
  const order = f.order ?? (sort === 'confidence' ? 'asc' : 'desc');
  if (sort === 'money') {
    const rows = await selectView(baseQuery(ctx, p, f), moneyCmo(p))
      .orderBy('d.start_ms', 'desc')
      .orderBy('d.id')
      .limit(MONEY_SORT_MAX_ROWS)
      .execute();
    const views = await withMoney(ctx, p, rows.map(toView));
    const dir = order === 'asc' ? 1 : -1;
    views.sort(
      (a, b) =>
        dir * ((a.atStakeTiyn ?? -1) - (b.atStakeTiyn ?? -1)) ||
        dir * (a.endMs - a.startMs - (b.endMs - b.startMs)) ||
        (a.id < b.id ? -1 : 1),
    );
    return {
      items: views.slice(page.offset, page.offset + page.limit),
      total,
      truncated: total > MONEY_SORT_MAX_ROWS,
    };
  }
  let q = selectView(baseQuery(ctx, p, f), moneyCmo(p));
  if (sort === 'confidence') q = q.orderBy('d.confidence', order).orderBy('d.start_ms', 'desc');
  else if (sort === 'duration') q = q.orderBy((eb) => eb('d.end_ms', '-', eb.ref('d.start_ms')), order);
  else q = q.orderBy('d.start_ms', order);
  const rows = await q.orderBy('d.id').limit(page.limit).offset(page.offset).execute();
  return { items: await withMoney(ctx, p, rows.map(toView)), total, truncated: false };
}

export async function getDetection(ctx: AppContext, p: Caller, id: string): Promise<DetectionView> {
  const row = await selectView(baseQuery(ctx, p, {}).where('d.id', '=', id), moneyCmo(p)).executeTakeFirst();
  if (!row) throw notFound(`detection ${id}`);
  return (await withMoney(ctx, p, [toView(row)]))[0];
}

/** The stored path of a detection's evidence clip (after the caller's access was checked). */
export async function evidencePath(ctx: AppContext, p: Caller, id: string): Promise<string> {
  const filter = ctx.scope.detections(p, 'detections.channel_id', 'detections.recording_id');
  let q = ctx.db.selectFrom('detections').select('evidence_path').where('id', '=', id);
  if (filter) q = q.where(filter);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound(`detection ${id}`);
  if (!row.evidence_path) throw notFound(`evidence clip of detection ${id}`);
  return row.evidence_path;
}

export const REVIEW_ACTIONS = ['confirm', 'reject', 'reassign'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];
const STATUS_OF: Record<ReviewAction, string> = {
  confirm: 'confirmed',
  reject: 'rejected',
  reassign: 'reassigned',
};
export const REVIEW_MAX_IDS = 500;

/**
 * A reviewer's decision on one or many detections, all or nothing: every id must be one the caller
 * may review; a reassignment names a recording in the catalogue (and, for a CMO reviewer, in its
 * repertoire). Each change is written to the audit log with who, when, before and after.
 */
export async function reviewDetections(
  ctx: AppContext,
  p: Caller,
  actor: AuditActor,
  input: { ids: string[]; action: ReviewAction; recordingId?: string | null; note?: string | null },
): Promise<{ updated: number; ids: string[] }> {
  requireRole(p, 'operator', 'cmo_reviewer');
  const ids = [...new Set(input.ids.map((s) => s.trim()).filter(Boolean))];
  if (ids.length === 0) throw badInput('choose at least one detection');
  if (ids.length > REVIEW_MAX_IDS)
    throw badInput(`at most ${REVIEW_MAX_IDS} detections at once, got ${ids.length}`);
  if (!REVIEW_ACTIONS.includes(input.action))
    throw badInput(`action must be one of ${REVIEW_ACTIONS.join(', ')}`);
  let target: string | null = null;
  if (input.action === 'reassign') {
    target = input.recordingId?.trim() || null;
    if (!target) throw badInput('reassign needs the recording to reassign to (recordingId)');
    await ctx.scope.assertRecording(p, target);
  } else if (input.recordingId) {
    throw badInput(`recordingId is only for reassign, not ${input.action}`);
  }
  const note = input.note?.trim() || null;
  if (note && note.length > 1000) throw badInput('the note is longer than 1000 characters');
  const filter = ctx.scope.detections(p, 'detections.channel_id', 'detections.recording_id');
  return ctx.db.transaction().execute(async (trx) => {
    const found = new Map<string, { status: string; recording_id: string }>();
    for (let i = 0; i < ids.length; i += 200) {
      let q = trx
        .selectFrom('detections')
        .select(['id', 'status', 'recording_id'])
        .where('id', 'in', ids.slice(i, i + 200));
      if (filter) q = q.where(filter);
      for (const r of await q.execute()) found.set(r.id, r);
    }
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length)
      throw notFound(`detection ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    const status = STATUS_OF[input.action];
    for (const id of ids) {
      const before = found.get(id)!;
      const set = target ? { status, recording_id: target } : { status };
      await trx.updateTable('detections').set(set).where('id', '=', id).execute();
      await ctx.audit.record(
        actor,
        `detection.${input.action}`,
        { kind: 'detection', id },
        {
          from: { status: before.status, recordingId: before.recording_id },
          to: { status, recordingId: target ?? before.recording_id },
          ...(note ? { note } : {}),
          ...(ids.length > 1 ? { bulk: ids.length } : {}),
        },
        trx,
      );
    }
    return { updated: ids.length, ids };
  });
}

export async function detectionHistory(ctx: AppContext, p: Caller, id: string): Promise<AuditEntry[]> {
  await ctx.scope.assertDetection(p, id);
  return ctx.audit.about('detection', id);
}
