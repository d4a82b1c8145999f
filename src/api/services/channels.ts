import { fromLocal, localDate } from '../../catalog/index.js';
import {
  channelStatus,
  formatSource,
  uptimeRatio,
  type Channel,
  type ChannelStatus,
  type MonitoringGap,
} from '../../monitor/index.js';
import type { Caller } from '../access.js';
import { hasRole } from '../access.js';
import type { AppContext } from '../context.js';
import { badInput } from '../errors.js';
import type { Paging } from '../http/query.js';
import { listDetections, type DetectionView } from './detections.js';

export interface ChannelView {
  id: string;
  name: string;
  kind: string;
  timeZone: string;
  broadcasterId: string | null;
  enabled: boolean;
  /** Only for the operator and capture nodes: source URLs can hold credentials. */
  sources: string[] | null;
  status: ChannelStatus;
}

async function view(ctx: AppContext, p: Caller, ch: Channel): Promise<ChannelView> {
  const status = await channelStatus(ctx.monitor, ch, ctx.now(), {
    uptimeWindowMs: ctx.config.uptimeWindowMs,
    heartbeatStaleMs: ctx.config.heartbeatStaleMs,
    live: ctx.liveHealth(ch.id),
  });
  const mayseeSources = hasRole(p, 'operator', 'capture_node');
  return {
    id: ch.id,
    name: ch.name,
    kind: ch.kind,
    timeZone: ch.timeZone,
    broadcasterId: ch.broadcasterId,
    enabled: ch.enabled,
    sources: mayseeSources ? ch.sources.map(formatSource) : null,
    status: { ...status, source: mayseeSources ? status.source : null },
  };
}

export async function listChannels(
  ctx: AppContext,
  p: Caller,
  page: Paging,
): Promise<{ items: ChannelView[]; total: number }> {
  const filter = ctx.scope.channels(p, 'channels.id');
  let q = ctx.db.selectFrom('channels').select('id').orderBy('id');
  if (filter) q = q.where(filter);
  const ids = (await q.execute()).map((r) => r.id);
  const items: ChannelView[] = [];
  for (const id of ids.slice(page.offset, page.offset + page.limit)) {
    const ch = await ctx.monitor.getChannel(id);
    if (ch) items.push(await view(ctx, p, ch));
  }
  return { items, total: ids.length };
}

export async function getChannel(ctx: AppContext, p: Caller, id: string): Promise<ChannelView> {
  await ctx.scope.assertChannel(p, id);
  return view(ctx, p, (await ctx.monitor.getChannel(id))!);
}

export async function channelGaps(
  ctx: AppContext,
  p: Caller,
  id: string,
  fromMs: number,
  toMs: number,
): Promise<MonitoringGap[]> {
  await ctx.scope.assertChannel(p, id);
  return ctx.monitor.gaps(id, fromMs, toMs);
}

/** A channel's local day: its detections and its monitoring gaps, for the reviewer's timeline. */
export interface ChannelDay {
  channel: { id: string; name: string; timeZone: string };
  date: string;
  startMs: number;
  endMs: number;
  detections: DetectionView[];
  gaps: MonitoringGap[];
  /** Share of the day (so far) the channel was heard. */
  heardRatio: number | null;
}

export async function channelDay(
  ctx: AppContext,
  p: Caller,
  id: string,
  date: string | null,
): Promise<ChannelDay> {
  await ctx.scope.assertChannel(p, id);
  const ch = (await ctx.monitor.getChannel(id))!;
  const d = date ?? localDate(ch.timeZone, ctx.now());
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(d);
  if (!m) throw badInput(`date must be YYYY-MM-DD, got ${JSON.stringify(d)}`);
  const [y, mo, day] = m.slice(1).map(Number);
  const startMs = fromLocal(ch.timeZone, y, mo, day);
  const endMs = fromLocal(ch.timeZone, y, mo, day + 1);
  if (!Number.isFinite(startMs) || localDate(ch.timeZone, startMs) !== d)
    throw badInput(`${d} is not a date`);
  const { items } = await listDetections(
    ctx,
    p,
    { channelId: id, fromMs: startMs, toMs: endMs, sort: 'time', order: 'asc' },
    {
      limit: 5000,
      offset: 0,
    },
  );
  const gaps = await ctx.monitor.gaps(id, startMs, endMs);
  const state = await ctx.monitor.state(id);
  const until = Math.min(endMs, ctx.now());
  let heardRatio: number | null = null;
  if (state && until > startMs) {
    heardRatio = uptimeRatio(gaps, startMs, until, Number(state.first_started_ms));
  }
  return {
    channel: { id: ch.id, name: ch.name, timeZone: ch.timeZone },
    date: d,
    startMs,
    endMs,
    detections: items,
    gaps,
    heardRatio,
  };
}
