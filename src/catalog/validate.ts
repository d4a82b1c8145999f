import { CatalogError } from './types.js';
import { KZ_TIME_ZONE, fromLocal, localDate } from './zone.js';

/**
 * Identifier validators with their check digits. Each `parseX` returns the canonical form or throws a
 * CatalogError that names the field, the value and what is wrong with it.
 */

function fail(field: string, value: string, why: string): never {
  throw new CatalogError(`${field} "${value}" is not valid: ${why}`);
}

/** ISRC: CC-XXX-YY-NNNNN (country, registrant, year, designation). Canonical form without hyphens. */
export function parseIsrc(value: string, field = 'ISRC'): string {
  const compact = value.trim().toUpperCase().replace(/-/g, '');
  if (compact.length !== 12)
    fail(field, value, `expected 12 characters as CC-XXX-YY-NNNNN, got ${compact.length}`);
  if (!/^[A-Z]{2}/.test(compact))
    fail(field, value, 'the first two characters must be a country code (letters)');
  if (!/^[A-Z]{2}[A-Z0-9]{3}/.test(compact))
    fail(field, value, 'the registrant code (characters 3-5) must be letters or digits');
  if (!/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/.test(compact))
    fail(field, value, 'the year and designation (last 7 characters) must be digits');
  return compact;
}

export function formatIsrc(isrc: string): string {
  return `${isrc.slice(0, 2)}-${isrc.slice(2, 5)}-${isrc.slice(5, 7)}-${isrc.slice(7)}`;
}

/** ISWC check digit: (10 - (1 + sum of i * digit_i for i = 1..9) mod 10) mod 10. */
export function iswcCheckDigit(nineDigits: string): number {
  let total = 1;
  for (let i = 0; i < 9; i++) total += (i + 1) * Number(nineDigits[i]);
  return (10 - (total % 10)) % 10;
}

/** ISWC: T + 9 digits + check digit; accepts T-034.524.680-1 and T0345246801. Canonical: T0345246801. */
export function parseIswc(value: string, field = 'ISWC'): string {
  const compact = value
    .trim()
    .toUpperCase()
    .replace(/[-.\s]/g, '');
  if (!/^T\d{10}$/.test(compact)) fail(field, value, 'expected T followed by 9 digits and a check digit');
  const expected = iswcCheckDigit(compact.slice(1, 10));
  if (Number(compact[10]) !== expected)
    fail(field, value, `check digit is ${compact[10]}, expected ${expected}`);
  return compact;
}

export function formatIswc(iswc: string): string {
  return `T-${iswc.slice(1, 4)}.${iswc.slice(4, 7)}.${iswc.slice(7, 10)}-${iswc.slice(10)}`;
}

/** IPI name number check: the last two digits are (101 - sum(d_i * (10 - i)) mod 101) mod 100 over the first 9. */
export function ipiCheckDigits(nineDigits: string): string {
  let total = 0;
  for (let i = 0; i < 9; i++) total += Number(nineDigits[i]) * (10 - i);
  total %= 101;
  const check = total === 0 ? 0 : (101 - total) % 100;
  return String(check).padStart(2, '0');
}

/** IPI name number: 11 digits (shorter values are zero-padded on the left, as CWR right-justifies them). */
export function parseIpiNameNumber(value: string, field = 'IPI name number'): string {
  const trimmed = value.trim();
  if (!/^\d{1,11}$/.test(trimmed)) fail(field, value, 'expected up to 11 digits');
  const digits = trimmed.padStart(11, '0');
  if (/^0+$/.test(digits)) fail(field, value, 'all zeros');
  const expected = ipiCheckDigits(digits.slice(0, 9));
  if (digits.slice(9) !== expected)
    fail(field, value, `check digits are ${digits.slice(9)}, expected ${expected}`);
  return digits;
}

/**
 * Kazakhstan IIN/BIN check digit: weights 1..11 mod 11; if that gives 10, weights 3..11,1,2 mod 11;
 * if that gives 10 again, no number with these 11 digits is issued (null).
 */
export function kzCheckDigit(elevenDigits: string): number | null {
  const d = Array.from(elevenDigits, Number);
  let sum = 0;
  for (let i = 0; i < 11; i++) sum += d[i] * (i + 1);
  let check = sum % 11;
  if (check === 10) {
    sum = 0;
    for (let i = 0; i < 11; i++) sum += d[i] * (((i + 2) % 11) + 1);
    check = sum % 11;
    if (check === 10) return null;
  }
  return check;
}

function parseKz12(value: string, field: string): string {
  const digits = value.trim();
  if (!/^\d{12}$/.test(digits)) fail(field, value, 'expected 12 digits');
  const expected = kzCheckDigit(digits.slice(0, 11));
  if (expected === null) fail(field, value, 'the first 11 digits admit no check digit (never issued)');
  if (Number(digits[11]) !== expected)
    fail(field, value, `check digit is ${digits[11]}, expected ${expected}`);
  return digits;
}

/** IIN of a natural person: YYMMDD, a century-and-sex digit 1-6, 4 digits, a check digit. */
export function parseIin(value: string, field = 'IIN'): string {
  const digits = parseKz12(value, field);
  const month = Number(digits.slice(2, 4));
  const day = Number(digits.slice(4, 6));
  if (month < 1 || month > 12 || day < 1 || day > 31)
    fail(field, value, 'the first six digits are not a date YYMMDD');
  if (!/[1-6]/.test(digits[6])) fail(field, value, 'the 7th digit (century and sex) must be 1-6');
  return digits;
}

/** BIN of a legal entity: YYMM of registration, a type digit 4-6, 6 digits, a check digit. */
export function parseBin(value: string, field = 'BIN'): string {
  const digits = parseKz12(value, field);
  const month = Number(digits.slice(2, 4));
  if (month < 1 || month > 12) fail(field, value, 'the first four digits are not a registration date YYMM');
  if (!/[4-6]/.test(digits[4])) fail(field, value, 'the 5th digit (entity type) must be 4, 5 or 6');
  return digits;
}

/** Completes 11 digits with their IIN/BIN check digit (used to make demo and test identifiers). */
export function withKzCheckDigit(elevenDigits: string): string | null {
  const check = kzCheckDigit(elevenDigits);
  return check === null ? null : `${elevenDigits}${check}`;
}

/** Completes 9 digits with their IPI name number check digits. */
export function withIpiCheckDigits(nineDigits: string): string {
  return `${nineDigits}${ipiCheckDigits(nineDigits)}`;
}

/** A percentage as a decimal string ("33.33") to basis points (3333); at most two decimals, 0..100. */
export function parsePercentBp(value: string, field = 'share'): number {
  const trimmed = value.trim().replace(/%$/, '').trim();
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(trimmed);
  if (!m) fail(field, value, 'expected a percentage such as 50 or 33.33 (at most two decimals)');
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (bp > 10000) fail(field, value, 'more than 100 %');
  return bp;
}

export function formatBp(bp: number): string {
  const sign = bp < 0 ? '-' : '';
  const abs = Math.abs(bp);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A calendar date YYYY-MM-DD (or a full ISO timestamp) to epoch ms; a plain date is local midnight in Kazakhstan. */
export function parseDateMs(value: string, field = 'date'): number {
  const trimmed = value.trim();
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(trimmed);
  if (dateOnly) {
    const [y, m, d] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    const probe = new Date(Date.UTC(y, m - 1, d));
    if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) {
      fail(field, value, 'no such calendar date');
    }
    return fromLocal(KZ_TIME_ZONE, y, m, d);
  }
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (Number.isFinite(ms)) return ms;
  }
  fail(field, value, 'expected a date YYYY-MM-DD or an ISO timestamp with a zone (Z or +05:00)');
}

/** YYYY-MM-DD in Kazakhstan time for an epoch ms (the inverse of parseDateMs for local midnights). */
export function formatDateMs(ms: number): string {
  return localDate(KZ_TIME_ZONE, ms);
}
