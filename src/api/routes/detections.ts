import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { csvRow, formatLocal } from '../../catalog/index.js';
import { actorOf } from '../audit.js';
import { insideRoots, type AppContext } from '../context.js';
import { notFound } from '../errors.js';
import { pageBody, paging, timeRange } from '../http/query.js';
import { sendFileWithRanges } from '../http/range.js';
import { FormatQuery, PageQuery, PeriodParam, TimeQuery, errorResponses, pageOf } from '../schemas.js';
import {
  DETECTION_SORTS,
  DETECTION_STATUSES,
  REVIEW_ACTIONS,
  REVIEW_MAX_IDS,
  detectionHistory,
  evidencePath,
  getDetection,
  listDetections,
  reviewDetections,
  type DetectionFilter,
  type DetectionView,
} from '../services/detections.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const DetectionSchema = Type.Object(
  {
    id: Type.String(),
    channelId: Type.String(),
    channelName: Type.String(),
    timeZone: Type.String(),
    recordingId: Type.String(),
    recordingTitle: Nullable(Type.String()),
    isrc: Nullable(Type.String()),
    startMs: Type.Number({ description: 'UTC epoch ms' }),
    endMs: Type.Number(),
    durationSec: Type.Number(),
    refStartSec: Type.Number({ description: 'where in the recording the airing starts' }),
    refEndSec: Type.Number(),
    speed: Type.Number({ description: 'playback speed against the reference (1.03 = 3 % fast)' }),
    confidence: Type.Number(),
    status: Type.String({ description: 'pending | confirmed | rejected | reassigned' }),
    useType: Nullable(Type.String()),
    hasEvidence: Type.Boolean(),
    evidenceStartMs: Nullable(Type.Number()),
    accruedTiyn: Type.Integer({ description: 'what the ledger holds for this airing' }),
    atStakeTiyn: Nullable(Type.Integer()),
    atStakeEstimated: Type.Boolean({ description: 'atStakeTiyn is an estimate (not accrued yet)' }),
  },
  { description: 'an airplay detection' },
);

const AuditSchema = Type.Object({
  id: Type.String(),
  atMs: Type.Number(),
  actorUserId: Nullable(Type.String()),
  actorName: Type.String(),
  actorRole: Type.String(),
  via: Type.String(),
  action: Type.String(),
  subjectKind: Type.String(),
  subjectId: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
  ip: Nullable(Type.String()),
});

export const DetectionQuery = Type.Object({
  ...PageQuery,
  ...FormatQuery,
  channel: Type.Optional(Type.String({ description: 'channel id' })),
  recording: Type.Optional(Type.String({ description: 'recording id' })),
  holder: Type.Optional(
    Type.String({ description: 'rights holder id: detections of its recordings and works' }),
  ),
  period: Type.Optional(PeriodParam),
  from: Type.Optional(TimeQuery),
  to: Type.Optional(TimeQuery),
  status: Type.Optional(
    Type.Array(Type.Union(DETECTION_STATUSES.map((s) => Type.Literal(s))), {
      description: 'repeat for several',
    }),
  ),
  minConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  maxConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  sort: Type.Optional(
    Type.Union(
      DETECTION_SORTS.map((s) => Type.Literal(s)),
      { description: 'time (default), confidence, money at stake, duration' },
    ),
  ),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
});

export function detectionFilter(q: {
  channel?: string;
  recording?: string;
  holder?: string;
  period?: string;
  from?: string;
  to?: string;
  status?: string[];
  minConfidence?: number;
  maxConfidence?: number;
  sort?: DetectionFilter['sort'];
  order?: 'asc' | 'desc';
}): DetectionFilter {
  const { fromMs, toMs } = timeRange(q);
  return {
    channelId: q.channel,
    recordingId: q.recording,
    holderId: q.holder,
    fromMs,
    toMs,
    statuses: q.status,
    minConfidence: q.minConfidence,
    maxConfidence: q.maxConfidence,
    sort: q.sort,
    order: q.order,
  };
}

export const DETECTION_CSV_COLUMNS = [
  'id',
  'channel',
  'channel_name',
  'local_start',
  'local_end',
  'time_zone',
  'duration_sec',
  'recording',
  'title',
  'isrc',
  'confidence',
  'speed',
  'status',
  'use_type',
  'accrued_tiyn',
];

export function detectionCsvRow(d: DetectionView): string {
  return csvRow([
    d.id,
    d.channelId,
    d.channelName,
    formatLocal(d.timeZone, d.startMs),
    formatLocal(d.timeZone, d.endMs),
    d.timeZone,
    d.durationSec,
    d.recordingId,
    d.recordingTitle ?? '',
    d.isrc ?? '',
    d.confidence.toFixed(3),
    d.speed.toFixed(4),
    d.status,
    d.useType ?? '',
    d.accruedTiyn,
  ]);
}

/** Detections: lists with filters and CSV export, one detection, its evidence audio, review actions. */
export function detectionRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['detections'];

    app.get(
      '/detections',
      {
        schema: {
          tags,
          summary:
            'Detections the caller may see; filters by channel, period or time, recording, rights holder, status',
          querystring: DetectionQuery,
          response: { 200: pageOf(DetectionSchema, 'detections'), ...errorResponses },
        },
      },
      async (req, reply) => {
        const filter = detectionFilter(req.query);
        if (req.query.format === 'csv') {
          const { items } = await listDetections(ctx, req.principal, filter, {
            limit: ctx.config.exportMaxRows,
            offset: 0,
          });
          reply.header('content-type', 'text/csv; charset=utf-8');
          reply.header('content-disposition', 'attachment; filename="detections.csv"');
          return reply.send(csvRow(DETECTION_CSV_COLUMNS) + items.map(detectionCsvRow).join(''));
        }
        const page = paging(req.query, ctx.config);
        const { items, total } = await listDetections(ctx, req.principal, filter, page);
        return pageBody(items, total, page);
      },
    );

    app.get(
      '/detections/:id',
      {
        schema: {
          tags,
          summary: 'One detection with its review history',
          params: Type.Object({ id: Type.String() }),
          response: {
            200: Type.Object({ detection: DetectionSchema, history: Type.Array(AuditSchema) }),
            ...errorResponses,
          },
        },
      },
      async (req) => ({
        detection: await getDetection(ctx, req.principal, req.params.id),
        history: await detectionHistory(ctx, req.principal, req.params.id),
      }),
    );

    app.get(
      '/detections/:id/evidence',
      {
        schema: {
          tags,
          summary: 'The air-check clip (MP3); honours Range requests so players can seek',
          params: Type.Object({ id: Type.String() }),
          produces: ['audio/mpeg'],
        },
      },
      async (req, reply) => {
        const path = await evidencePath(ctx, req.principal, req.params.id);
        if (!insideRoots(path, ctx.evidenceDirs))
          throw notFound(`evidence clip of detection ${req.params.id}`);
        return sendFileWithRanges(req, reply, path, `detection ${req.params.id}`);
      },
    );

    app.post(
      '/detections/review',
      {
        schema: {
          tags,
          summary:
            'Confirm, reject or reassign detections, one or many (all or nothing); each change is audited',
          body: Type.Object({
            ids: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: REVIEW_MAX_IDS }),
            action: Type.Union(REVIEW_ACTIONS.map((a) => Type.Literal(a))),
            recordingId: Type.Optional(Type.String({ description: 'for reassign: the right recording' })),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          }),
          response: {
            200: Type.Object({ updated: Type.Integer(), ids: Type.Array(Type.String()) }),
            ...errorResponses,
          },
        },
      },
      async (req) =>
        reviewDetections(ctx, req.principal, actorOf(req.principal, req.ip), {
          ids: req.body.ids,
          action: req.body.action,
          recordingId: req.body.recordingId,
          note: req.body.note,
        }),
    );
  };
}
