import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppContext } from '../context.js';
import { pageBody, paging, parseTime } from '../http/query.js';
import { DateParam, PageQuery, TimeQuery, errorResponses, pageOf } from '../schemas.js';
import { channelDay, channelGaps, getChannel, listChannels } from '../services/channels.js';
import { DetectionSchema } from './detections.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const ChannelSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    timeZone: Type.String(),
    broadcasterId: Nullable(Type.String()),
    enabled: Type.Boolean(),
    sources: Nullable(Type.Array(Type.String())),
    status: Type.Object({
      state: Type.String({
        description: 'listening, silent, reconnecting, failed, not_running, never_monitored, ...',
      }),
      stateSinceMs: Nullable(Type.Number()),
      lastAudioMs: Nullable(Type.Number()),
      uptimeRatio: Nullable(Type.Number()),
      detectionsToday: Type.Integer(),
      currentRecordings: Type.Array(Type.String()),
      heldDetections: Type.Integer(),
      source: Nullable(Type.String()),
      detail: Nullable(Type.String()),
    }),
  },
  { description: 'a monitored channel' },
);

export const GapSchema = Type.Object(
  {
    id: Type.String(),
    channelId: Type.String(),
    startMs: Type.Number(),
    endMs: Nullable(Type.Number()),
    reason: Type.String(),
    detail: Nullable(Type.String()),
  },
  { description: 'a monitoring gap: the channel was not heard' },
);

/** Channels and their health, gaps, and a channel's day. */
export function channelRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['channels'];

    app.get(
      '/channels',
      {
        schema: {
          tags,
          summary: 'Channels the caller may see, with live state, uptime and detections today',
          querystring: Type.Object({ ...PageQuery }),
          response: { 200: pageOf(ChannelSchema, 'channels'), ...errorResponses },
        },
      },
      async (req) => {
        const page = paging(req.query, ctx.config);
        const { items, total } = await listChannels(ctx, req.principal, page);
        return pageBody(items, total, page);
      },
    );

    app.get(
      '/channels/:id',
      {
        schema: {
          tags,
          summary: 'One channel and its health',
          params: Type.Object({ id: Type.String() }),
          response: { 200: ChannelSchema, ...errorResponses },
        },
      },
      async (req) => getChannel(ctx, req.principal, req.params.id),
    );

    app.get(
      '/channels/:id/gaps',
      {
        schema: {
          tags,
          summary: 'Monitoring gaps overlapping [from, to) (default: the last 24 hours)',
          params: Type.Object({ id: Type.String() }),
          querystring: Type.Object({ from: Type.Optional(TimeQuery), to: Type.Optional(TimeQuery) }),
          response: { 200: Type.Object({ items: Type.Array(GapSchema) }), ...errorResponses },
        },
      },
      async (req) => {
        const toMs = req.query.to ? parseTime(req.query.to, 'to') : ctx.now();
        const fromMs = req.query.from ? parseTime(req.query.from, 'from') : toMs - 86_400_000;
        return { items: await channelGaps(ctx, req.principal, req.params.id, fromMs, toMs) };
      },
    );

    app.get(
      '/channels/:id/day',
      {
        schema: {
          tags,
          summary: "A channel's local day: its detections and gaps (the reviewer's timeline)",
          params: Type.Object({ id: Type.String() }),
          querystring: Type.Object({ date: Type.Optional(DateParam) }),
          response: {
            200: Type.Object({
              channel: Type.Object({ id: Type.String(), name: Type.String(), timeZone: Type.String() }),
              date: Type.String(),
              startMs: Type.Number(),
              endMs: Type.Number(),
              detections: Type.Array(DetectionSchema),
              gaps: Type.Array(GapSchema),
              heardRatio: Nullable(Type.Number()),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => channelDay(ctx, req.principal, req.params.id, req.query.date ?? null),
    );
  };
}
