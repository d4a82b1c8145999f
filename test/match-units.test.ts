import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE, MATCH, QUANT, type Peak } from '../src/fingerprint/index.js';
import { freqUnitsToHz } from '../src/fingerprint/peaks.js';
import { BIN_HZ, MIN_BIN, NUM_BINS } from '../src/fingerprint/stft.js';
import { PostingTable, type PostingList } from '../src/index/postings.js';
import {
  SpectrumHistory,
  halfDbStep,
  NEAR_SHIFTS,
  nearTotals,
  extendEdge,
  rankedEdge,
  rankEvidence,
  rankTotals,
  rankVerdict,
  spanEvidence,
  type Alignment,
} from '../src/match/evidence.js';
import { BinSieve } from '../src/match/tables.js';
import { StreamMatcher, type Detection } from '../src/match/index.js';
import { LookupIndex } from '../src/index/lookup.js';
import { MIN_FIT_POINTS, MIN_POINTS, confidenceOf } from '../src/match/track.js';
import { denseMatters, spectrumMatters, spectrumVerdict } from '../src/match/verdict.js';

describe('level quantisation of the spectrum history', () => {
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  const exact = (p: number) => Math.min(255, Math.max(0, Math.round((10 * Math.log10(p) + 120) * 2)));

  it('matches 10*log10 in half-dB steps to within one step, and exactly almost always', () => {
    let differ = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      f32[0] = 10 ** (-14 + (15 * i) / n);
      const d = Math.abs(halfDbStep(bits[0]) - exact(f32[0]));
      expect(d).toBeLessThanOrEqual(1);
      if (d) differ++;
    }
    expect(differ / n).toBeLessThan(0.002);
  });

  it('clamps zero, tiny and huge powers', () => {
    for (const p of [0, 1e-30, 1e-40]) {
      f32[0] = p;
      expect(halfDbStep(bits[0])).toBe(0);
    }
    f32[0] = 1e12;
    expect(halfDbStep(bits[0])).toBe(255);
  });
});

describe('bin sieve', () => {
  /** Brute force: [bin, count(bin) + count(bin + 1)] for every bin with votes whose pair reaches min. */
  function naive(bins: number[], min: number): Array<[number, number]> {
    const c = new Map<number, number>();
    for (const b of bins) c.set(b, (c.get(b) ?? 0) + 1);
    const out: Array<[number, number]> = [];
    for (const [b, n] of c) if (n + (c.get(b + 1) ?? 0) >= min) out.push([b, n + (c.get(b + 1) ?? 0)]);
    return out.sort((x, y) => x[0] - y[0]);
  }

  it('finds exactly the pairs a brute-force count finds, with their votes, despite slot collisions', () => {
    // a tiny table (64 slots) forces many collisions; bins range over negatives and large values
    const sieve = new BinSieve(64);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -2e9, max: 2e9 })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 8 }),
        (list, min) => {
          const bins = Int32Array.from(list);
          const got = sieve.pairs(bins, 0, bins.length, min).sort((x, y) => x[0] - y[0]);
          expect(got).toEqual(naive(list, min));
          for (const [b] of got) {
            const idx = [...(sieve.votes.get(b) ?? []), ...(sieve.votes.get(b + 1) ?? [])];
            expect(idx.map((i) => bins[i]).every((x) => x === b || x === b + 1)).toBe(true);
            expect(idx.length).toBe(list.filter((x) => x === b || x === b + 1).length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds a pair whose left bin is the right-hand neighbour of an earlier pair', () => {
    // 5+6 and 6+7 both reach 3; 6 is first met as 5's neighbour (a case fast-check found)
    expect(new BinSieve(1 << 10).pairs(Int32Array.from([5, 5, 6, 7, 7]), 0, 5, 3)).toEqual([
      [5, 3],
      [6, 3],
    ]);
  });

  it('keeps a bin of more votes than its 16-bit slot counter holds', () => {
    // 65,536 votes in one bin would wrap a 16-bit count to 0: the count saturates instead
    const bins = new Int32Array(65536).fill(42);
    expect(new BinSieve(1 << 10).pairs(bins, 0, bins.length, 5)).toEqual([[42, 65536]]);
  });

  it('counts only the given range and leaves no state behind', () => {
    const sieve = new BinSieve(16);
    const bins = Int32Array.from([7, 7, 7, 8, 8, 1, 1, 1, 1, 1]);
    expect(sieve.pairs(bins, 0, 5, 5)).toEqual([[7, 5]]);
    expect(sieve.pairs(bins, 0, 4, 5)).toEqual([]);
    expect(sieve.pairs(bins, 5, 10, 5)).toEqual([[1, 5]]);
  });
});

describe('posting table', () => {
  it('groups postings by hash, orders each row by aux, and lowerBound finds the first aux >= x', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            h: fc.integer({ min: 0, max: 20 }),
            f: fc.nat({ max: 1e6 }),
            a: fc.integer({ min: 0, max: 0xffff }),
          }),
          { maxLength: 600 },
        ),
        fc.integer({ min: 0, max: 0xffff }),
        (items, probe) => {
          const list: PostingList = {
            count: items.length,
            hashes: Uint32Array.from(items, (x) => x.h * 1000 + 7),
            frames: Uint32Array.from(items, (x) => x.f),
            aux: Uint16Array.from(items, (x) => x.a),
          };
          const t = PostingTable.build([list]);
          expect(t.count).toBe(items.length);
          for (let h = 0; h <= 20; h++) {
            const hash = h * 1000 + 7;
            const b = t.offsets[hash];
            const e = t.offsets[hash + 1];
            const want = items
              .filter((x) => x.h === h)
              .map((x) => [x.a, x.f])
              .sort((x, y) => x[0] - y[0]);
            const row = Array.from({ length: e - b }, (_, i) => [t.aux[b + i], t.frames[b + i]]);
            // same multiset, sorted by aux
            expect(row.map((r) => r[0])).toEqual(want.map((r) => r[0]));
            expect([...row].sort((x, y) => x[0] - y[0] || x[1] - y[1])).toEqual(
              [...want].sort((x, y) => x[0] - y[0] || x[1] - y[1]),
            );
            const lb = t.lowerBound(b, e, probe);
            expect(lb - b).toBe(row.filter((r) => r[0] < probe).length);
          }
          expect(t.offsets[HASH_SPACE]).toBe(items.length);
        },
      ),
      { numRuns: 12 }, // each build allocates the full hash table (19 MB)
    );
  });
});

describe('rank evidence of a reference in the query spectrum', () => {
  const FRAMES = 700;
  /** A deterministic generator (LCG) for the synthetic spectra. */
  const lcg = (seed: number) => {
    let s = seed >>> 0;
    return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  };
  /** Reference peaks at random places in reference frames 0..300, with their query bins at pitch 0. */
  const referencePeaks = (rand: () => number, count = 60): Peak[] => {
    const peaks: Peak[] = [];
    for (let i = 0; i < count; i++) {
      const t = Math.floor(rand() * 300) * QUANT.timeUnitsPerFrame;
      const f = Math.floor(200 + rand() * 4000);
      peaks.push({ t, f });
    }
    return peaks.sort((a, b) => a.t - b.t);
  };
  const binOf = (p: Peak) => Math.round(freqUnitsToHz(p.f) / BIN_HZ) - MIN_BIN;
  /**
   * Noise spectra; `tones` strong random tones per frame (a dense, busy query); the reference's
   * peaks added (`level`, 15 dB above the noise by default) at query frame 200 + reference frame when `aired`.
   */
  const query = (rand: () => number, peaks: Peak[], aired: boolean, tones: number, level = 3e-5) => {
    const h = new SpectrumHistory(FRAMES);
    const spectra = Array.from({ length: FRAMES }, () =>
      Float32Array.from({ length: NUM_BINS }, () => 1e-6 * (0.2 + rand())),
    );
    for (const s of spectra)
      for (let k = 0; k < tones; k++) s[Math.floor(rand() * NUM_BINS)] += 3e-5 * (0.5 + rand());
    if (aired) for (const p of peaks) spectra[200 + p.t / QUANT.timeUnitsPerFrame][binOf(p)] += level;
    spectra.forEach((s, i) => h.add(i, s));
    return h;
  };
  const al = (a: number): Alignment => ({ a, b: 1, pitchUnits: 0, refFrames: 300 });
  /** The query frame a reference peak airs in at offset `at`, with the peak added 15 dB above the noise. */
  const bump = (spectra: Float32Array[], p: Peak, at: number): Float32Array => {
    const s = spectra[at + p.t / QUANT.timeUnitsPerFrame];
    s[binOf(p)] += 3e-5;
    return s;
  };

  it('stands far above chance where the reference airs, and near chance off it or without it', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rand = lcg(seed);
      const peaks = referencePeaks(rand);
      const h = query(rand, peaks, true, 0);
      const on = rankEvidence(h, peaks, al(200), 200, 500)!;
      expect(on.z).toBeGreaterThan(8);
      expect(on.mean).toBeGreaterThan(0.9);
      // 23 frames off: not one of the baseline shifts, so this is a fair chance alignment
      const off = rankEvidence(h, peaks, al(223), 223, 523)!;
      expect(Math.abs(off.z)).toBeLessThan(3);
      const none = rankEvidence(query(lcg(seed + 100), peaks, false, 0), peaks, al(200), 200, 500)!;
      expect(Math.abs(none.z)).toBeLessThan(3);
      expect(none.n).toBeGreaterThan(40);
    }
  });

  it('is not saturated by a busy query where most positions pass a fixed contrast threshold', () => {
    // a short airing (20 reference peaks) in a dense query: a presence count cannot beat a chance
    // rate of p by more than sqrt(n (1 - p) / p) standard deviations, however clearly the peaks stand
    for (let seed = 7; seed < 10; seed++) {
      const rand = lcg(seed);
      const peaks = referencePeaks(rand, 20);
      const h = query(rand, peaks, true, 150, 1e-4);
      const presence = spanEvidence(h, peaks, al(200), 200, 500)!;
      expect(presence.chance).toBeGreaterThan(0.5);
      expect(presence.z).toBeLessThan(4);
      const rank = rankEvidence(h, peaks, al(200), 200, 500)!;
      expect(rank.z).toBeGreaterThan(Math.max(MATCH.verifyMinZ, presence.z + 2));
      expect(Math.abs(rankEvidence(h, peaks, al(223), 223, 523)!.z)).toBeLessThan(3);
    }
  });

  it('finds a fade under a louder sound as a whole stretch, where no single window of it stands out (rankedEdge)', () => {
    // the reference airs from query frame 200 (its start), faintly under a busy query up to frame 390
    // (a crossfade in), clearly after it; a start found at 390 moves back to about 200, never before
    let stuck = 0;
    for (let seed = 21; seed <= 26; seed++) {
      const rand = lcg(seed);
      const peaks = referencePeaks(rand, 140);
      const spectra = Array.from({ length: FRAMES }, () =>
        Float32Array.from({ length: NUM_BINS }, () => 1e-6 * (0.2 + rand())),
      );
      for (const sp of spectra)
        for (let k = 0; k < 60; k++) sp[Math.floor(rand() * NUM_BINS)] += 3e-5 * (0.5 + rand());
      for (const p of peaks) {
        const q = 200 + p.t / QUANT.timeUnitsPerFrame;
        spectra[q][binOf(p)] += q < 390 ? 2e-6 : 1e-4;
      }
      const h = new SpectrumHistory(FRAMES);
      spectra.forEach((sp, i) => h.add(i, sp));
      const faint = rankedEdge(h, peaks, al(200), 390, -1, 400);
      expect(faint).toBeGreaterThanOrEqual(200);
      expect(faint).toBeLessThanOrEqual(270);
      if (extendEdge(h, peaks, al(200), 390, -1, 400) > 300) stuck++;
      // the same query without the faint part: nothing before 390 to find
      const bare = new SpectrumHistory(FRAMES);
      spectra.forEach((sp, i) => {
        const c = Float32Array.from(sp);
        if (i < 390)
          for (const p of peaks) if (200 + p.t / QUANT.timeUnitsPerFrame === i) c[binOf(p)] -= 2e-6;
        bare.add(i, c);
      });
      expect(rankedEdge(bare, peaks, al(200), 390, -1, 400)).toBe(390);
      // searched forward from the start as if it were an end: the reference ends at its frame 300
      expect(rankedEdge(h, peaks, al(200), 420, 1, 400)).toBeLessThanOrEqual(500);
    }
    // the window-by-window search stops early in these fades (measured: 6 of 6 stay past frame 320)
    expect(stuck).toBeGreaterThanOrEqual(5);
  });

  it('against nearby times only, is not lifted by music in the same key as the reference', () => {
    // the query holds notes on a scale of 10 pitches; the reference's peaks are on the same scale at
    // unrelated times. Places a few bins off land between the notes, so the ranking with frequency
    // shifts calls the alignment better than chance; against nearby times it is chance.
    const near = (h: SpectrumHistory, peaks: Peak[], a: number) =>
      rankVerdict(rankTotals(h, peaks, al(a), a, a + 300, NEAR_SHIFTS))!;
    const lifted: number[] = [];
    for (let seed = 11; seed <= 14; seed++) {
      const rand = lcg(seed);
      const scale = Array.from({ length: 10 }, (_, i) => 400 + i * 380 + Math.floor(rand() * 40));
      const peaks: Peak[] = Array.from({ length: 200 }, () => ({
        t: Math.floor(rand() * 300) * QUANT.timeUnitsPerFrame,
        f: scale[Math.floor(rand() * scale.length)],
      })).sort((x, y) => x.t - y.t);
      const h = new SpectrumHistory(FRAMES);
      const spectra = Array.from({ length: FRAMES }, () =>
        Float32Array.from({ length: NUM_BINS }, () => 1e-6 * (0.2 + rand())),
      );
      for (const f of scale) {
        const bin = binOf({ t: 0, f });
        // notes of 4-12 frames with gaps of 2-10 frames, at each pitch of the scale
        for (let t = Math.floor(rand() * 20); t < FRAMES; t += 2 + Math.floor(rand() * 9)) {
          const len = 4 + Math.floor(rand() * 9);
          for (let k = t; k < Math.min(FRAMES, t + len); k++) spectra[k][bin] += 3e-5;
          t += len;
        }
      }
      spectra.forEach((sp, i) => h.add(i, sp));
      const withFreq = rankEvidence(h, peaks, al(223), 223, 523)!.z;
      const nearZ = near(h, peaks, 223).z;
      expect(Math.abs(nearZ)).toBeLessThan(3);
      expect(withFreq).toBeGreaterThan(nearZ + 1.5);
      lifted.push(withFreq);
      // and where the reference airs over the same music, against nearby times it stands out
      for (const p of peaks) h.add(200 + p.t / QUANT.timeUnitsPerFrame, bump(spectra, p, 200));
      expect(near(h, peaks, 200).z).toBeGreaterThan(MATCH.nearMinZ);
    }
    expect(lifted.reduce((a, b) => a + b) / lifted.length).toBeGreaterThan(3);
  });

  it('against nearby times, leaves out the silence before a sound starts', () => {
    // silence up to frame 260, then noise: the reference does not air, but its peaks in the first
    // 0.8 s of the noise look louder than the silence a fraction of a second before them
    for (let seed = 21; seed <= 24; seed++) {
      const rand = lcg(seed);
      const peaks = referencePeaks(rand, 1200);
      const h = new SpectrumHistory(FRAMES);
      for (let i = 0; i < FRAMES; i++) {
        const s = Float32Array.from({ length: NUM_BINS }, () => (i < 260 ? 1e-12 : 1e-6 * (0.2 + rand())));
        h.add(i, s);
      }
      const plain = rankVerdict(rankTotals(h, peaks, al(200), 260, 310, NEAR_SHIFTS))!;
      const near = rankVerdict(nearTotals(h, peaks, al(200), 260, 310))!;
      expect(plain.z).toBeGreaterThan(MATCH.nearMinZ);
      expect(Math.abs(near.z)).toBeLessThan(3);
      expect(near.n).toBeGreaterThanOrEqual(MATCH.nearMinPeaks);
    }
  });

  it("leaves a loop's own repeats out of the baseline in time when asked (the end search)", () => {
    // a 53-frame riff (the baseline's shift) played over and over: where it airs, the places 53 and
    // 106 frames off the alignment hold the riff too, which lifts chance to the airing's own level
    const zs = {
      plain: [] as number[],
      skipping: [] as number[],
      notAired: [] as number[],
      random: [] as number[],
    };
    for (let seed = 31; seed <= 35; seed++) {
      const rand = lcg(seed);
      const riff = referencePeaks(rand, 8).map((p) => ({ t: p.t % (53 * QUANT.timeUnitsPerFrame), f: p.f }));
      const loop = Array.from({ length: 6 }, (_, k) =>
        riff.map((p) => ({ t: p.t + k * 53 * QUANT.timeUnitsPerFrame, f: p.f })),
      )
        .flat()
        .filter((p) => p.t < 300 * QUANT.timeUnitsPerFrame)
        .sort((a, b) => a.t - b.t);
      const h = query(rand, loop, true, 20);
      zs.plain.push(spanEvidence(h, loop, al(200), 300, 400)!.z);
      zs.skipping.push(spanEvidence(h, loop, al(200), 300, 400, true)!.z);
      const quiet = query(lcg(seed + 100), loop, false, 20);
      zs.notAired.push(spanEvidence(quiet, loop, al(200), 300, 400, true)!.z);
      // a reference that does not repeat itself: the same verdict either way
      const peaks = referencePeaks(rand);
      const hr = query(rand, peaks, true, 20);
      const a = spanEvidence(hr, peaks, al(200), 300, 400)!;
      const b = spanEvidence(hr, peaks, al(200), 300, 400, true)!;
      zs.random.push(Math.abs(a.z - b.z));
    }
    for (const z of zs.plain) expect(z).toBeLessThan(1.8); // the edge search's bar: the loop's end is cut
    for (const z of zs.skipping) expect(z).toBeGreaterThan(3);
    for (const z of zs.notAired) expect(z).toBeLessThan(1.8);
    for (const d of zs.random) expect(d).toBeLessThan(0.5);
  });

  it('gives no verdict on too few peaks or a span no longer in the history', () => {
    const rand = lcg(3);
    const peaks = referencePeaks(rand);
    const h = query(rand, peaks, true, 0);
    expect(rankEvidence(h, peaks.slice(0, 5), al(200), 200, 500)).toBeUndefined();
    expect(rankEvidence(h, peaks, al(5000), 5000, 5300)).toBeUndefined();
  });
});

describe('spectrum verdict of a weak track', () => {
  const { verifyMinPoints, verifyMinZ, vetoBelowPoints, vetoMaxZ, verifyBonusPoints } = MATCH;
  const { nearMinZ, nearBonusPoints, nearMinPeaks } = MATCH;
  /** A ranking against nearby times: z over n peaks. */
  const near = (z: number, n: number = nearMinPeaks) => ({ z, n, mean: 0.5 });

  it('vetoes tracks below vetoBelowPoints whose reference does not stand out, and only those', () => {
    expect(spectrumVerdict(20, 0.6, { span: vetoMaxZ - 0.1 })).toBe(0);
    expect(spectrumVerdict(vetoBelowPoints - 1, 0.98, { span: 0 })).toBe(0);
    expect(spectrumVerdict(vetoBelowPoints, 0.99, { span: 0 })).toBe(0.99);
    expect(spectrumVerdict(20, 0.6, { span: vetoMaxZ })).toBe(0.6);
    expect(spectrumMatters(vetoBelowPoints - 1, 0.98)).toBe(true);
    expect(spectrumMatters(vetoBelowPoints, 0.99)).toBe(false);
  });

  it('verifies short airings from verifyMinPoints points when the reference stands far above chance', () => {
    const c = confidenceOf(verifyMinPoints);
    expect(spectrumVerdict(verifyMinPoints, c, { span: verifyMinZ })).toBe(
      confidenceOf(verifyMinPoints + verifyBonusPoints),
    );
    expect(spectrumVerdict(verifyMinPoints, c, { span: verifyMinZ - 0.1 })).toBe(c);
    // not where the same peaks stand no higher than nearby times: music in the reference's key
    const nearZ = (z: number) => ({ z, n: 30, mean: 0.5 });
    expect(spectrumVerdict(verifyMinPoints, c, { span: 9, near: nearZ(MATCH.verifyNearMinZ - 0.1) })).toBe(c);
    expect(spectrumVerdict(verifyMinPoints, c, { span: 9, near: nearZ(MATCH.verifyNearMinZ) })).toBe(
      confidenceOf(verifyMinPoints + verifyBonusPoints),
    );
    expect(spectrumVerdict(verifyMinPoints - 1, confidenceOf(verifyMinPoints - 1), { span: 20 })).toBe(
      confidenceOf(verifyMinPoints - 1),
    );
  });

  it('verifies a track of any size whose reference stands out against nearby times', () => {
    const c = confidenceOf(6);
    const verified = confidenceOf(6 + nearBonusPoints);
    expect(verified).toBeGreaterThanOrEqual(MATCH.minConfidence);
    expect(spectrumVerdict(6, c, { span: vetoMaxZ, near: near(nearMinZ) })).toBe(verified);
    // a burst of fewer peaks than about a second of reference is not judged
    expect(spectrumVerdict(6, c, { span: 9, near: near(9, nearMinPeaks - 1) })).toBe(c);
    expect(spectrumVerdict(6, c, { span: 9, near: near(nearMinZ - 0.1) })).toBe(c);
    expect(spectrumVerdict(6, c, { span: 9, near: undefined })).toBe(c);
    // the dense reference peaks' ranking passes too, over the same second of reference (the floor
    // counts the sparse peaks), where the sparse ranking agrees
    const { nearDenseSupportZ } = MATCH;
    expect(nearDenseSupportZ).toBeLessThan(nearMinZ);
    const below = near(nearDenseSupportZ);
    expect(spectrumVerdict(6, c, { span: 9, near: below, nearDense: near(nearMinZ, 30) })).toBe(verified);
    expect(spectrumVerdict(6, c, { span: 9, near: below, nearDense: near(nearMinZ - 0.1, 30) })).toBe(c);
    // a motif of similar music: strong on dense peaks, not supported by the sparse ones
    const motif = near(nearDenseSupportZ - 0.1);
    expect(spectrumVerdict(6, c, { span: 9, near: motif, nearDense: near(9, 30) })).toBe(c);
    expect(spectrumVerdict(6, c, { span: 9, near: near(9, nearMinPeaks - 1), nearDense: near(9, 30) })).toBe(
      c,
    );
    // the veto comes first: a track whose span does not stand out is a hash coincidence
    expect(spectrumVerdict(6, c, { span: vetoMaxZ - 0.1, near: near(9) })).toBe(0);
    // the larger of the two bonuses
    const p = verifyMinPoints;
    expect(spectrumVerdict(p, confidenceOf(p), { span: verifyMinZ, near: near(nearMinZ) })).toBe(
      confidenceOf(p + Math.max(verifyBonusPoints, nearBonusPoints)),
    );
  });

  it('lets a track below MIN_POINTS through only when nearby times verify it, over two seconds', () => {
    const { nearDenseSupportZ } = MATCH;
    const verified = confidenceOf(MIN_POINTS + nearBonusPoints);
    for (let p = MIN_FIT_POINTS; p < MIN_POINTS; p++) {
      // its points alone are no evidence
      expect(confidenceOf(p)).toBe(0);
      expect(spectrumMatters(p, 0)).toBe(true);
      const few = MATCH.nearMinPeaksAiring;
      expect(spectrumVerdict(p, 0, { span: 9, near: near(nearMinZ, few) })).toBe(verified);
      expect(spectrumVerdict(p, 0, { span: 9, near: near(nearMinZ - 0.1, few) })).toBe(0);
      // about two seconds of reference, not one: a 1-s burst of speech can rank as high
      expect(spectrumVerdict(p, 0, { span: 9, near: near(9, few - 1) })).toBe(0);
      expect(
        spectrumVerdict(p, 0, { span: 9, near: near(nearDenseSupportZ, few), nearDense: near(9, 60) }),
      ).toBe(verified);
      // the span ranking alone (verifyMinPoints) does not apply to so few points
      expect(spectrumVerdict(p, 0, { span: 20 })).toBe(0);
    }
    expect(verified).toBeGreaterThanOrEqual(MATCH.minConfidence);
    // a ranking reaching past the matched points to the airing's edges needs the same two seconds
    const c = confidenceOf(MIN_POINTS);
    const airing = MATCH.nearMinPeaksAiring;
    expect(spectrumVerdict(MIN_POINTS, c, { span: 9, near: near(9, airing - 1), airing: true })).toBe(c);
    expect(spectrumVerdict(MIN_POINTS, c, { span: 9, near: near(nearMinZ, airing), airing: true })).toBe(
      verified,
    );
    expect(spectrumVerdict(MIN_POINTS, c, { span: 9, near: near(nearMinZ, nearMinPeaks) })).toBe(verified);
  });

  it('reads dense peaks only where they could change the verdict', () => {
    const c = confidenceOf(6);
    let mattered = 0;
    for (let z = -2; z <= 9; z += 0.25) {
      for (const n of [nearMinPeaks - 1, nearMinPeaks, 40]) {
        const sparse = near(z, n);
        const withDense = spectrumVerdict(6, c, { span: 9, near: sparse, nearDense: near(20, 80) });
        const without = spectrumVerdict(6, c, { span: 9, near: sparse });
        if (!denseMatters(sparse)) expect(withDense).toBe(without);
        else mattered++;
      }
    }
    expect(mattered).toBeGreaterThan(0);
    expect(denseMatters(undefined)).toBe(false);
  });

  it('changes nothing without a verdict of the spectrum (too few peaks, or peaks-only input)', () => {
    expect(spectrumVerdict(8, 0.01, { span: undefined })).toBe(0.01);
    expect(spectrumVerdict(14, 0.2, { span: undefined, near: near(9) })).toBe(0.2);
  });
});

describe('reported airtime of one recording', () => {
  /** The matcher's last step, on its own: what it reports for detections already decided. */
  const reporter = () => {
    const m = new StreamMatcher(new LookupIndex()) as unknown as {
      report(e: { d: Detection; slot: number; points: number }, out: Detection[]): void;
    };
    const out: Detection[] = [];
    return { out, report: (d: Detection, slot = 1) => m.report({ d, slot, points: 20 }, out) };
  };
  const det = (start: number, end: number, refStart: number, speed = 1): Detection => ({
    recording: 'r',
    start,
    end,
    refStart,
    refEnd: refStart + (end - start) * speed,
    speed,
    confidence: 0.9,
  });

  it('never reports the same seconds of a recording twice: an overlapping detection is cut', () => {
    const { out, report } = reporter();
    report(det(10, 100, 10));
    // a second track of the same airing, starting inside the first one's stretched end
    report(det(95, 130, 95.2, 1.01));
    expect(out[1]).toMatchObject({ start: 100, end: 130, refStart: 100.25 });
    // one wholly inside what was reported: nothing new
    report(det(20, 40, 20));
    expect(out).toHaveLength(2);
    // one reaching further back than forward keeps its earlier part
    report(det(2, 12, 2));
    expect(out[2]).toMatchObject({ start: 2, end: 10, refEnd: 10 });
    // another recording is not affected
    report(det(50, 60, 50), 2);
    expect(out[3]).toMatchObject({ start: 50, end: 60 });
  });
});
