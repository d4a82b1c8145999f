import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromLocal,
  localDate,
  parsePeriod,
  type Licence,
  type Mandate,
  type RightType,
  type Share,
} from '../src/catalog/index.js';
import {
  allocateProRata,
  allocateProRataSmall,
  compileRules,
  effectiveLines,
  largestRemainder,
  runAccrual,
  segmentAirtime,
  slotsFor,
  weighDetection,
  type AccrualLicence,
  type AccrualLine,
  type AccrualSink,
  type AccrualSource,
  type BucketChange,
  type BucketKey,
  type DetectionRow,
  type RecordingRights,
  type TariffRules,
} from '../src/royalty/index.js';

// ---- an in-memory catalogue, detection feed and ledger (the same interfaces the SQL adapter implements) ----

interface World {
  detections: DetectionRow[];
  rights: Map<string, RecordingRights>;
  mandates: Map<string, Mandate[]>;
}

class MemoryLedger implements AccrualSink {
  lines: AccrualLine[] = [];
  entries: Array<{ seq: number; licenceId: string; bucket: BucketKey }> = [];
  append = async (c: BucketChange): Promise<void> => {
    const entrySeq = this.entries.length + 1;
    this.entries.push({ seq: entrySeq, licenceId: c.licence.licence.id, bucket: c.bucket });
    let seq = this.lines.length;
    for (const r of c.reversals) {
      this.lines.push({
        ...r,
        seq: ++seq,
        entrySeq,
        kind: 'reversal',
        reversesSeq: r.seq,
        airtimeMs: -r.airtimeMs,
        grossTiyn: -r.grossTiyn,
        deductionTiyn: -r.deductionTiyn,
        netTiyn: -r.netTiyn,
      });
    }
    for (const a of c.additions) {
      this.lines.push({
        ...a,
        seq: ++seq,
        entrySeq,
        kind: 'accrual',
        reversesSeq: null,
        tariffVersionId: c.licence.tariffVersion.id,
      });
    }
  };
  source(world: World): AccrualSource {
    return {
      detections: async function* (channelId, fromMs, toMs) {
        const rows = world.detections
          .filter((d) => d.channelId === channelId && d.startMs >= fromMs && d.startMs < toMs)
          .sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : 1));
        for (let i = 0; i < rows.length; i += 7) yield rows.slice(i, i + 7); // small pages on purpose
      },
      recordingRights: async (ids) => ({
        rights: new Map(ids.filter((id) => world.rights.has(id)).map((id) => [id, world.rights.get(id)!])),
        mandates: world.mandates,
      }),
      accruedChannels: async (_p, licenceId) => [
        ...new Set(this.entries.filter((e) => e.licenceId === licenceId).map((e) => e.bucket.channelId)),
      ],
      effectiveLines: async (_p, licenceId, channelId) => {
        const dayOf = new Map(
          this.entries
            .filter((e) => e.licenceId === licenceId && e.bucket.channelId === channelId)
            .map((e) => [e.seq, e.bucket.day]),
        );
        const out = new Map<string, AccrualLine[]>();
        for (const l of effectiveLines(this.lines.filter((x) => dayOf.has(x.entrySeq)))) {
          const day = dayOf.get(l.entrySeq)!;
          out.set(day, [...(out.get(day) ?? []), l]);
        }
        return out;
      },
    };
  }
  get hasLines(): boolean {
    return this.lines.length > 0;
  }
}

const PERIOD = parsePeriod('2026-11');
const at = (day: number, hh: number, mm: number, ss = 0, ms = 0) =>
  fromLocal('Asia/Almaty', 2026, 11, day, ((hh * 60 + mm) * 60 + ss) * 1000 + ms);

function licence(
  id: string,
  cmoId: string,
  rules: TariffRules,
  channels: string[],
  revenueTiyn: number | null = null,
  rightTypes?: RightType[],
): AccrualLicence {
  const l: Licence = { id, licenseeId: 'BC', cmoId, tariffId: `T-${id}`, validFromMs: 0, validToMs: null };
  return {
    licence: l,
    cmo: {
      id: cmoId,
      name: cmoId,
      bin: null,
      rightTypes: rightTypes ?? (Object.keys(rules.rightTypeSplit) as RightType[]),
    },
    licensee: { id: 'BC', name: 'Broadcaster', bin: null, category: 'broadcaster', platformFromMs: 0 },
    tariffVersion: {
      id: `T-${id}@v1`,
      tariffId: `T-${id}`,
      version: 1,
      validFromMs: 0,
      rulesJson: JSON.stringify(rules),
      rulesHash: 'x',
    },
    rules: compileRules(rules, { mciTiyn: 432_500, year: 2026 }),
    channels: channels.map((c) => ({ id: c, name: c, timeZone: 'Asia/Almaty' })),
    revenueTiyn,
  };
}

function sh(
  subjectKind: 'work' | 'recording',
  subjectId: string,
  rightType: RightType,
  holderId: string,
  shareBp: number,
): Share {
  return {
    id: `S-${subjectId}-${rightType}-${holderId}`,
    subjectKind,
    subjectId,
    rightType,
    holderId,
    shareBp,
    validFromMs: 0,
    validToMs: null,
    version: 1,
    supersedesId: null,
    retiredAtMs: null,
  };
}

function rightsOf(
  recordingId: string,
  works: Array<{ workId: string; portionBp: number }>,
  shares: Share[],
): RecordingRights {
  const map = new Map<string, Share[]>();
  for (const s of shares) {
    const key = `${s.subjectKind}:${s.subjectId}`;
    map.set(key, [...(map.get(key) ?? []), s]);
  }
  return { recordingId, known: true, works, shares: map };
}

function mandate(holderId: string, cmoId: string, rightType: RightType): Mandate {
  return { id: `M-${holderId}-${rightType}`, holderId, cmoId, rightType, validFromMs: 0, validToMs: null };
}

async function accrue(ledger: MemoryLedger, world: World, licences: AccrualLicence[]) {
  return runAccrual(
    { period: PERIOD, asOfMs: PERIOD.endMs, licences, periodHasLines: ledger.hasLines },
    ledger.source(world),
    ledger,
  );
}

// ---- allocation ---------------------------------------------------------------------------------

describe('largest remainder', () => {
  it('rounds so the parts sum exactly to the total, ties to the earlier item', () => {
    expect(allocateProRata(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(allocateProRata(10n, [1n, 2n, 3n, 4n])).toEqual([1n, 2n, 3n, 4n]);
    expect(allocateProRata(7n, [3333n, 3333n, 3334n])).toEqual([2n, 2n, 3n]);
    expect(allocateProRata(0n, [0n, 0n])).toEqual([0n, 0n]);
    expect(() => allocateProRata(5n, [0n, 0n])).toThrow(/every weight is zero/);
    // quotas 2.5 + 2.5 + 2.6 = 7.6: total 8 gives the third its extra tiyn first, then the first
    expect(largestRemainder(8n, [25n, 25n, 26n], 10n)).toEqual([3n, 2n, 3n]);
  });

  it('property: the double-precision path gives exactly the bigint result', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 100_000_000 }), { minLength: 1, maxLength: 8 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0));
          const small = allocateProRataSmall(total, weights);
          expect(small).not.toBeNull();
          expect(small!.map(BigInt)).toEqual(allocateProRata(BigInt(total), weights.map(BigInt)));
        },
      ),
      { numRuns: 500 },
    );
    expect(allocateProRataSmall(2 ** 40, [2 ** 20, 1])).toBeNull(); // would pass 2^53: the caller falls back to bigint
  });

  it('property: parts sum to the total and each is floor or ceil of its quota', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 12n }), { minLength: 1, maxLength: 40 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const parts = allocateProRata(total, weights);
          const sum = weights.reduce((a, b) => a + b, 0n);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
          parts.forEach((p, i) => {
            const floor = (total * weights[i]) / sum;
            expect(p === floor || p === floor + 1n).toBe(true);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- rules --------------------------------------------------------------------------------------

describe('tariff rules', () => {
  it('reports every problem with its path', () => {
    expect(() =>
      compileRules({
        basis: { kind: 'per_second', rateTiyn: '0.1234567' },
        rightTypeSplit: { performer: '50', producer: '40' },
        dayparts: [
          { from: '06:00', to: '10:00', coefficient: '1.5' },
          { from: '09:00', to: '11:00', coefficient: '1.2' },
        ],
        administration: { percent: '25' },
        bogus: 1,
      }),
    ).toThrow(
      /bogus: unknown rule.*basis.rateTiyn: "0.1234567" is not a non-negative decimal with at most 6 decimals.*rightTypeSplit: percentages sum to 90, not 100.*dayparts: two dayparts overlap.*administration.percent: over the 20 % cap/,
    );
    expect(() =>
      compileRules(
        { basis: { kind: 'per_second', rateMci: '0.001' }, rightTypeSplit: { performing: '100' } },
        { mciTiyn: null, year: 2031 },
      ),
    ).toThrow(/MCI value for 2031 is not configured/);
  });

  it('converts MCI at the year value (2026: 4 325 KZT)', () => {
    const r = compileRules(
      {
        basis: { kind: 'per_second', rateMci: '0.0001' },
        rightTypeSplit: { performing: '100' },
        minimumFee: { mci: '2.5' },
      },
      { mciTiyn: 432_500, year: 2026 },
    );
    // 0.0001 MCI = 43.25 tiyn per second; 2.5 MCI = 10 812.50 KZT
    expect(r.basis).toEqual({ kind: 'per_second', rateMicroTiynPerSec: 43_250_000n });
    expect(r.minimumFeeTiyn).toBe(1_081_250n);
  });
});

describe('dayparts in the channel time zone', () => {
  const rules = compileRules({
    basis: { kind: 'per_second', rateTiyn: '1' },
    rightTypeSplit: { performing: '100' },
    dayparts: [
      { from: '06:00', to: '10:00', coefficient: '1.5' },
      { from: '22:00', to: '06:00', coefficient: '0.5' },
    ],
  });

  it('splits an airing at a daypart boundary (09:58-10:03 Almaty = 120 s x1.5 + 180 s x1)', () => {
    const segs = segmentAirtime(rules, 'Asia/Almaty', at(3, 9, 58), at(3, 10, 3));
    expect(segs.map((s) => [s.endMs - s.startMs, Number(s.coefficientMicro) / 1e6])).toEqual([
      [120_000, 1.5],
      [180_000, 1],
    ]);
  });

  it('uses the zone of the date: before March 2024 Almaty was UTC+6', () => {
    // 04:00 UTC is 10:00 in Almaty (UTC+6) on 2024-02-01, but 09:00 (UTC+5) on 2024-04-01
    const feb = Date.UTC(2024, 1, 1, 4, 0);
    const apr = Date.UTC(2024, 3, 1, 4, 0);
    expect(
      segmentAirtime(rules, 'Asia/Almaty', feb - 60_000, feb + 60_000).map(
        (s) => Number(s.coefficientMicro) / 1e6,
      ),
    ).toEqual([1.5, 1]);
    expect(
      segmentAirtime(rules, 'Asia/Almaty', apr - 60_000, apr + 60_000).map(
        (s) => Number(s.coefficientMicro) / 1e6,
      ),
    ).toEqual([1.5]);
    // in Moscow (UTC+3) the same instants are 06:59-07:01, inside the 06-10 daypart
    expect(
      segmentAirtime(rules, 'Europe/Moscow', apr - 60_000, apr + 60_000).map(
        (s) => Number(s.coefficientMicro) / 1e6,
      ),
    ).toEqual([1.5]);
  });

  it('a night daypart wraps past midnight and a few seconds are payable (no threshold by default)', () => {
    const w = weighDetection(rules, 'Asia/Almaty', {
      channelId: 'c',
      startMs: at(3, 23, 59, 58),
      endMs: at(4, 0, 0, 1),
      useType: null,
    });
    expect(w.airtimeMs).toBe(3000);
    expect(w.units).toBe(1500n * 10n ** 18n); // 3 s at 0.5 = 1.5 weighted seconds
    const withThreshold = compileRules({
      basis: { kind: 'per_second', rateTiyn: '1' },
      rightTypeSplit: { performing: '100' },
      minDurationSec: 5,
    });
    expect(
      weighDetection(withThreshold, 'Asia/Almaty', { channelId: 'c', startMs: 0, endMs: 3000, useType: null })
        .units,
    ).toBe(0n);
  });
});

// ---- worked examples, checked by hand -------------------------------------------------------------

describe('worked example: per-second rate with PRS-like dayparts', () => {
  // 10 tiyn per weighted second; breakfast 06-10 x1.5, night 22-06 x0.5; background music x0.5; CMO keeps 15 %.
  const rules: TariffRules = {
    basis: { kind: 'per_second', rateTiyn: '10' },
    rightTypeSplit: { performing: '100' },
    dayparts: [
      { from: '06:00', to: '10:00', coefficient: '1.5' },
      { from: '22:00', to: '06:00', coefficient: '0.5' },
    ],
    useTypeWeights: { background: '0.5' },
    administration: { percent: '15' },
  };
  const world: World = {
    detections: [
      // 120 s x1.5 + 180 s x1 = 360 weighted s -> 3 600 tiyn
      {
        id: 'd1',
        channelId: 'R1',
        recordingId: 'REC1',
        startMs: at(3, 9, 58),
        endMs: at(3, 10, 3),
        useType: 'featured',
      },
      // 210 s x0.5 (background) = 105 -> 1 050 tiyn
      {
        id: 'd2',
        channelId: 'R1',
        recordingId: 'REC1',
        startMs: at(3, 14, 0),
        endMs: at(3, 14, 3, 30),
        useType: 'background',
      },
      // 20 s across midnight x0.5 = 10 -> 100 tiyn, counted on the day it started
      {
        id: 'd3',
        channelId: 'R1',
        recordingId: 'REC1',
        startMs: at(3, 23, 59, 50),
        endMs: at(4, 0, 0, 10),
        useType: null,
      },
      // 0.5 s x0.5 + 0.25 s x1.5 = 0.625 -> 6.25 tiyn
      {
        id: 'd4',
        channelId: 'R1',
        recordingId: 'REC1',
        startMs: at(4, 5, 59, 59, 500),
        endMs: at(4, 6, 0, 0, 250),
        useType: null,
      },
    ],
    rights: new Map([
      [
        'REC1',
        rightsOf(
          'REC1',
          [{ workId: 'W1' }].map((w) => ({ ...w, portionBp: 10000 })),
          [
            sh('work', 'W1', 'performing', 'A', 5000),
            sh('work', 'W1', 'performing', 'B', 3333),
            sh('work', 'W1', 'performing', 'C', 1667),
          ],
        ),
      ],
    ]),
    mandates: new Map(['A', 'B', 'C'].map((h) => [h, [mandate(h, 'AUTH', 'performing')]])),
  };

  it('computes the due, the buckets, the airings and the holders exactly', async () => {
    const ledger = new MemoryLedger();
    const summary = await accrue(ledger, world, [licence('L1', 'AUTH', rules, ['R1'])]);
    const s = summary.licences[0];
    // 3 600 + 1 050 + 100 + 6.25 = 4 756.25 -> 4 756 tiyn
    expect(s.dueTiyn).toBe(4756);
    expect(s.buckets).toBe(2);
    expect(s.reserveTiyn).toBe(0);
    const by = (d: string, h: string) => ledger.lines.find((l) => l.detectionId === d && l.holderId === h)!;
    // d1: 3 600 -> A 1 800; B 1 199.88 and C 600.12 -> the left-over tiyn goes to B (remainder .88)
    expect([by('d1', 'A').grossTiyn, by('d1', 'B').grossTiyn, by('d1', 'C').grossTiyn]).toEqual([
      1800, 1200, 600,
    ]);
    expect([by('d1', 'A').deductionTiyn, by('d1', 'B').deductionTiyn, by('d1', 'C').deductionTiyn]).toEqual([
      270, 180, 90,
    ]);
    expect(by('d1', 'A').netTiyn).toBe(1530);
    expect([by('d2', 'A').grossTiyn, by('d2', 'B').grossTiyn, by('d2', 'C').grossTiyn]).toEqual([
      525, 350, 175,
    ]);
    expect([by('d3', 'A').grossTiyn, by('d3', 'B').grossTiyn, by('d3', 'C').grossTiyn]).toEqual([50, 33, 17]);
    // d4's day gets floor(6.25) = 6: A 3, B 1.9998 -> 2, C 1.0002 -> 1; deductions round down to 0
    expect([by('d4', 'A').grossTiyn, by('d4', 'B').grossTiyn, by('d4', 'C').grossTiyn]).toEqual([3, 2, 1]);
    expect(by('d4', 'A').deductionTiyn).toBe(0);
    expect(ledger.lines.reduce((a, l) => a + l.grossTiyn, 0)).toBe(4756);
    expect(s.deductionTiyn).toBe(270 + 180 + 90 + 78 + 52 + 26 + 7 + 4 + 2);
  });
});

describe('worked example: GEMA-like percentage-of-revenue pool', () => {
  // 1.5 % of 12 345 678.90 KZT declared revenue, shared pro rata by weighted airtime; channel B weighs 2.
  const rules: TariffRules = {
    basis: { kind: 'revenue_pool', percent: '1.5' },
    rightTypeSplit: { performer: '50', producer: '50' },
    channelWeights: { B: '2' },
    useTypeWeights: { background: '0.5' },
    minimumFee: { mci: '10' },
    administration: { percent: '10' },
  };
  const world: World = {
    detections: [
      {
        id: 'a1',
        channelId: 'A',
        recordingId: 'REC1',
        startMs: at(5, 12, 0),
        endMs: at(5, 12, 3),
        useType: 'featured',
      }, // 180
      {
        id: 'a2',
        channelId: 'A',
        recordingId: 'REC1',
        startMs: at(5, 13, 0),
        endMs: at(5, 13, 2),
        useType: 'background',
      }, // 60
      {
        id: 'b1',
        channelId: 'B',
        recordingId: 'REC1',
        startMs: at(5, 12, 0),
        endMs: at(5, 12, 1, 30),
        useType: 'featured',
      }, // 180
    ],
    rights: new Map([
      [
        'REC1',
        rightsOf(
          'REC1',
          [],
          [
            sh('recording', 'REC1', 'performer', 'P1', 10000),
            sh('recording', 'REC1', 'producer', 'L1', 6000),
            sh('recording', 'REC1', 'producer', 'L2', 4000),
          ],
        ),
      ],
    ]),
    // L2 never gave the related-rights CMO a mandate: its 40 % waits in the reserve
    mandates: new Map([
      ['P1', [mandate('P1', 'REL', 'performer')]],
      ['L1', [mandate('L1', 'REL', 'producer')]],
    ]),
  };

  it('pool, buckets, airings, right types and holders', async () => {
    const ledger = new MemoryLedger();
    const summary = await accrue(ledger, world, [licence('L2', 'REL', rules, ['A', 'B'], 1_234_567_890)]);
    const s = summary.licences[0];
    // 1 234 567 890 tiyn x 1.5 % = 18 518 518.35 -> 18 518 518
    expect(s.dueTiyn).toBe(18_518_518);
    expect(s.minimumFeeApplied).toBe(false);
    // buckets: A 240/420 -> 10 582 010.29, B 180/420 -> 7 936 507.71: B takes the left-over tiyn
    const gross = (pred: (l: AccrualLine) => boolean) =>
      ledger.lines.filter(pred).reduce((a, l) => a + l.grossTiyn, 0);
    expect(gross((l) => l.detectionId === 'a1' || l.detectionId === 'a2')).toBe(10_582_010);
    expect(gross((l) => l.detectionId === 'b1')).toBe(7_936_508);
    // a1 7 936 507.5 and a2 2 645 502.5 tie on the remainder: the earlier airing gets the tiyn
    expect(gross((l) => l.detectionId === 'a1')).toBe(7_936_508);
    expect(gross((l) => l.detectionId === 'a2')).toBe(2_645_502);
    // a1's producer half 3 968 254: L1 60 % = 2 380 952.4, L2 40 % = 1 587 301.6 -> L2 takes the tiyn, into the reserve
    const a1 = ledger.lines.filter((l) => l.detectionId === 'a1');
    expect(a1.map((l) => [l.rightType, l.holderId, l.reserveReason, l.grossTiyn, l.deductionTiyn])).toEqual([
      ['performer', 'P1', null, 3_968_254, 396_825],
      ['producer', 'L1', null, 2_380_952, 238_095],
      ['producer', 'L2', 'missing_mandate', 1_587_302, 0],
    ]);
    expect(s.reserveByReason).toEqual({ missing_mandate: s.reserveTiyn });
    expect(s.distributedTiyn + s.reserveTiyn).toBe(18_518_518);
  });

  it('the minimum fee applies when the pool is smaller, and with no airplay it is held as no_usage', async () => {
    const ledger = new MemoryLedger();
    const summary = await accrue(ledger, world, [licence('L2', 'REL', rules, ['A', 'B'], 1_000_000)]);
    expect(summary.licences[0]).toMatchObject({ dueTiyn: 4_325_000, minimumFeeApplied: true }); // 10 MCI
    const empty = new MemoryLedger();
    const s2 = await accrue(empty, { ...world, detections: [] }, [
      licence('L2', 'REL', rules, ['A', 'B'], null),
    ]);
    expect(s2.licences[0].reserveByReason).toEqual({ no_usage: 4_325_000 });
    expect(empty.lines.map((l) => [l.rightType, l.grossTiyn])).toEqual([
      ['performer', 2_162_500],
      ['producer', 2_162_500],
    ]);
  });
});

describe('slots: who gets a right type of an airing', () => {
  const m = (h: string) => [mandate(h, 'AUTH', 'performing')];
  it('splits medleys by portion, keeps unregistered parts and conflicts in the reserve', () => {
    const rights = rightsOf(
      'R',
      [
        { workId: 'W1', portionBp: 6000 },
        { workId: 'W2', portionBp: 4000 },
      ],
      [
        sh('work', 'W1', 'performing', 'A', 7000),
        sh('work', 'W2', 'performing', 'B', 6000),
        sh('work', 'W2', 'performing', 'C', 5000),
      ],
    );
    const slots = slotsFor(rights, 'performing', 0, 'AUTH', (h) => (h === 'A' ? m('A') : []));
    expect(slots.map((s) => [s.holderId, s.reserveReason, s.subjectId, Number(s.weight)])).toEqual([
      ['A', null, null, 6000 * 7000],
      [null, 'unregistered_share', 'W1', 6000 * 3000],
      [null, 'share_conflict', 'W2', 4000 * 10000],
    ]);
    expect(
      slotsFor(
        { recordingId: 'X', known: false, works: [], shares: new Map() },
        'performing',
        0,
        'AUTH',
        () => [],
      )[0].reserveReason,
    ).toBe('unknown_recording');
    expect(slotsFor(rightsOf('R', [], []), 'performing', 0, 'AUTH', () => [])[0].reserveReason).toBe(
      'no_work_linked',
    );
  });
});

// ---- properties -----------------------------------------------------------------------------------

const decimal = (max: number) => fc.integer({ min: 0, max: max * 1000 }).map((n) => (n / 1000).toFixed(3));

const rulesArb: fc.Arbitrary<{ rules: TariffRules; revenue: number }> = fc
  .record({
    pool: fc.boolean(),
    rate: fc.integer({ min: 1, max: 500_000 }).map((n) => (n / 1000).toString()),
    percent: decimal(10),
    revenue: fc.integer({ min: 0, max: 5_000_000_000 }),
    peak: decimal(3),
    night: decimal(2),
    channelWeight: decimal(3),
    background: decimal(1),
    minFee: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: undefined }),
    admin: fc.integer({ min: 0, max: 20 }),
    split: fc.integer({ min: 0, max: 100 }),
  })
  .map((r) => ({
    revenue: r.revenue,
    rules: {
      basis: r.pool
        ? { kind: 'revenue_pool' as const, percent: r.percent }
        : { kind: 'per_second' as const, rateTiyn: r.rate },
      rightTypeSplit: { performer: String(r.split), producer: String(100 - r.split) },
      dayparts: [
        { from: '07:00', to: '10:00', coefficient: r.peak },
        { from: '23:00', to: '05:00', coefficient: r.night },
      ],
      channelWeights: { C2: r.channelWeight },
      useTypeWeights: { background: r.background },
      ...(r.minFee !== undefined ? { minimumFee: { tiyn: r.minFee } } : {}),
      administration: { percent: String(r.admin) },
    },
  }));

const HOLDERS = ['H1', 'H2', 'H3', 'H4'];
const worldArb: fc.Arbitrary<World> = fc
  .record({
    recordings: fc.array(
      fc.record({
        performer: fc.array(fc.tuple(fc.constantFrom(...HOLDERS), fc.integer({ min: 0, max: 7000 })), {
          maxLength: 3,
        }),
        producer: fc.array(fc.tuple(fc.constantFrom(...HOLDERS), fc.integer({ min: 0, max: 10000 })), {
          maxLength: 2,
        }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    mandated: fc.subarray(HOLDERS),
    detections: fc.array(
      fc.record({
        channel: fc.constantFrom('C1', 'C2'),
        recording: fc.integer({ min: 0, max: 4 }),
        startSec: fc.integer({ min: 0, max: 29 * 86400 }),
        durationMs: fc.integer({ min: 1, max: 600_000 }),
        useType: fc.constantFrom('featured', 'background', 'under_speech', null),
      }),
      { maxLength: 40 },
    ),
  })
  .map((g) => {
    const rights = new Map<string, RecordingRights>();
    g.recordings.forEach((r, i) => {
      const id = `REC${i}`;
      const shares = [
        ...dedupe(r.performer).map(([h, bp]) => sh('recording', id, 'performer', h, bp)),
        ...dedupe(r.producer).map(([h, bp]) => sh('recording', id, 'producer', h, bp)),
      ];
      rights.set(id, rightsOf(id, [], shares));
    });
    const mandates = new Map<string, Mandate[]>();
    for (const h of g.mandated)
      mandates.set(h, [mandate(h, 'REL', 'performer'), { ...mandate(h, 'REL', 'producer'), id: `M2-${h}` }]);
    const detections = g.detections.map((d, i) => ({
      id: `D${String(i).padStart(3, '0')}`,
      channelId: d.channel,
      recordingId: `REC${d.recording}`, // REC4 is never in the catalogue
      startMs: PERIOD.startMs + d.startSec * 1000,
      endMs: PERIOD.startMs + d.startSec * 1000 + d.durationMs,
      useType: d.useType,
    }));
    return { rights, mandates, detections };
  });

function dedupe(pairs: Array<[string, number]>): Array<[string, number]> {
  return [...new Map(pairs).entries()];
}

function totalsByHolder(lines: readonly AccrualLine[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) {
    const key = `${l.holderId ?? '-'}|${l.reserveReason ?? ''}|${l.rightType}`;
    out[key] = (out[key] ?? 0) + l.grossTiyn;
  }
  for (const k of Object.keys(out)) if (out[k] === 0) delete out[k];
  return out;
}

describe('properties of the accrual engine', () => {
  it('totals reconcile to the tiyn: due = holders + reserve; net + deduction = gross; deduction <= 20 %', async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, worldArb, async ({ rules, revenue }, world) => {
        const ledger = new MemoryLedger();
        const summary = await accrue(ledger, world, [licence('L', 'REL', rules, ['C1', 'C2'], revenue)]);
        const s = summary.licences[0];
        expect(ledger.lines.reduce((a, l) => a + l.grossTiyn, 0)).toBe(s.dueTiyn);
        expect(s.distributedTiyn + s.reserveTiyn).toBe(s.dueTiyn);
        for (const l of ledger.lines) {
          expect(Number.isSafeInteger(l.grossTiyn) && l.grossTiyn >= 0).toBe(true);
          expect(l.netTiyn + l.deductionTiyn).toBe(l.grossTiyn);
          expect(l.deductionTiyn * 100).toBeLessThanOrEqual(l.grossTiyn * 20);
          if (l.reserveReason) expect(l.deductionTiyn).toBe(0);
        }
        // every bucket's lines are on its own channel's local day
        for (const l of ledger.lines) {
          const d = world.detections.find((x) => x.id === l.detectionId);
          if (d) expect(localDate('Asia/Almaty', d.startMs)).toMatch(/^2026-1[12]-/);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('re-running unchanged data appends nothing (idempotent, byte-identical)', async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, worldArb, async ({ rules, revenue }, world) => {
        const lic = [licence('L', 'REL', rules, ['C1', 'C2'], revenue)];
        const ledger = new MemoryLedger();
        await accrue(ledger, world, lic);
        const before = JSON.stringify(ledger.lines);
        const again = await accrue(ledger, world, lic);
        expect(again.changed).toBe(false);
        expect(JSON.stringify(ledger.lines)).toBe(before);
        // and a fresh ledger fed the same data computes the same bytes
        const fresh = new MemoryLedger();
        await accrue(fresh, world, lic);
        expect(JSON.stringify(fresh.lines)).toBe(before);
      }),
      { numRuns: 60 },
    );
  });

  it('a correction is reversal + new lines; undoing it restores every balance', async () => {
    await fc.assert(
      fc.asyncProperty(rulesArb, worldArb, fc.nat(), async ({ rules, revenue }, world, pick) => {
        fc.pre(world.detections.length > 0);
        const lic = [licence('L', 'REL', rules, ['C1', 'C2'], revenue)];
        const ledger = new MemoryLedger();
        const first = await accrue(ledger, world, lic);
        const original = totalsByHolder(ledger.lines);
        const n = ledger.lines.length;
        // a detection is rejected: the period is accrued again
        const rejected = world.detections[pick % world.detections.length];
        const corrected = await accrue(
          ledger,
          { ...world, detections: world.detections.filter((d) => d !== rejected) },
          lic,
        );
        expect(ledger.lines.slice(0, n)).toHaveLength(n); // nothing before was edited
        const eff = effectiveLines(ledger.lines);
        expect(eff.some((l) => l.detectionId === rejected.id)).toBe(false);
        expect(ledger.lines.reduce((a, l) => a + l.grossTiyn, 0)).toBe(corrected.licences[0].dueTiyn);
        for (const l of ledger.lines.filter((x) => x.kind === 'reversal')) {
          const orig = ledger.lines[l.reversesSeq! - 1];
          expect(l.grossTiyn).toBe(-orig.grossTiyn);
        }
        // the rejection is overturned: balances return to the first run's
        await accrue(ledger, world, lic);
        expect(totalsByHolder(ledger.lines)).toEqual(original);
        expect(ledger.lines.reduce((a, l) => a + l.grossTiyn, 0)).toBe(first.licences[0].dueTiyn);
      }),
      { numRuns: 60 },
    );
  });
});
