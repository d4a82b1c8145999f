/** Health arithmetic: uptime over a window, a channel's local day, logger-file time stamps. */

export interface Interval {
  startMs: number;
  /** null = still going (counts until the window's end). */
  endMs: number | null;
}

/**
 * Share of [fromMs, toMs) in which the channel was heard: 1 minus the union of the gaps inside the
 * window. `monitoredSinceMs` (the first time the channel was ever monitored) shortens the window:
 * time before monitoring began is neither uptime nor gap. Null when the window is empty.
 */
export function uptimeRatio(
  gaps: readonly Interval[],
  fromMs: number,
  toMs: number,
  monitoredSinceMs: number | null = null,
): number | null {
  const start = monitoredSinceMs === null ? fromMs : Math.max(fromMs, monitoredSinceMs);
  if (toMs <= start) return null;
  const clipped = gaps
    .map((g) => [Math.max(start, g.startMs), Math.min(toMs, g.endMs ?? toMs)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let down = 0;
  let curA = Number.NEGATIVE_INFINITY;
  let curB = Number.NEGATIVE_INFINITY;
  for (const [a, b] of clipped) {
    if (a > curB) {
      if (curB > curA) down += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) {
      curB = b;
    }
  }
  if (curB > curA) down += curB - curA;
  return 1 - down / (toMs - start);
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

/** Throws a clear error for a time zone Intl does not know. */
export function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new Error(`unknown time zone "${timeZone}" (use an IANA name such as Asia/Almaty)`);
  }
}

function zoneParts(timeZone: string, utcMs: number): number[] {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    checkTimeZone(timeZone);
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)!.value);
  return [get('year'), get('month'), get('day'), get('hour'), get('minute'), get('second')];
}

/** The zone's offset from UTC at that instant, ms (Asia/Almaty: +5 h). */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const [y, mo, d, h, mi, s] = zoneParts(timeZone, utcMs);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** UTC of a local wall-clock time in a zone (the earlier instant when a clock change makes it ambiguous). */
export function zonedTimeToUtcMs(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  let guess = local - zoneOffsetMs(timeZone, local);
  guess = local - zoneOffsetMs(timeZone, guess);
  return guess;
}

/** [start, end) in UTC ms of the local calendar day containing `utcMs` in the zone. */
export function localDayBounds(timeZone: string, utcMs: number): [number, number] {
  const [y, mo, d] = zoneParts(timeZone, utcMs);
  const start = zonedTimeToUtcMs(timeZone, y, mo, d);
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  const end = zonedTimeToUtcMs(timeZone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  return [start, end];
}

/**
 * The start time a logger put in a file name, read in the channel's zone: 20250314-153000,
 * 2025-03-14_15-30-00, 2025-03-14T15:30:00, 20250314_1530 (seconds optional). Null if there is none.
 */
export function loggerFileStartMs(fileName: string, timeZone: string): number | null {
  const m = /(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[-:h.]?(\d{2})(?:[-:m.]?(\d{2}))?/.exec(fileName);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  return zonedTimeToUtcMs(timeZone, y, mo, d, h, mi, s);
}
