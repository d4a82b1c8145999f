/**
 * Money is integer tiyn (1 KZT = 100 tiyn). At the edges (types, database, reports) tiyn are JS numbers
 * checked to be safe integers; inside computations they are bigint, with exact rational quotas, so no
 * float ever touches money. Rates and coefficients are decimal strings with up to 6 decimals (micro units).
 */

export const MICRO = 1_000_000n;

export class MoneyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoneyError';
  }
}

/** Asserts an amount of tiyn is a safe integer and returns it. */
export function assertTiyn(amount: number, what = 'amount'): number {
  if (!Number.isSafeInteger(amount)) throw new MoneyError(`${what} ${amount} is not a whole number of tiyn`);
  return amount;
}

/** bigint tiyn -> number, refusing anything beyond 2^53. */
export function toTiyn(amount: bigint, what = 'amount'): number {
  const n = Number(amount);
  if (!Number.isSafeInteger(n))
    throw new MoneyError(`${what} ${amount} tiyn is beyond the safe integer range`);
  return n;
}

/** A non-negative decimal string ("1.5", "0.000125") to micro units (1_500_000n, 125n). */
export function parseMicro(value: unknown, what: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value) * MICRO;
  if (typeof value !== 'string') throw new MoneyError(`${what}: expected a decimal string such as "1.5"`);
  const m = /^(\d+)(?:\.(\d{1,6}))?$/.exec(value.trim());
  if (!m) throw new MoneyError(`${what}: "${value}" is not a non-negative decimal with at most 6 decimals`);
  return BigInt(m[1]) * MICRO + BigInt((m[2] ?? '').padEnd(6, '0'));
}

export function formatMicro(micro: bigint): string {
  const neg = micro < 0n;
  const abs = neg ? -micro : micro;
  const int = abs / MICRO;
  const frac = (abs % MICRO).toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** Tiyn as "1 234.56 KZT"-like text: thousands separated by thin spaces, always two decimals. */
export function formatKzt(tiyn: number | bigint): string {
  const t = BigInt(tiyn);
  const neg = t < 0n;
  const abs = neg ? -t : t;
  const kzt = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return `${neg ? '-' : ''}${kzt}.${(abs % 100n).toString().padStart(2, '0')} KZT`;
}

export function floorDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new MoneyError('division by a non-positive denominator');
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Rounds a/b to the nearest integer, halves away from zero. */
export function roundHalfUp(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new MoneyError('division by a non-positive denominator');
  const neg = a < 0n;
  const abs = neg ? -a : a;
  const q = (2n * abs + b) / (2n * b);
  return neg ? -q : q;
}

/**
 * Largest-remainder rounding: integer amounts for quotas quotaNums[i]/den that sum exactly to `total`.
 * Each item gets floor(quota) and the items with the largest remainders get one more tiyn until the
 * total is reached; ties go to the earlier item, so the result is deterministic.
 * Requires sum(floor(quota)) <= total <= sum(floor(quota)) + (items with a remainder).
 */
export function largestRemainder(total: bigint, quotaNums: readonly bigint[], den: bigint): bigint[] {
  if (den <= 0n) throw new MoneyError('largest remainder: denominator must be positive');
  const n = quotaNums.length;
  const out = new Array<bigint>(n);
  const rems = new Array<bigint>(n);
  let sum = 0n;
  for (let i = 0; i < n; i++) {
    const q = quotaNums[i];
    if (q < 0n) throw new MoneyError('largest remainder: negative quota');
    out[i] = q / den;
    rems[i] = q % den;
    sum += out[i];
  }
  let left = total - sum;
  if (left < 0n) throw new MoneyError(`largest remainder: quotas exceed the total ${total} by ${-left}`);
  if (left === 0n) return out;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (rems[i] > 0n) order.push(i);
  if (BigInt(order.length) < left) {
    throw new MoneyError(
      `largest remainder: ${left} tiyn left over but only ${order.length} items to round up`,
    );
  }
  order.sort((a, b) => (rems[a] > rems[b] ? -1 : rems[a] < rems[b] ? 1 : a - b));
  for (let k = 0; left > 0n; k++, left--) out[order[k]] += 1n;
  return out;
}

/**
 * allocateProRata in doubles, for the small amounts of one airing: exact because every product and sum
 * stays below 2^53 (checked; null when it would not, and the caller uses the bigint version).
 * Floors come from the remainder (a % b is exact), never from a rounded quotient.
 */
export function allocateProRataSmall(total: number, weights: readonly number[]): number[] | null {
  const n = weights.length;
  if (n === 1) return weights[0] > 0 || total === 0 ? [total] : null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i];
  if (!(sum > 0) || total < 0 || total * sum > Number.MAX_SAFE_INTEGER) return null;
  const out = new Array<number>(n);
  const rems = new Array<number>(n);
  let given = 0;
  for (let i = 0; i < n; i++) {
    const a = total * weights[i];
    const r = a % sum;
    out[i] = (a - r) / sum;
    rems[i] = r;
    given += out[i];
  }
  let left = total - given;
  while (left > 0) {
    let best = -1;
    for (let i = 0; i < n; i++) if (rems[i] > 0 && (best < 0 || rems[i] > rems[best])) best = i;
    out[best] += 1;
    rems[best] = 0;
    left--;
  }
  return out;
}

/** Splits `total` pro rata over non-negative weights by largest remainder (all-zero weights: an error). */
export function allocateProRata(total: bigint, weights: readonly bigint[]): bigint[] {
  let sum = 0n;
  for (const w of weights) {
    if (w < 0n) throw new MoneyError('pro rata: negative weight');
    sum += w;
  }
  if (sum === 0n) {
    if (total === 0n) return weights.map(() => 0n);
    throw new MoneyError(`pro rata: ${total} tiyn to share but every weight is zero`);
  }
  return largestRemainder(
    total,
    weights.map((w) => total * w),
    sum,
  );
}
