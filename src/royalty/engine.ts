import type { Cmo, Licence, Licensee, Mandate, RightType, TariffVersion } from '../catalog/index.js';
import {
  MICRO,
  allocateProRata,
  allocateProRataSmall,
  floorDiv,
  largestRemainder,
  roundHalfUp,
  toTiyn,
} from './money.js';
import type { CompiledRules } from './rules.js';
import { slotSet, slotsFor, type RecordingRights, type ReserveReason, type SlotSet } from './slots.js';
import { UNITS_PER_MS, type Weighing } from './weigh.js';

/**
 * The pure arithmetic of accrual: what a licence owes for a period, how that divides over buckets
 * (a channel's local day), airings, right types and rights holders, and how a fresh computation differs
 * from what the ledger already holds. Every split is by largest remainder, so every total reconciles to
 * the tiyn: due = sum of lines (holders' and reserve), at every level.
 */

export type LineKind = 'accrual' | 'reversal';

/** One accrual line as computed: a rights holder's (or the reserve's) money from one airing, one right type. */
export interface LineDraft {
  detectionId: string | null;
  rightType: RightType;
  holderId: string | null;
  reserveReason: ReserveReason | null;
  shareId: string | null;
  subjectId: string | null;
  airtimeMs: number;
  /** Weighted airtime in microseconds (truncated; the exact units are recomputable from detection and rules). */
  weightedUs: number;
  grossTiyn: number;
  deductionTiyn: number;
  netTiyn: number;
}

/**
 * A line as the ledger holds it. Reversals carry the negated amounts of the line they reverse; `kind`
 * follows from reversesSeq, and the tariff version is the entry's (one per licence and period).
 */
export interface AccrualLine extends LineDraft {
  seq: number;
  entrySeq: number;
  kind: LineKind;
  reversesSeq: number | null;
  tariffVersionId: string;
}

/** Weighted airtime units (UNITS_PER_MS per ms) as whole microseconds. */
export function weightedUs(units: bigint): number {
  return Number(units / 1_000_000_000_000_000n);
}

export interface BucketKey {
  channelId: string;
  /** Local date YYYY-MM-DD in the channel's zone; '' with channelId '' for the no-usage bucket. */
  day: string;
}

export const NO_USAGE_BUCKET: BucketKey = { channelId: '', day: '' };

export interface AccrualChannel {
  id: string;
  name: string;
  timeZone: string;
}

/** Everything about one licence that the engine needs for a period. */
export interface AccrualLicence {
  licence: Licence;
  cmo: Cmo;
  licensee: Licensee;
  tariffVersion: TariffVersion;
  rules: CompiledRules;
  channels: AccrualChannel[];
  /** Declared revenue for the period (revenue_pool tariffs), null when none was declared. */
  revenueTiyn: number | null;
}

export interface DueComputation {
  dueTiyn: bigint;
  /** exact: bucket quotas are their exact per-second money; pro_rata: the due is shared by weighted airtime. */
  mode: 'exact' | 'pro_rata';
  /** The unrounded amount as a fraction, for explanations. */
  exactNum: bigint;
  exactDen: bigint;
  minimumFeeApplied: boolean;
}

/** Denominator of per-second money: units (1e18 per ms) * 1000 ms per s * micro-tiyn. */
export const PER_SECOND_DEN = UNITS_PER_MS * 1000n * MICRO;

export function computeDue(
  rules: CompiledRules,
  unitsTotal: bigint,
  revenueTiyn: number | null,
): DueComputation {
  let exactNum: bigint;
  let exactDen: bigint;
  if (rules.basis.kind === 'per_second') {
    exactNum = unitsTotal * rules.basis.rateMicroTiynPerSec;
    exactDen = PER_SECOND_DEN;
  } else {
    exactNum = BigInt(revenueTiyn ?? 0) * rules.basis.percentMicro;
    exactDen = 100n * MICRO;
  }
  const rounded = roundHalfUp(exactNum, exactDen);
  if (rounded < rules.minimumFeeTiyn) {
    return { dueTiyn: rules.minimumFeeTiyn, mode: 'pro_rata', exactNum, exactDen, minimumFeeApplied: true };
  }
  return {
    dueTiyn: rounded,
    mode: rules.basis.kind === 'per_second' ? 'exact' : 'pro_rata',
    exactNum,
    exactDen,
    minimumFeeApplied: false,
  };
}

/** Divides the due over buckets by largest remainder (exact per-second quotas, or pro rata by units). */
export function allocateBuckets(
  rules: CompiledRules,
  due: DueComputation,
  bucketUnits: readonly bigint[],
): bigint[] {
  if (bucketUnits.length === 0) return [];
  if (due.mode === 'exact' && rules.basis.kind === 'per_second') {
    const rate = rules.basis.rateMicroTiynPerSec;
    return largestRemainder(
      due.dueTiyn,
      bucketUnits.map((u) => u * rate),
      PER_SECOND_DEN,
    );
  }
  return allocateProRata(due.dueTiyn, bucketUnits);
}

export interface WeighedAiring {
  detectionId: string;
  startMs: number;
  recordingId: string;
  weighing: Weighing;
}

/** Lines for one bucket: its amount over airings by units, each over right types, each over holders. */
export function allocateBucket(
  amountTiyn: bigint,
  airings: readonly WeighedAiring[],
  rules: CompiledRules,
  cmoId: string,
  rightsOf: (recordingId: string) => RecordingRights,
  mandatesOf: (holderId: string) => readonly Mandate[],
  slotsOf: (rights: RecordingRights, rightType: RightType, atMs: number, cmoId: string) => SlotSet = (
    r,
    rt,
    t,
    c,
  ) => slotSet(slotsFor(r, rt, t, c, mandatesOf)),
): LineDraft[] {
  const perAiring = allocateProRata(
    amountTiyn,
    airings.map((a) => a.weighing.units),
  );
  const lines: LineDraft[] = [];
  // Below the bucket, amounts are small: exact double arithmetic, bigint only when a product could pass 2^53.
  const splitWeights = rules.split.map((s) => s.percentMicro);
  const splitNum = splitWeights.map(Number);
  const adminNum = Number(rules.administrationPercentMicro);
  const hundredMicro = 100 * 1_000_000;
  const split = (total: number, weightsNum: number[], weights: readonly bigint[]): number[] =>
    allocateProRataSmall(total, weightsNum) ?? allocateProRata(BigInt(total), weights).map((x) => toTiyn(x));
  for (let i = 0; i < airings.length; i++) {
    const airing = airings[i];
    const amount = toTiyn(perAiring[i]);
    const perRight = split(amount, splitNum, splitWeights);
    const rights = rightsOf(airing.recordingId);
    const weighted = weightedUs(airing.weighing.units);
    for (let r = 0; r < rules.split.length; r++) {
      const rightType = rules.split[r].rightType;
      const set = slotsOf(rights, rightType, airing.startMs, cmoId);
      const slots = set.slots;
      const perSlot = split(perRight[r], set.weightsNum, set.weights);
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k];
        const gross = perSlot[k];
        let deduction = 0;
        if (slot.reserveReason === null && adminNum > 0) {
          const a = gross * adminNum;
          deduction = Number.isSafeInteger(a)
            ? (a - (a % hundredMicro)) / hundredMicro
            : toTiyn(floorDiv(BigInt(gross) * rules.administrationPercentMicro, 100n * MICRO));
        }
        lines.push({
          detectionId: airing.detectionId,
          rightType,
          holderId: slot.holderId,
          reserveReason: slot.reserveReason,
          shareId: slot.shareId,
          subjectId: slot.subjectId,
          airtimeMs: airing.weighing.airtimeMs,
          weightedUs: weighted,
          grossTiyn: gross,
          deductionTiyn: deduction,
          netTiyn: gross - deduction,
        });
      }
    }
  }
  return lines;
}

/** The due of a period without any airplay (a minimum fee): reserve lines per right type. */
export function noUsageLines(amountTiyn: bigint, rules: CompiledRules): LineDraft[] {
  const perRight = allocateProRata(
    amountTiyn,
    rules.split.map((s) => s.percentMicro),
  );
  return rules.split.map((split, r) => ({
    detectionId: null,
    rightType: split.rightType,
    holderId: null,
    reserveReason: 'no_usage' as const,
    shareId: null,
    subjectId: null,
    airtimeMs: 0,
    weightedUs: 0,
    grossTiyn: toTiyn(perRight[r]),
    deductionTiyn: 0,
    netTiyn: toTiyn(perRight[r]),
  }));
}

function lineKey(l: LineDraft): string {
  return `${l.detectionId ?? ''}\u0000${l.rightType}\u0000${l.holderId ?? ''}\u0000${l.reserveReason ?? ''}\u0000${l.shareId ?? ''}\u0000${l.subjectId ?? ''}`;
}

function lineValue(l: LineDraft, tariffVersionId: string): string {
  return `${l.airtimeMs}\u0000${l.weightedUs}\u0000${l.grossTiyn}\u0000${l.deductionTiyn}\u0000${l.netTiyn}\u0000${tariffVersionId}`;
}

/**
 * What to append so that a bucket's effective lines become `desired`: reversals of lines that are gone or
 * changed, and the new lines. Unchanged lines are left alone, so a re-run of unchanged data appends nothing.
 */
export function diffBucket(
  effective: readonly AccrualLine[],
  desired: readonly LineDraft[],
  tariffVersionId: string,
): { reversals: AccrualLine[]; additions: LineDraft[] } {
  if (effective.length === 0) return { reversals: [], additions: [...desired] };
  const old = new Map<string, AccrualLine>();
  for (const l of effective) old.set(lineKey(l), l);
  const reversals: AccrualLine[] = [];
  const additions: LineDraft[] = [];
  for (const d of desired) {
    const key = lineKey(d);
    const prev = old.get(key);
    if (prev && lineValue(prev, prev.tariffVersionId) === lineValue(d, tariffVersionId)) {
      old.delete(key);
      continue;
    }
    if (prev) {
      reversals.push(prev);
      old.delete(key);
    }
    additions.push(d);
  }
  for (const l of old.values()) reversals.push(l);
  reversals.sort((a, b) => a.seq - b.seq);
  return { reversals, additions };
}

/** The lines that are in force: accruals not reversed. */
export function effectiveLines(lines: readonly AccrualLine[]): AccrualLine[] {
  const reversed = new Set<number>();
  for (const l of lines) if (l.kind === 'reversal' && l.reversesSeq !== null) reversed.add(l.reversesSeq);
  return lines.filter((l) => l.kind === 'accrual' && !reversed.has(l.seq));
}

export function sumGross(lines: readonly LineDraft[]): number {
  return lines.reduce((s, l) => s + l.grossTiyn, 0);
}
