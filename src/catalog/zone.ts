/**
 * Local time in IANA zones through Intl.DateTimeFormat (no Temporal). Kazakhstan moved to a single UTC+5
 * on 1 March 2024 (Asia/Almaty was UTC+6 before); the tz database knows, so we ask it rather than hard-code.
 * Offsets are cached per zone and quarter hour: every offset change in the tz database falls on one.
 */

/** The zone in which accrual periods (calendar months) and plain dates are taken. */
export const KZ_TIME_ZONE = 'Asia/Almaty';

const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone: quarter-hour index -> offset ms. Numeric keys: no string building on the hot path. */
const offsetCache = new Map<string, Map<number, number>>();
/** Per zone: local day index -> "YYYY-MM-DD". */
const dateCache = new Map<string, Map<number, string>>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`unknown time zone "${zone}" (expected an IANA name such as Asia/Almaty)`);
    }
    formatters.set(zone, f);
  }
  return f;
}

/** Throws a clear RangeError when `zone` is not an IANA time zone. */
export function assertTimeZone(zone: string): void {
  formatter(zone);
}

/** The zone's offset from UTC at `ms`, in milliseconds (UTC+5 -> 18 000 000). */
export function zoneOffsetMs(zone: string, ms: number): number {
  const quarter = Math.floor(ms / QUARTER_MS);
  let cache = offsetCache.get(zone);
  if (!cache) offsetCache.set(zone, (cache = new Map()));
  const cached = cache.get(quarter);
  if (cached !== undefined) return cached;
  const at = quarter * QUARTER_MS;
  const parts = formatter(zone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  const offset = asUtc - at;
  if (cache.size > 200_000) cache.clear();
  cache.set(quarter, offset);
  return offset;
}

/** Milliseconds since local midnight at `ms`. */
export function localMsOfDay(zone: string, ms: number): number {
  const local = ms + zoneOffsetMs(zone, ms);
  return ((local % DAY_MS) + DAY_MS) % DAY_MS;
}

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  /** Milliseconds since local midnight. */
  msOfDay: number;
}

export function toLocal(zone: string, ms: number): LocalDateTime {
  const local = ms + zoneOffsetMs(zone, ms);
  const d = new Date(local);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    msOfDay: ((local % DAY_MS) + DAY_MS) % DAY_MS,
  };
}

/** The UTC instant of a local wall-clock time (for a gap or overlap, the earlier reading of the offset). */
export function fromLocal(zone: string, year: number, month: number, day: number, msOfDay = 0): number {
  const wall = Date.UTC(year, month - 1, day) + msOfDay;
  let utc = wall - zoneOffsetMs(zone, wall);
  utc = wall - zoneOffsetMs(zone, utc);
  return utc;
}

/** YYYY-MM-DD of the local date at `ms`. */
export function localDate(zone: string, ms: number): string {
  const dayIndex = Math.floor((ms + zoneOffsetMs(zone, ms)) / DAY_MS);
  let cache = dateCache.get(zone);
  if (!cache) dateCache.set(zone, (cache = new Map()));
  let s = cache.get(dayIndex);
  if (s === undefined) {
    const d = new Date(dayIndex * DAY_MS);
    s = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
    if (cache.size > 100_000) cache.clear();
    cache.set(dayIndex, s);
  }
  return s;
}

/** "YYYY-MM-DD HH:MM:SS" local wall-clock time at `ms`. */
export function formatLocal(zone: string, ms: number): string {
  const l = toLocal(zone, ms);
  const s = Math.floor(l.msOfDay / 1000);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${localDate(zone, ms)} ${hh}:${mm}:${ss}`;
}

/** An accrual period: a calendar month in Kazakhstan time, e.g. "2026-11". */
export interface Period {
  id: string;
  startMs: number;
  endMs: number;
  year: number;
  month: number;
}

export function parsePeriod(value: string, zone = KZ_TIME_ZONE): Period {
  const m = /^(\d{4})-(\d{2})$/.exec(value.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) {
    throw new RangeError(`period "${value}" is not valid: expected a month as YYYY-MM, e.g. 2026-11`);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const next = month === 12 ? { y: year + 1, m: 1 } : { y: year, m: month + 1 };
  return {
    id: `${m[1]}-${m[2]}`,
    year,
    month,
    startMs: fromLocal(zone, year, month, 1),
    endMs: fromLocal(zone, next.y, next.m, 1),
  };
}

/** The period containing `ms`. */
export function periodOf(ms: number, zone = KZ_TIME_ZONE): Period {
  const l = toLocal(zone, ms);
  return parsePeriod(`${l.year}-${String(l.month).padStart(2, '0')}`, zone);
}
