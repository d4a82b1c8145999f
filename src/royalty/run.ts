import { localDate, type Mandate, type Period } from '../catalog/index.js';
import {
  NO_USAGE_BUCKET,
  allocateBucket,
  allocateBuckets,
  computeDue,
  diffBucket,
  noUsageLines,
  type AccrualLicence,
  type AccrualLine,
  type BucketKey,
  type LineDraft,
  type WeighedAiring,
} from './engine.js';
import { toTiyn } from './money.js';
import type { RecordingRights } from './slots.js';
import { weighDetection } from './weigh.js';

/**
 * The accrual run: a thin streaming loop over the pure engine. Two passes over each licence's eligible
 * detections, channel by channel in time order: the first sums weighted airtime per bucket (to know the
 * due and each bucket's part of it), the second computes each bucket's lines, compares them with what
 * the ledger holds and hands the differences to the sink. Memory holds one bucket at a time plus the
 * rights of the recordings seen, never the period's detections.
 */

export interface DetectionRow {
  id: string;
  channelId: string;
  recordingId: string;
  startMs: number;
  endMs: number;
  useType: string | null;
}

export interface AccrualSource {
  /** Eligible detections of a channel starting in [fromMs, toMs), ordered by (startMs, id), in pages. */
  detections(channelId: string, fromMs: number, toMs: number): AsyncIterable<DetectionRow[]>;
  /** Rights of the given recordings, and the mandates of every holder those rights name. */
  recordingRights(
    recordingIds: string[],
  ): Promise<{ rights: Map<string, RecordingRights>; mandates: Map<string, Mandate[]> }>;
  /** Buckets that already hold lines for this licence and period (empty on a first run). */
  accruedBuckets(periodId: string, licenceId: string): Promise<BucketKey[]>;
  /** The effective (accrued, not reversed) lines of one bucket. */
  effectiveLines(periodId: string, licenceId: string, bucket: BucketKey): Promise<AccrualLine[]>;
}

export interface BucketChange {
  licence: AccrualLicence;
  bucket: BucketKey;
  bucketUnits: string;
  bucketAmountTiyn: number;
  reversals: AccrualLine[];
  additions: LineDraft[];
}

export interface AccrualSink {
  append(change: BucketChange): Promise<void>;
}

export interface LicenceRunSummary {
  licenceId: string;
  cmoId: string;
  licenseeId: string;
  tariffVersionId: string;
  basis: string;
  /** What the licensee owes for the period (the pool to distribute). */
  dueTiyn: number;
  minimumFeeApplied: boolean;
  revenueTiyn: number | null;
  unitsTotal: string;
  airings: number;
  buckets: number;
  /** After the run: holders' gross, the CMO's deduction, holders' net, the undistributed reserve. */
  distributedTiyn: number;
  deductionTiyn: number;
  netTiyn: number;
  reserveTiyn: number;
  reserveByReason: Record<string, number>;
  linesAdded: number;
  linesReversed: number;
  bucketsChanged: number;
}

export interface RunSummary {
  periodId: string;
  asOfMs: number;
  licences: LicenceRunSummary[];
  changed: boolean;
}

export interface RunOptions {
  period: Period;
  asOfMs: number;
  licences: AccrualLicence[];
  /** False on a period's first run: skips looking for lines to compare with. */
  periodHasLines: boolean;
  onProgress?: (info: { licenceId: string; pass: 1 | 2; channelId: string; airings: number }) => void;
}

class RightsCache {
  private rights = new Map<string, RecordingRights>();
  private mandates = new Map<string, Mandate[]>();
  constructor(private source: AccrualSource) {}
  async ensure(recordingIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(recordingIds)].filter((id) => !this.rights.has(id));
    if (missing.length === 0) return;
    const got = await this.source.recordingRights(missing);
    for (const id of missing) {
      this.rights.set(
        id,
        got.rights.get(id) ?? { recordingId: id, known: false, works: [], shares: new Map() },
      );
    }
    for (const [h, ms] of got.mandates) this.mandates.set(h, ms);
  }
  rightsOf = (id: string): RecordingRights => this.rights.get(id)!;
  mandatesOf = (holderId: string): readonly Mandate[] => this.mandates.get(holderId) ?? [];
}

function bucketId(b: BucketKey): string {
  return `${b.channelId}\u0000${b.day}`;
}

export async function runAccrual(
  opts: RunOptions,
  source: AccrualSource,
  sink: AccrualSink,
): Promise<RunSummary> {
  const cache = new RightsCache(source);
  const summaries: LicenceRunSummary[] = [];
  const licences = [...opts.licences].sort((a, b) => (a.licence.id < b.licence.id ? -1 : 1));
  for (const lic of licences) summaries.push(await runLicence(opts, lic, source, sink, cache));
  return {
    periodId: opts.period.id,
    asOfMs: opts.asOfMs,
    licences: summaries,
    changed: summaries.some((s) => s.linesAdded + s.linesReversed > 0),
  };
}

async function runLicence(
  opts: RunOptions,
  lic: AccrualLicence,
  source: AccrualSource,
  sink: AccrualSink,
  cache: RightsCache,
): Promise<LicenceRunSummary> {
  const { period } = opts;
  const fromMs = Math.max(period.startMs, lic.licence.validFromMs);
  const toMs = Math.min(period.endMs, lic.licence.validToMs ?? Infinity);
  const channels = [...lic.channels].sort((a, b) => (a.id < b.id ? -1 : 1));

  // Pass 1: weighted airtime per bucket.
  const unitsByBucket = new Map<string, bigint>();
  const bucketOrder: BucketKey[] = [];
  let unitsTotal = 0n;
  let airingsCount = 0;
  if (fromMs < toMs) {
    for (const ch of channels) {
      for await (const page of source.detections(ch.id, fromMs, toMs)) {
        for (const d of page) {
          const w = weighDetection(lic.rules, ch.timeZone, d);
          if (w.units === 0n) continue;
          const key = { channelId: ch.id, day: localDate(ch.timeZone, d.startMs) };
          const id = bucketId(key);
          const prev = unitsByBucket.get(id);
          if (prev === undefined) bucketOrder.push(key);
          unitsByBucket.set(id, (prev ?? 0n) + w.units);
          unitsTotal += w.units;
          airingsCount++;
        }
        opts.onProgress?.({ licenceId: lic.licence.id, pass: 1, channelId: ch.id, airings: airingsCount });
      }
    }
  }
  // Pages come in (channel, time) order, so bucketOrder is sorted by channel then day already.
  const due = computeDue(lic.rules, unitsTotal, lic.revenueTiyn);
  const amounts = allocateBuckets(
    lic.rules,
    due,
    bucketOrder.map((b) => unitsByBucket.get(bucketId(b))!),
  );
  const amountByBucket = new Map<string, bigint>();
  bucketOrder.forEach((b, i) => amountByBucket.set(bucketId(b), amounts[i]));
  const noUsageDue = bucketOrder.length === 0 && due.dueTiyn > 0n ? due.dueTiyn : 0n;

  const summary: LicenceRunSummary = {
    licenceId: lic.licence.id,
    cmoId: lic.cmo.id,
    licenseeId: lic.licensee.id,
    tariffVersionId: lic.tariffVersion.id,
    basis: lic.rules.basis.kind,
    dueTiyn: toTiyn(due.dueTiyn),
    minimumFeeApplied: due.minimumFeeApplied,
    revenueTiyn: lic.revenueTiyn,
    unitsTotal: unitsTotal.toString(),
    airings: airingsCount,
    buckets: bucketOrder.length,
    distributedTiyn: 0,
    deductionTiyn: 0,
    netTiyn: 0,
    reserveTiyn: 0,
    reserveByReason: {},
    linesAdded: 0,
    linesReversed: 0,
    bucketsChanged: 0,
  };

  // Buckets the ledger already holds, grouped by channel, so stale ones are revisited in order.
  const oldBuckets = opts.periodHasLines ? await source.accruedBuckets(period.id, lic.licence.id) : [];
  const oldByChannel = new Map<string, string[]>();
  for (const b of oldBuckets) {
    let days = oldByChannel.get(b.channelId);
    if (!days) oldByChannel.set(b.channelId, (days = []));
    days.push(b.day);
  }
  for (const days of oldByChannel.values()) days.sort();

  const settle = async (bucket: BucketKey, desired: LineDraft[], units: bigint, amount: bigint) => {
    for (const l of desired) {
      if (l.reserveReason === null) {
        summary.distributedTiyn += l.grossTiyn;
        summary.deductionTiyn += l.deductionTiyn;
        summary.netTiyn += l.netTiyn;
      } else {
        summary.reserveTiyn += l.grossTiyn;
        summary.reserveByReason[l.reserveReason] =
          (summary.reserveByReason[l.reserveReason] ?? 0) + l.grossTiyn;
      }
    }
    const effective = opts.periodHasLines
      ? await source.effectiveLines(period.id, lic.licence.id, bucket)
      : [];
    const { reversals, additions } = diffBucket(effective, desired, lic.tariffVersion.id);
    if (reversals.length === 0 && additions.length === 0) return;
    summary.linesAdded += additions.length;
    summary.linesReversed += reversals.length;
    summary.bucketsChanged++;
    await sink.append({
      licence: lic,
      bucket,
      bucketUnits: units.toString(),
      bucketAmountTiyn: toTiyn(amount),
      reversals,
      additions,
    });
  };

  const settleStale = async (channelId: string, beforeDay: string | null) => {
    const days = oldByChannel.get(channelId);
    while (days && days.length > 0 && (beforeDay === null || days[0] < beforeDay)) {
      await settle({ channelId, day: days.shift()! }, [], 0n, 0n);
    }
  };

  // Pass 2: lines per bucket.
  let seen = 0;
  if (fromMs < toMs) {
    for (const ch of channels) {
      let day: string | null = null;
      let airings: WeighedAiring[] = [];
      const flush = async () => {
        if (day === null) return;
        const key = { channelId: ch.id, day };
        const id = bucketId(key);
        await cache.ensure(airings.map((a) => a.recordingId));
        const amount = amountByBucket.get(id) ?? 0n;
        const desired = allocateBucket(
          amount,
          airings,
          lic.rules,
          lic.cmo.id,
          cache.rightsOf,
          cache.mandatesOf,
        );
        await settle(key, desired, unitsByBucket.get(id) ?? 0n, amount);
        const days = oldByChannel.get(ch.id);
        if (days && days[0] === day) days.shift();
        airings = [];
      };
      for await (const page of source.detections(ch.id, fromMs, toMs)) {
        for (const d of page) {
          const w = weighDetection(lic.rules, ch.timeZone, d);
          if (w.units === 0n) continue;
          const dDay = localDate(ch.timeZone, d.startMs);
          if (dDay !== day) {
            await flush();
            await settleStale(ch.id, dDay);
            day = dDay;
          }
          airings.push({ detectionId: d.id, startMs: d.startMs, recordingId: d.recordingId, weighing: w });
          seen++;
        }
        opts.onProgress?.({ licenceId: lic.licence.id, pass: 2, channelId: ch.id, airings: seen });
      }
      await flush();
      await settleStale(ch.id, null);
      oldByChannel.delete(ch.id);
    }
  }
  // Buckets of channels no longer under this licence (or outside its validity now), and the no-usage bucket.
  for (const channelId of [...oldByChannel.keys()].sort()) {
    if (channelId === '') continue;
    await settleStale(channelId, null);
  }
  const hadNoUsage = oldByChannel.has('');
  if (noUsageDue > 0n || hadNoUsage) {
    const desired = noUsageDue > 0n ? noUsageLines(noUsageDue, lic.rules) : [];
    await settle(NO_USAGE_BUCKET, desired, 0n, noUsageDue);
  }

  const total = summary.distributedTiyn + summary.reserveTiyn;
  if (total !== summary.dueTiyn) {
    throw new Error(
      `accrual does not reconcile for licence ${lic.licence.id}: due ${summary.dueTiyn} tiyn, lines ${total} tiyn (a bug)`,
    );
  }
  return summary;
}
