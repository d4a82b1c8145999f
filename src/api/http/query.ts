import { KZ_TIME_ZONE, fromLocal, parsePeriod, type Period } from '../../catalog/index.js';
import type { ApiConfig } from '../config.js';
import { badInput } from '../errors.js';

export interface Paging {
  limit: number;
  offset: number;
}

export function paging(q: { limit?: number; offset?: number }, config: ApiConfig): Paging {
  return { limit: Math.min(q.limit ?? config.pageSizeDefault, config.pageSizeMax), offset: q.offset ?? 0 };
}

export function pageBody<T>(items: T[], total: number, p: Paging) {
  return {
    items,
    total,
    limit: p.limit,
    offset: p.offset,
    nextOffset: p.offset + items.length < total ? p.offset + items.length : null,
  };
}

/** A time given as epoch ms, an ISO 8601 instant, or a date (its start in `zone`). */
export function parseTime(value: string, name: string, zone = KZ_TIME_ZONE): number {
  const v = value.trim();
  if (/^\d{10,15}$/.test(v)) return Number(v);
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (d) {
    const [y, m, day] = d.slice(1).map(Number);
    if (m < 1 || m > 12 || day < 1 || day > 31) throw badInput(`${name}: ${v} is not a date`);
    return fromLocal(zone, y, m, day);
  }
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) {
    throw badInput(`${name}: "${v}" is not a time (use 2026-03-01, 2026-03-01T10:00:00+05:00 or epoch ms)`);
  }
  return ms;
}

export function periodParam(value: string): Period {
  try {
    return parsePeriod(value);
  } catch (err) {
    throw badInput(err instanceof Error ? err.message : String(err));
  }
}

/** [from, to) from optional from/to/period query values. */
export function timeRange(q: { from?: string; to?: string; period?: string }): {
  fromMs: number | null;
  toMs: number | null;
} {
  let fromMs: number | null = q.from ? parseTime(q.from, 'from') : null;
  let toMs: number | null = q.to ? parseTime(q.to, 'to') : null;
  if (q.period) {
    const p = periodParam(q.period);
    fromMs = Math.max(fromMs ?? p.startMs, p.startMs);
    toMs = Math.min(toMs ?? p.endMs, p.endMs);
  }
  if (fromMs !== null && toMs !== null && toMs <= fromMs) throw badInput('to must be after from');
  return { fromMs, toMs };
}
