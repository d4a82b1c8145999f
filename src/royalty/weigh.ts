import { localMsOfDay, zoneOffsetMs } from '../catalog/index.js';
import { MICRO, formatMicro } from './money.js';
import type { CompiledRules, UseTypeKey } from './rules.js';

/**
 * Weighted airtime of one detection under one tariff: each stretch of airtime (split at daypart edges and
 * local midnight in the channel's time zone) counts its milliseconds times the daypart coefficient, the
 * channel weight and the use-type weight. Units are exact: 1 ms at weight 1 is UNITS_PER_MS.
 */
export const UNITS_PER_MS = MICRO * MICRO * MICRO;

const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;

export interface DetectionForWeighing {
  channelId: string;
  startMs: number;
  endMs: number;
  useType: string | null;
}

export interface AirtimeSegment {
  startMs: number;
  endMs: number;
  coefficientMicro: bigint;
}

export interface Weighing {
  airtimeMs: number;
  /** 0 when the detection is under the tariff's minimum duration (not paid). */
  units: bigint;
  segments: AirtimeSegment[];
  channelWeightMicro: bigint;
  useTypeWeightMicro: bigint;
  useType: UseTypeKey;
  belowMinimum: boolean;
}

export function useTypeKey(useType: string | null): UseTypeKey {
  return useType === 'featured' || useType === 'background' || useType === 'under_speech'
    ? useType
    : 'unknown';
}

function coefficientAt(
  rules: CompiledRules,
  msOfDay: number,
): { coefficientMicro: bigint; nextEdgeMs: number } {
  for (const dp of rules.dayparts) {
    if (msOfDay < dp.fromMs) return { coefficientMicro: MICRO, nextEdgeMs: dp.fromMs };
    if (msOfDay < dp.toMs) return { coefficientMicro: dp.coefficientMicro, nextEdgeMs: dp.toMs };
  }
  return { coefficientMicro: MICRO, nextEdgeMs: DAY_MS };
}

/** Splits [startMs, endMs) at daypart edges in the zone's local time; offset changes are honoured. */
export function segmentAirtime(
  rules: CompiledRules,
  timeZone: string,
  startMs: number,
  endMs: number,
): AirtimeSegment[] {
  const out: AirtimeSegment[] = [];
  let t = startMs;
  while (t < endMs) {
    const msOfDay = localMsOfDay(timeZone, t);
    const { coefficientMicro, nextEdgeMs } = coefficientAt(rules, msOfDay);
    let segEnd = Math.min(endMs, t + (nextEdgeMs - msOfDay));
    // An offset change inside the segment (a zone moving, as Kazakhstan did in 2024) shifts local time:
    // stop at the quarter hour where it changes and look again.
    if (segEnd > t + 1 && zoneOffsetMs(timeZone, segEnd - 1) !== zoneOffsetMs(timeZone, t)) {
      let q = (Math.floor(t / QUARTER_MS) + 1) * QUARTER_MS;
      while (q < segEnd && zoneOffsetMs(timeZone, q) === zoneOffsetMs(timeZone, t)) q += QUARTER_MS;
      segEnd = Math.min(segEnd, q);
    }
    if (
      out.length > 0 &&
      out[out.length - 1].coefficientMicro === coefficientMicro &&
      out[out.length - 1].endMs === t
    ) {
      out[out.length - 1].endMs = segEnd;
    } else out.push({ startMs: t, endMs: segEnd, coefficientMicro });
    t = segEnd;
  }
  return out;
}

export function weighDetection(rules: CompiledRules, timeZone: string, d: DetectionForWeighing): Weighing {
  const airtimeMs = Math.max(0, d.endMs - d.startMs);
  const useType = useTypeKey(d.useType);
  const channelWeightMicro = rules.channelWeightMicro.get(d.channelId) ?? rules.defaultChannelWeightMicro;
  const useTypeWeightMicro = rules.useTypeWeightMicro[useType];
  const belowMinimum = airtimeMs < rules.minDurationMs || airtimeMs === 0;
  const segments = belowMinimum ? [] : segmentAirtime(rules, timeZone, d.startMs, d.endMs);
  let units = 0n;
  if (!belowMinimum && channelWeightMicro > 0n && useTypeWeightMicro > 0n) {
    let dp = 0n;
    for (const s of segments) dp += BigInt(s.endMs - s.startMs) * s.coefficientMicro;
    units = dp * channelWeightMicro * useTypeWeightMicro;
  }
  return { airtimeMs, units, segments, channelWeightMicro, useTypeWeightMicro, useType, belowMinimum };
}

/** Weighted microseconds as seconds with 6 decimals ("351.5"). */
export function formatWeightedUs(us: number): string {
  return formatMicro(BigInt(us));
}

/** Weighted airtime in seconds as a decimal string (for reports): units / UNITS_PER_MS / 1000. */
export function formatWeightedSec(units: bigint): string {
  // units / 1e18 = weighted ms, so units / 1e15 = weighted seconds in micro units (truncated)
  return formatMicro(units / 1_000_000_000_000_000n);
}

export { DAY_MS };
