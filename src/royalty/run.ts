import { localDate, type Mandate, type Period, type RightType } from '../catalog/index.js';
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
import { slotSet, slotsFor, stableSpan, type RecordingRights, type SlotSet } from './slots.js';
import { weighDetection } from './weigh.js';

/**
 * The accrual run: a thin streaming loop over the pure engine. The licences of one licensee share its
 * channels, so they are run together: a first pass over the eligible detections, channel by channel in
 * time order, sums each licence's weighted airtime per bucket (a channel's local day), which gives each
 * licence's due and each bucket's part of it; a second pass computes each bucket's lines, compares them
 * with what the ledger holds and hands the differences to the sink. Memory holds one channel's prior
 * lines at most, one bucket's airings, and the rights of the recordings aired, never the period's
 * detections.
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
  /** Channels ('' for the no-usage bucket) that already hold lines for this licence and period. */
  accruedChannels(periodId: string, licenceId: string): Promise<string[]>;
  /** The effective (accrued, not reversed) lines of one licence on one channel in the period, by day. */
  effectiveLines(periodId: string, licenceId: string, channelId: string): Promise<Map<string, AccrualLine[]>>;
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
  onProgress?: (info: { licenseeId: string; pass: 1 | 2; channelId: string; airings: number }) => void;
}

/** Recording rights loaded on demand, and slots reused while the shares and mandates involved hold. */
class RightsCache {
  private rights = new Map<string, RecordingRights>();
  private mandates = new Map<string, Mandate[]>();
  /** rights -> right type -> CMO -> slots valid in [fromMs, toMs). Object and constant-string keys: cheap lookups. */
  private slots = new Map<
    RecordingRights,
    Array<{ rightType: RightType; cmoId: string; fromMs: number; toMs: number; set: SlotSet }>
  >();
  constructor(private source: AccrualSource) {}
  async ensure(recordingIds: Iterable<string>): Promise<void> {
    const missing = [...new Set(recordingIds)].filter((id) => !this.rights.has(id)).sort();
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
  slotsOf = (rights: RecordingRights, rightType: RightType, atMs: number, cmoId: string): SlotSet => {
    let list = this.slots.get(rights);
    if (!list) this.slots.set(rights, (list = []));
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (e.rightType === rightType && e.cmoId === cmoId && e.fromMs <= atMs && atMs < e.toMs) return e.set;
    }
    const set = slotSet(slotsFor(rights, rightType, atMs, cmoId, this.mandatesOf));
    const span = stableSpan(rights, rightType, atMs, this.mandatesOf);
    if (list.length >= 8) list.shift();
    list.push({ rightType, cmoId, fromMs: span.fromMs, toMs: span.toMs, set });
    return set;
  };
}

interface LicenceState {
  lic: AccrualLicence;
  channelSet: ReadonlySet<string>;
  fromMs: number;
  toMs: number;
  unitsByBucket: Map<string, bigint>;
  bucketOrder: BucketKey[];
  amountByBucket: Map<string, bigint>;
  unitsTotal: bigint;
  airings: number;
  noUsageDue: bigint;
  summary: LicenceRunSummary;
}

function bucketId(channelId: string, day: string): string {
  return `${channelId}\u0000${day}`;
}

export async function runAccrual(
  opts: RunOptions,
  source: AccrualSource,
  sink: AccrualSink,
): Promise<RunSummary> {
  const cache = new RightsCache(source);
  const byLicensee = new Map<string, AccrualLicence[]>();
  for (const l of opts.licences) {
    const group = byLicensee.get(l.licensee.id) ?? [];
    group.push(l);
    byLicensee.set(l.licensee.id, group);
  }
  const summaries: LicenceRunSummary[] = [];
  for (const licenseeId of [...byLicensee.keys()].sort()) {
    const group = byLicensee.get(licenseeId)!.sort((a, b) => (a.licence.id < b.licence.id ? -1 : 1));
    summaries.push(...(await runLicensee(opts, licenseeId, group, source, sink, cache)));
  }
  summaries.sort((a, b) => (a.licenceId < b.licenceId ? -1 : 1));
  return {
    periodId: opts.period.id,
    asOfMs: opts.asOfMs,
    licences: summaries,
    changed: summaries.some((s) => s.linesAdded + s.linesReversed > 0),
  };
}

async function runLicensee(
  opts: RunOptions,
  licenseeId: string,
  group: AccrualLicence[],
  source: AccrualSource,
  sink: AccrualSink,
  cache: RightsCache,
): Promise<LicenceRunSummary[]> {
  const { period } = opts;
  const states: LicenceState[] = group.map((lic) => ({
    lic,
    channelSet: new Set(lic.channels.map((c) => c.id)),
    fromMs: Math.max(period.startMs, lic.licence.validFromMs),
    toMs: Math.min(period.endMs, lic.licence.validToMs ?? Infinity),
    unitsByBucket: new Map(),
    bucketOrder: [],
    amountByBucket: new Map(),
    unitsTotal: 0n,
    airings: 0,
    noUsageDue: 0n,
    summary: {
      licenceId: lic.licence.id,
      cmoId: lic.cmo.id,
      licenseeId: lic.licensee.id,
      tariffVersionId: lic.tariffVersion.id,
      basis: lic.rules.basis.kind,
      dueTiyn: 0,
      minimumFeeApplied: false,
      revenueTiyn: lic.revenueTiyn,
      unitsTotal: '0',
      airings: 0,
      buckets: 0,
      distributedTiyn: 0,
      deductionTiyn: 0,
      netTiyn: 0,
      reserveTiyn: 0,
      reserveByReason: {},
      linesAdded: 0,
      linesReversed: 0,
      bucketsChanged: 0,
    },
  }));
  const channels = new Map<string, AccrualLicence['channels'][number]>();
  for (const lic of group) for (const ch of lic.channels) channels.set(ch.id, ch);
  const channelIds = [...channels.keys()].sort();
  const windowFrom = Math.min(...states.map((s) => s.fromMs));
  const windowTo = Math.max(...states.map((s) => s.toMs));
  const recordingIds = new Set<string>();

  // Pass 1: weighted airtime per licence and bucket.
  if (windowFrom < windowTo) {
    for (const chId of channelIds) {
      const ch = channels.get(chId)!;
      let seen = 0;
      for await (const page of source.detections(chId, windowFrom, windowTo)) {
        for (const d of page) {
          const day = localDate(ch.timeZone, d.startMs);
          for (const st of states) {
            if (d.startMs < st.fromMs || d.startMs >= st.toMs || !st.channelSet.has(chId)) continue;
            const w = weighDetection(st.lic.rules, ch.timeZone, d);
            if (w.units === 0n) continue;
            const id = bucketId(chId, day);
            const prev = st.unitsByBucket.get(id);
            if (prev === undefined) st.bucketOrder.push({ channelId: chId, day });
            st.unitsByBucket.set(id, (prev ?? 0n) + w.units);
            st.unitsTotal += w.units;
            st.airings++;
            recordingIds.add(d.recordingId);
          }
        }
        seen += page.length;
        opts.onProgress?.({ licenseeId, pass: 1, channelId: chId, airings: seen });
      }
    }
  }
  // Due per licence, and each bucket's part (buckets are in channel, then day order).
  for (const st of states) {
    const due = computeDue(st.lic.rules, st.unitsTotal, st.lic.revenueTiyn);
    const amounts = allocateBuckets(
      st.lic.rules,
      due,
      st.bucketOrder.map((b) => st.unitsByBucket.get(bucketId(b.channelId, b.day))!),
    );
    st.bucketOrder.forEach((b, i) => st.amountByBucket.set(bucketId(b.channelId, b.day), amounts[i]));
    st.noUsageDue = st.bucketOrder.length === 0 && due.dueTiyn > 0n ? due.dueTiyn : 0n;
    Object.assign(st.summary, {
      dueTiyn: toTiyn(due.dueTiyn),
      minimumFeeApplied: due.minimumFeeApplied,
      unitsTotal: st.unitsTotal.toString(),
      airings: st.airings,
      buckets: st.bucketOrder.length,
    });
  }
  await cache.ensure(recordingIds);

  const settle = async (
    st: LicenceState,
    bucket: BucketKey,
    desired: LineDraft[],
    effective: readonly AccrualLine[],
    units: bigint,
    amount: bigint,
  ) => {
    const s = st.summary;
    for (const l of desired) {
      if (l.reserveReason === null) {
        s.distributedTiyn += l.grossTiyn;
        s.deductionTiyn += l.deductionTiyn;
        s.netTiyn += l.netTiyn;
      } else {
        s.reserveTiyn += l.grossTiyn;
        s.reserveByReason[l.reserveReason] = (s.reserveByReason[l.reserveReason] ?? 0) + l.grossTiyn;
      }
    }
    const { reversals, additions } = diffBucket(effective, desired, st.lic.tariffVersion.id);
    if (reversals.length === 0 && additions.length === 0) return;
    s.linesAdded += additions.length;
    s.linesReversed += reversals.length;
    s.bucketsChanged++;
    await sink.append({
      licence: st.lic,
      bucket,
      bucketUnits: units.toString(),
      bucketAmountTiyn: toTiyn(amount),
      reversals,
      additions,
    });
  };
  const priorLines = async (st: LicenceState, channelId: string) =>
    opts.periodHasLines
      ? await source.effectiveLines(period.id, st.lic.licence.id, channelId)
      : new Map<string, AccrualLine[]>();
  const rightsOf = cache.rightsOf;

  // Pass 2: lines per bucket, channel by channel.
  const prior = new Map<LicenceState, Map<string, AccrualLine[]>>();
  for (const chId of channelIds) {
    const ch = channels.get(chId)!;
    for (const st of states) prior.set(st, await priorLines(st, chId));
    let day: string | null = null;
    let airings: Array<{ st: LicenceState; airing: WeighedAiring }> = [];
    const flush = async () => {
      if (day === null) return;
      for (const st of states) {
        const mine = airings.filter((a) => a.st === st).map((a) => a.airing);
        const id = bucketId(chId, day);
        const old = prior.get(st)!;
        const effective = old.get(day) ?? [];
        old.delete(day);
        if (mine.length === 0 && effective.length === 0) continue;
        const amount = st.amountByBucket.get(id) ?? 0n;
        const desired = mine.length
          ? allocateBucket(
              amount,
              mine,
              st.lic.rules,
              st.lic.cmo.id,
              rightsOf,
              cache.mandatesOf,
              cache.slotsOf,
            )
          : [];
        await settle(
          st,
          { channelId: chId, day },
          desired,
          effective,
          st.unitsByBucket.get(id) ?? 0n,
          amount,
        );
      }
      airings = [];
    };
    let seen = 0;
    if (windowFrom < windowTo) {
      for await (const page of source.detections(chId, windowFrom, windowTo)) {
        for (const d of page) {
          const dDay = localDate(ch.timeZone, d.startMs);
          if (dDay !== day) {
            await flush();
            day = dDay;
          }
          for (const st of states) {
            if (d.startMs < st.fromMs || d.startMs >= st.toMs || !st.channelSet.has(chId)) continue;
            const w = weighDetection(st.lic.rules, ch.timeZone, d);
            if (w.units === 0n) continue;
            airings.push({
              st,
              airing: { detectionId: d.id, startMs: d.startMs, recordingId: d.recordingId, weighing: w },
            });
          }
        }
        seen += page.length;
        opts.onProgress?.({ licenseeId, pass: 2, channelId: chId, airings: seen });
      }
    }
    await flush();
    // Days that held lines but have no airings now (all rejected, say): reverse them.
    for (const st of states) {
      const old = prior.get(st)!;
      for (const staleDay of [...old.keys()].sort()) {
        await settle(st, { channelId: chId, day: staleDay }, [], old.get(staleDay)!, 0n, 0n);
      }
    }
  }
  // Channels that held lines for a licence but are no longer its channels, and the no-usage bucket.
  for (const st of states) {
    const gone = opts.periodHasLines
      ? (await source.accruedChannels(period.id, st.lic.licence.id))
          .filter((c) => c !== '' && !channels.has(c))
          .sort()
      : [];
    for (const chId of gone) {
      const old = await source.effectiveLines(period.id, st.lic.licence.id, chId);
      for (const staleDay of [...old.keys()].sort())
        await settle(st, { channelId: chId, day: staleDay }, [], old.get(staleDay)!, 0n, 0n);
    }
    const noUsageOld = opts.periodHasLines
      ? ((await source.effectiveLines(period.id, st.lic.licence.id, '')).get('') ?? [])
      : [];
    if (st.noUsageDue > 0n || noUsageOld.length > 0) {
      const desired = st.noUsageDue > 0n ? noUsageLines(st.noUsageDue, st.lic.rules) : [];
      await settle(st, NO_USAGE_BUCKET, desired, noUsageOld, 0n, st.noUsageDue);
    }
    const s = st.summary;
    if (s.distributedTiyn + s.reserveTiyn !== s.dueTiyn) {
      throw new Error(
        `accrual does not reconcile for licence ${s.licenceId}: due ${s.dueTiyn} tiyn, lines ${s.distributedTiyn + s.reserveTiyn} tiyn (a bug)`,
      );
    }
  }
  return states.map((s) => s.summary);
}
