import { sql } from 'kysely';
import { KZ_TIME_ZONE, localDate, periodOf, zoneOffsetMs } from '../../catalog/index.js';
import type { CmoSummary } from '../../royalty/index.js';
import { requireRole, type Caller } from '../access.js';
import type { AppContext } from '../context.js';
import { royaltyCall } from './royalty.js';
import { listChannels, type ChannelView } from './channels.js';

const DAY_MS = 86_400_000;

export interface DayCount {
  date: string;
  count: number;
  airtimeSec: number;
}

/**
 * Detections per local day (Kazakhstan time) over the last `days` days, optionally per channel.
 * Days are cut at the zone's current UTC offset (Kazakhstan keeps one offset all year since 2024).
 */
async function perDay(
  ctx: AppContext,
  days: number,
  channelIds: string[] | null,
): Promise<Map<string, DayCount[]>> {
  const now = ctx.now();
  const offset = zoneOffsetMs(KZ_TIME_ZONE, now);
  const today = Math.floor((now + offset) / DAY_MS);
  const first = today - days + 1;
  const fromMs = first * DAY_MS - offset;
  // literals, not parameters: PostgreSQL matches the GROUP BY expression to the selected one textually
  const dayExpr = sql<number>`floor((start_ms + ${sql.lit(offset)}) / ${sql.lit(DAY_MS)})`;
  let q = ctx.db
    .selectFrom('detections')
    .select((eb) => [
      'channel_id',
      dayExpr.as('day'),
      eb.fn.countAll<string | number>().as('n'),
      eb.fn.sum<string | number>(sql`end_ms - start_ms`).as('ms'),
    ])
    .where('start_ms', '>=', fromMs)
    .where('status', '!=', 'rejected')
    .groupBy(['channel_id', dayExpr]);
  if (channelIds) q = q.where('channel_id', 'in', channelIds.length ? channelIds : ['\u0000']);
  const rows = await q.execute();
  const out = new Map<string, DayCount[]>();
  const blank = (): DayCount[] =>
    Array.from({ length: days }, (_, i) => ({
      date: localDate('UTC', (first + i) * DAY_MS),
      count: 0,
      airtimeSec: 0,
    }));
  const all = blank();
  out.set('*', all);
  for (const r of rows) {
    const i = Number(r.day) - first;
    if (i < 0 || i >= days) continue;
    const series = out.get(r.channel_id) ?? blank();
    out.set(r.channel_id, series);
    for (const s of [series, all]) {
      s[i].count += Number(r.n);
      s[i].airtimeSec += Math.round(Number(r.ms) / 1000);
    }
  }
  return out;
}

export interface PublicStats {
  channelsMonitored: number;
  recordingsInCatalogue: number;
  recordingsEnrolled: number;
  worksInCatalogue: number;
  rightsHolders: number;
  detectionsLast30Days: number;
  airtimeHoursLast30Days: number;
  detectionsPerDay: DayCount[];
  /** Money accrued to rights holders (gross, all CMOs) per period, and what is held undistributed. */
  accruedByPeriod: Array<{ period: string; accruedTiyn: number; undistributedTiyn: number }>;
}

async function count(
  ctx: AppContext,
  table: 'channels' | 'recordings' | 'works' | 'rights_holders',
  where?: 'enabled' | 'enrolled',
): Promise<number> {
  let q = ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<string | number>().as('n'));
  if (where === 'enabled') q = q.where(sql.ref('enabled'), '=', 1);
  if (where === 'enrolled') q = q.where(sql.ref('fingerprint_ref'), 'is not', null);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

async function moneyByPeriod(ctx: AppContext, cmoId: string | null) {
  let q = ctx.db
    .selectFrom('accrual_lines as l')
    .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
    .select((eb) => [
      'e.period',
      sql<boolean>`l.reserve_reason is null`.as('distributed'),
      eb.fn.sum<string | number>('l.gross_tiyn').as('gross'),
      eb.fn.sum<string | number>('l.deduction_tiyn').as('deduction'),
    ])
    .where('e.period', 'is not', null)
    .groupBy(['e.period', sql`l.reserve_reason is null`])
    .orderBy('e.period');
  if (cmoId) q = q.innerJoin('licences as c', 'c.id', 'e.licence_id').where('c.cmo_id', '=', cmoId);
  const rows = await q.execute();
  const by = new Map<
    string,
    { period: string; accruedTiyn: number; deductedTiyn: number; undistributedTiyn: number }
  >();
  for (const r of rows) {
    const v = by.get(r.period!) ?? {
      period: r.period!,
      accruedTiyn: 0,
      deductedTiyn: 0,
      undistributedTiyn: 0,
    };
    if (Number(r.distributed) === 1 || r.distributed === true) {
      v.accruedTiyn += Number(r.gross);
      v.deductedTiyn += Number(r.deduction);
    } else v.undistributedTiyn += Number(r.gross);
    by.set(r.period!, v);
  }
  return [...by.values()];
}

/** What anyone may see: totals only, no channel, recording, holder or licensee named. */
export async function publicStats(ctx: AppContext): Promise<PublicStats> {
  const days = await perDay(ctx, 30, null);
  const series = days.get('*')!;
  return {
    channelsMonitored: await count(ctx, 'channels', 'enabled'),
    recordingsInCatalogue: await count(ctx, 'recordings'),
    recordingsEnrolled: await count(ctx, 'recordings', 'enrolled'),
    worksInCatalogue: await count(ctx, 'works'),
    rightsHolders: await count(ctx, 'rights_holders'),
    detectionsLast30Days: series.reduce((s, d) => s + d.count, 0),
    airtimeHoursLast30Days: Math.round(series.reduce((s, d) => s + d.airtimeSec, 0) / 36) / 100,
    detectionsPerDay: series,
    accruedByPeriod: (await moneyByPeriod(ctx, null)).map((m) => ({
      period: m.period,
      accruedTiyn: m.accruedTiyn,
      undistributedTiyn: m.undistributedTiyn,
    })),
  };
}

export interface OperatorStats {
  period: string;
  channels: Array<ChannelView & { gapsLast24h: number; gapSecLast24h: number }>;
  detectionsPerDay: DayCount[];
  detectionsPerDayByChannel: Record<string, DayCount[]>;
  moneyByPeriod: Array<{
    period: string;
    accruedTiyn: number;
    deductedTiyn: number;
    undistributedTiyn: number;
  }>;
  cmos: CmoSummary[];
  pendingReview: number;
  openDisputes: number;
}

/**
 * The operator's dashboard (a CMO reviewer gets the same for its CMO's channels and money): channels
 * with live state, uptime and gaps, detections per day, money accrued, deducted and undistributed per CMO.
 */
export async function operatorStats(
  ctx: AppContext,
  p: Caller,
  period: string | undefined,
): Promise<OperatorStats> {
  const who = requireRole(p, 'operator', 'cmo_reviewer');
  const money = await moneyByPeriod(ctx, who.user.role === 'operator' ? null : who.user.cmoId);
  // by default the latest period with money in the ledger, else the current month
  const per = period ?? money[money.length - 1]?.period ?? periodOf(ctx.now()).id;
  const { items } = await listChannels(ctx, p, { limit: 10_000, offset: 0 });
  const now = ctx.now();
  const channels = [];
  for (const ch of items) {
    const gaps = await ctx.monitor.gaps(ch.id, now - DAY_MS, now);
    const gapMs = gaps.reduce(
      (s, g) => s + Math.min(now, g.endMs ?? now) - Math.max(now - DAY_MS, g.startMs),
      0,
    );
    channels.push({ ...ch, gapsLast24h: gaps.length, gapSecLast24h: Math.round(gapMs / 1000) });
  }
  const days = await perDay(
    ctx,
    30,
    items.map((c) => c.id),
  );
  const cmoIds =
    who.user.role === 'operator' ? (await ctx.catalog.listCmos()).map((c) => c.id) : [who.user.cmoId!];
  const cmos: CmoSummary[] = [];
  for (const id of cmoIds) cmos.push(await royaltyCall(() => ctx.royalty.cmoSummary(id, per, now)));
  const scope = ctx.scope.detections(p, 'channel_id', 'recording_id');
  let pq = ctx.db
    .selectFrom('detections')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('status', '=', 'pending');
  if (scope) pq = pq.where(scope);
  let dq = ctx.db
    .selectFrom('usage_disputes')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('status', '=', 'open');
  if (who.user.role === 'cmo_reviewer') {
    dq = dq.where(
      'licensee_id',
      'in',
      ctx.db.selectFrom('licences').select('licensee_id').where('cmo_id', '=', who.user.cmoId!),
    );
  }
  return {
    period: per,
    channels,
    detectionsPerDay: days.get('*')!,
    detectionsPerDayByChannel: Object.fromEntries([...days].filter(([k]) => k !== '*')),
    moneyByPeriod: money,
    cmos,
    pendingReview: Number((await pq.executeTakeFirstOrThrow()).n),
    openDisputes: Number((await dq.executeTakeFirstOrThrow()).n),
  };
}
