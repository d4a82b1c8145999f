import { RIGHT_TYPES, type RightType } from '../catalog/index.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { MICRO, parseMicro } from './money.js';

/**
 * Tariff rules: declarative, composable, versioned. A tariff version holds one `TariffRules` document
 * (canonical JSON); versions are never edited, a change is a new version valid from a month start.
 *
 *   basis              per_second (rateTiyn, or rateMci converted at the year's MCI) | revenue_pool (percent)
 *   rightTypeSplit     how the money divides between right types, percent, sums to 100
 *   channelWeights     per channel id (defaultChannelWeight for the rest, 1 if absent)
 *   dayparts           local time-of-day coefficients in the channel's time zone (uncovered hours: 1)
 *   useTypeWeights     featured / background / under_speech / unknown (1 if absent)
 *   minimumFee         per period, tiyn or MCI
 *   administration     the CMO's deduction, percent, capped at 20 % (at least 80 % is paid out)
 *   minDurationSec     detections shorter than this are not paid (default 0: every second counts)
 *
 * Decimal values are strings with up to 6 decimals ("1.25"); whole numbers may be plain integers.
 */

export interface TariffRules {
  basis:
    { kind: 'per_second'; rateTiyn?: string; rateMci?: string } | { kind: 'revenue_pool'; percent: string };
  rightTypeSplit: Partial<Record<RightType, string>>;
  channelWeights?: Record<string, string>;
  defaultChannelWeight?: string;
  dayparts?: Array<{ from: string; to: string; coefficient: string }>;
  useTypeWeights?: Partial<Record<UseTypeKey, string>>;
  minimumFee?: { tiyn?: number; mci?: string };
  administration?: { percent: string };
  minDurationSec?: number;
}

export const USE_TYPE_KEYS = ['featured', 'background', 'under_speech', 'unknown'] as const;
export type UseTypeKey = (typeof USE_TYPE_KEYS)[number];

/** Kazakh law: a CMO pays out at least 80 % of what it collects. */
export const MAX_ADMINISTRATION_PERCENT_MICRO = 20n * MICRO;

export class TariffRuleError extends Error {
  constructor(readonly problems: string[]) {
    super(`tariff rules are not valid: ${problems.join('; ')}`);
    this.name = 'TariffRuleError';
  }
}

const DAY_MS = 86_400_000;

function hhmm(value: unknown, path: string, problems: string[]): number {
  const m = typeof value === 'string' ? /^(\d{2}):(\d{2})$/.exec(value) : null;
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) !== 0)) {
    problems.push(`${path}: "${String(value)}" is not a time HH:MM`);
    return 0;
  }
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

function micro(value: unknown, path: string, problems: string[]): bigint {
  try {
    return parseMicro(value, path);
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
    return 0n;
  }
}

/** A daypart in milliseconds of the local day, [fromMs, toMs). */
export interface Daypart {
  fromMs: number;
  toMs: number;
  coefficientMicro: bigint;
}

/** Rules in computable form (micro units as bigint). MCI amounts are converted for one year. */
export interface CompiledRules {
  basis: { kind: 'per_second'; rateMicroTiynPerSec: bigint } | { kind: 'revenue_pool'; percentMicro: bigint };
  split: Array<{ rightType: RightType; percentMicro: bigint }>;
  channelWeightMicro: ReadonlyMap<string, bigint>;
  defaultChannelWeightMicro: bigint;
  /** Sorted, non-overlapping, covering only the listed hours (a wrap past midnight is split in two). */
  dayparts: Daypart[];
  useTypeWeightMicro: Record<UseTypeKey, bigint>;
  minimumFeeTiyn: bigint;
  administrationPercentMicro: bigint;
  minDurationMs: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const TOP_KEYS = new Set([
  'basis',
  'rightTypeSplit',
  'channelWeights',
  'defaultChannelWeight',
  'dayparts',
  'useTypeWeights',
  'minimumFee',
  'administration',
  'minDurationSec',
]);

/**
 * Validates a rules document and compiles it. `mciTiyn` is the MCI value for the period's year (needed
 * only when the rules are in MCI). Every problem is reported, each with its path.
 */
export function compileRules(
  doc: unknown,
  opts: { mciTiyn?: number | null; year?: number } = {},
): CompiledRules {
  const problems: string[] = [];
  if (!isObject(doc)) throw new TariffRuleError(['rules must be a JSON object']);
  for (const k of Object.keys(doc))
    if (!TOP_KEYS.has(k)) problems.push(`${k}: unknown rule (known: ${[...TOP_KEYS].join(', ')})`);
  const needMci = (path: string): bigint => {
    if (opts.mciTiyn === undefined) return 1n; // validating only: any positive value will do
    if (opts.mciTiyn === null) {
      problems.push(
        `${path}: the MCI value for ${opts.year ?? 'this year'} is not configured (tyndau tariff mci --year ${opts.year ?? 'YYYY'} --kzt N)`,
      );
      return 0n;
    }
    return BigInt(opts.mciTiyn);
  };

  let basis: CompiledRules['basis'] = { kind: 'per_second', rateMicroTiynPerSec: 0n };
  const b = doc.basis;
  if (!isObject(b)) problems.push('basis: required, e.g. {"kind":"per_second","rateTiyn":"0.5"}');
  else if (b.kind === 'per_second') {
    if ((b.rateTiyn === undefined) === (b.rateMci === undefined))
      problems.push('basis: per_second needs exactly one of rateTiyn, rateMci');
    else if (b.rateTiyn !== undefined)
      basis = { kind: 'per_second', rateMicroTiynPerSec: micro(b.rateTiyn, 'basis.rateTiyn', problems) };
    else
      basis = {
        kind: 'per_second',
        rateMicroTiynPerSec: micro(b.rateMci, 'basis.rateMci', problems) * needMci('basis.rateMci'),
      };
    for (const k of Object.keys(b))
      if (!['kind', 'rateTiyn', 'rateMci'].includes(k))
        problems.push(`basis.${k}: unknown field for per_second`);
  } else if (b.kind === 'revenue_pool') {
    const pct = micro(b.percent, 'basis.percent', problems);
    if (pct > 100n * MICRO) problems.push('basis.percent: over 100');
    basis = { kind: 'revenue_pool', percentMicro: pct };
    for (const k of Object.keys(b))
      if (!['kind', 'percent'].includes(k)) problems.push(`basis.${k}: unknown field for revenue_pool`);
  } else problems.push(`basis.kind: "${String(b.kind)}" is not per_second or revenue_pool`);

  const split: CompiledRules['split'] = [];
  if (!isObject(doc.rightTypeSplit))
    problems.push(
      'rightTypeSplit: required, e.g. {"performing":"100"} or {"performer":"50","producer":"50"}',
    );
  else {
    let total = 0n;
    for (const [rt, v] of Object.entries(doc.rightTypeSplit)) {
      if (!RIGHT_TYPES.includes(rt as RightType)) {
        problems.push(`rightTypeSplit.${rt}: not a right type (${RIGHT_TYPES.join(', ')})`);
        continue;
      }
      const pct = micro(v, `rightTypeSplit.${rt}`, problems);
      total += pct;
      if (pct > 0n) split.push({ rightType: rt as RightType, percentMicro: pct });
    }
    split.sort((x, y) => RIGHT_TYPES.indexOf(x.rightType) - RIGHT_TYPES.indexOf(y.rightType));
    if (total !== 100n * MICRO)
      problems.push(`rightTypeSplit: percentages sum to ${Number(total) / 1e6}, not 100`);
  }

  const channelWeightMicro = new Map<string, bigint>();
  if (doc.channelWeights !== undefined) {
    if (!isObject(doc.channelWeights))
      problems.push('channelWeights: expected an object {channelId: weight}');
    else
      for (const [ch, v] of Object.entries(doc.channelWeights))
        channelWeightMicro.set(ch, micro(v, `channelWeights.${ch}`, problems));
  }
  const defaultChannelWeightMicro =
    doc.defaultChannelWeight === undefined
      ? MICRO
      : micro(doc.defaultChannelWeight, 'defaultChannelWeight', problems);

  const dayparts: Daypart[] = [];
  if (doc.dayparts !== undefined) {
    if (!Array.isArray(doc.dayparts)) problems.push('dayparts: expected a list of {from, to, coefficient}');
    else
      doc.dayparts.forEach((dp: unknown, i: number) => {
        const path = `dayparts[${i}]`;
        if (!isObject(dp)) {
          problems.push(`${path}: expected {from, to, coefficient}`);
          return;
        }
        const from = hhmm(dp.from, `${path}.from`, problems);
        const to = hhmm(dp.to, `${path}.to`, problems);
        const c = micro(dp.coefficient, `${path}.coefficient`, problems);
        if (from === to) problems.push(`${path}: from and to are equal (an empty daypart)`);
        else if (from < to) dayparts.push({ fromMs: from, toMs: to, coefficientMicro: c });
        else {
          // wraps past midnight, e.g. 22:00-02:00
          dayparts.push({ fromMs: from, toMs: DAY_MS, coefficientMicro: c });
          if (to > 0) dayparts.push({ fromMs: 0, toMs: to, coefficientMicro: c });
        }
      });
    dayparts.sort((x, y) => x.fromMs - y.fromMs);
    for (let i = 1; i < dayparts.length; i++) {
      if (dayparts[i].fromMs < dayparts[i - 1].toMs) problems.push('dayparts: two dayparts overlap');
    }
  }

  const useTypeWeightMicro: Record<UseTypeKey, bigint> = {
    featured: MICRO,
    background: MICRO,
    under_speech: MICRO,
    unknown: MICRO,
  };
  if (doc.useTypeWeights !== undefined) {
    if (!isObject(doc.useTypeWeights)) problems.push('useTypeWeights: expected an object');
    else
      for (const [k, v] of Object.entries(doc.useTypeWeights)) {
        if (!USE_TYPE_KEYS.includes(k as UseTypeKey))
          problems.push(`useTypeWeights.${k}: not a use type (${USE_TYPE_KEYS.join(', ')})`);
        else useTypeWeightMicro[k as UseTypeKey] = micro(v, `useTypeWeights.${k}`, problems);
      }
  }

  let minimumFeeTiyn = 0n;
  if (doc.minimumFee !== undefined) {
    const mf = doc.minimumFee;
    if (!isObject(mf) || (mf.tiyn === undefined) === (mf.mci === undefined))
      problems.push('minimumFee: expected {"tiyn": N} or {"mci": "N"}');
    else if (mf.tiyn !== undefined) {
      if (typeof mf.tiyn !== 'number' || !Number.isSafeInteger(mf.tiyn) || mf.tiyn < 0)
        problems.push('minimumFee.tiyn: expected a whole number of tiyn');
      else minimumFeeTiyn = BigInt(mf.tiyn);
    } else {
      // MCI minimum fees are rounded half up to the tiyn.
      const m = micro(mf.mci, 'minimumFee.mci', problems) * needMci('minimumFee.mci');
      minimumFeeTiyn = (m + MICRO / 2n) / MICRO;
    }
  }

  let administrationPercentMicro = 0n;
  if (doc.administration !== undefined) {
    if (!isObject(doc.administration)) problems.push('administration: expected {"percent": "15"}');
    else {
      administrationPercentMicro = micro(doc.administration.percent, 'administration.percent', problems);
      if (administrationPercentMicro > MAX_ADMINISTRATION_PERCENT_MICRO) {
        problems.push(
          'administration.percent: over the 20 % cap (Kazakh law requires at least 80 % to be paid out)',
        );
      }
    }
  }

  let minDurationMs = 0;
  if (doc.minDurationSec !== undefined) {
    const v = doc.minDurationSec;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      problems.push('minDurationSec: expected a whole non-negative number of seconds');
    else minDurationMs = v * 1000;
  }

  if (problems.length) throw new TariffRuleError(problems);
  return {
    basis,
    split,
    channelWeightMicro,
    defaultChannelWeightMicro,
    dayparts,
    useTypeWeightMicro,
    minimumFeeTiyn,
    administrationPercentMicro,
    minDurationMs,
  };
}

/** Whether the rules need an MCI value to be computed. */
export function rulesUseMci(doc: TariffRules): boolean {
  return (
    (doc.basis.kind === 'per_second' && doc.basis.rateMci !== undefined) || doc.minimumFee?.mci !== undefined
  );
}

/** Validates and canonicalises a rules document: the exact bytes stored in a tariff version, and their hash. */
export function canonicalRules(doc: unknown): { rulesJson: string; rulesHash: string; rules: TariffRules } {
  compileRules(doc);
  const rulesJson = canonicalJson(doc);
  return { rulesJson, rulesHash: sha256Hex(rulesJson), rules: JSON.parse(rulesJson) as TariffRules };
}
