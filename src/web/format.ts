import { INTL_TAG, type Locale } from './i18n/index.js';

/**
 * Dates, times, numbers and tenge in the reader's locale (Intl), in the time zone that matters (a
 * channel's own, or Kazakhstan's). Money arrives as integer tiyn and is formatted from its exact decimal
 * text, never through a float.
 */
export class Fmt {
  private readonly tag: string;
  private readonly cache = new Map<string, Intl.DateTimeFormat>();
  private readonly tenge: Intl.NumberFormat;
  private readonly num: Intl.NumberFormat;
  private readonly pct: Intl.NumberFormat;

  constructor(
    readonly locale: Locale,
    readonly defaultZone: string,
  ) {
    this.tag = INTL_TAG[locale];
    this.tenge = new Intl.NumberFormat(this.tag, {
      style: 'currency',
      currency: 'KZT',
      currencyDisplay: 'narrowSymbol',
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    this.num = new Intl.NumberFormat(this.tag, { maximumFractionDigits: 2 });
    this.pct = new Intl.NumberFormat(this.tag, { style: 'percent', maximumFractionDigits: 1 });
  }

  private dtf(kind: string, zone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    const key = `${kind}|${zone}`;
    let f = this.cache.get(key);
    if (!f) {
      f = new Intl.DateTimeFormat(this.tag, { ...opts, timeZone: zone });
      this.cache.set(key, f);
    }
    return f;
  }

  dateTime(ms: number, zone = this.defaultZone): string {
    return this.dtf('dt', zone, { dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' }).format(ms);
  }

  date(ms: number, zone = this.defaultZone): string {
    return this.dtf('d', zone, { dateStyle: 'medium' }).format(ms);
  }

  longDate(ms: number, zone = this.defaultZone): string {
    return this.dtf('ld', zone, { dateStyle: 'full' }).format(ms);
  }

  time(ms: number, zone = this.defaultZone): string {
    return this.dtf('t', zone, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    }).format(ms);
  }

  /** A period YYYY-MM as "March 2026" in the locale. */
  period(period: string): string {
    const [y, m] = period.split('-').map(Number);
    return this.dtf('p', 'UTC', { year: 'numeric', month: 'long' }).format(Date.UTC(y, m - 1, 15));
  }

  /** A plain date YYYY-MM-DD (a calendar day, no zone) in the locale. */
  day(date: string): string {
    const [y, m, d] = date.split('-').map(Number);
    return this.dtf('day', 'UTC', { dateStyle: 'medium' }).format(Date.UTC(y, m - 1, d));
  }

  shortDay(date: string): string {
    const [y, m, d] = date.split('-').map(Number);
    return this.dtf('sd', 'UTC', { day: 'numeric', month: 'short' }).format(Date.UTC(y, m - 1, d));
  }

  /** A local wall-clock text "YYYY-MM-DD HH:MM:SS" (a channel's local time) in the locale's date order. */
  localText(text: string): string {
    const [date, time] = text.split(' ');
    return /^\d{4}-\d{2}-\d{2}$/.test(date ?? '') ? `${this.day(date)}, ${time ?? ''}`.trim() : text;
  }

  /** Integer tiyn as tenge: exact, with the locale's grouping and the ₸ sign. */
  tiyn(amount: number | bigint): string {
    const n = BigInt(amount);
    const neg = n < 0n;
    const a = neg ? -n : n;
    const text = `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
    // Intl.NumberFormat formats a decimal string exactly (no float conversion)
    return this.tenge.format(text as unknown as number);
  }

  number(n: number): string {
    return this.num.format(n);
  }

  percent(ratio: number): string {
    return this.pct.format(ratio);
  }

  /** Seconds as m:ss or h:mm:ss. */
  duration(sec: number): string {
    const s = Math.round(sec);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const r = String(s % 60).padStart(2, '0');
    return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
  }
}
