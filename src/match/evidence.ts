import { QUANT, type Peak } from '../fingerprint/index.js';
import { BIN_HZ, MIN_BIN, NUM_BINS } from '../fingerprint/stft.js';
import { freqUnitsToHz } from '../fingerprint/peaks.js';

const TU = QUANT.timeUnitsPerFrame;
/** Levels are stored in half-decibel steps. */
const STEPS_PER_DB = 2;

/**
 * log2(1 + m) at the centre of each of 2^11 mantissa intervals: with the float's exponent this
 * gives log2 of a power to within 0.0004, i.e. its level to 0.003 half-dB steps, at a fraction of
 * the cost of Math.log10 (which made the history the largest cost of matching a file).
 */
const MANT_BITS = 11;
const LOG2_MANT = Float64Array.from({ length: 1 << MANT_BITS }, (_, j) =>
  Math.log2(1 + (j + 0.5) / (1 << MANT_BITS)),
);
const STEPS_PER_LOG2 = 10 * Math.log10(2) * STEPS_PER_DB;
const SCRATCH_F32 = new Float32Array(NUM_BINS);
const SCRATCH_I32 = new Int32Array(SCRATCH_F32.buffer);

/** round((10 log10 p + 120) * STEPS_PER_DB) clamped to 0..255, from the bits of a non-negative float32 p. */
export function halfDbStep(bits: number): number {
  const e = (bits >>> 23) & 0xff;
  if (e === 0) return 0; // zero or subnormal: far below -120 dB
  const log2 = e - 127 + LOG2_MANT[(bits >>> (23 - MANT_BITS)) & ((1 << MANT_BITS) - 1)];
  const q = Math.round(log2 * STEPS_PER_LOG2 + 120 * STEPS_PER_DB);
  return q < 0 ? 0 : q > 255 ? 255 : q;
}

/**
 * The last few seconds of the query's spectrum, kept so that an airing's edges can be checked
 * against the reference directly: in a fade or under a presenter the reference's peaks are still in
 * the spectrum long after they stop winning the query's own peak picking.
 */
export class SpectrumHistory {
  private readonly levels: Uint8Array;
  private readonly medians: Uint8Array;
  private readonly frameNo: Float64Array;

  constructor(readonly capacityFrames: number) {
    this.levels = new Uint8Array(capacityFrames * NUM_BINS);
    this.medians = new Uint8Array(capacityFrames);
    this.frameNo = new Float64Array(capacityFrames).fill(-1);
  }

  private readonly hist = new Uint32Array(256);

  /** Stores the power spectrum of absolute frame `frame`. */
  add(frame: number, power: Float32Array): void {
    const slot = frame % this.capacityFrames;
    const base = slot * NUM_BINS;
    const lv = this.levels;
    const hist = this.hist;
    hist.fill(0);
    for (let k = 0; k < NUM_BINS; k++) SCRATCH_F32[k] = power[k] + 1e-13;
    for (let k = 0; k < NUM_BINS; k++) {
      // 10*log10(p) dB, +120 so that 0 = -120 dB, in half-dB steps clamped to 0..255
      const q = halfDbStep(SCRATCH_I32[k]);
      lv[base + k] = q;
      hist[q]++;
    }
    let acc = 0;
    let med = 0;
    for (; med < 256; med++) {
      acc += hist[med];
      if (acc * 2 >= NUM_BINS) break;
    }
    this.medians[slot] = med;
    this.frameNo[slot] = frame;
  }

  /**
   * How far (half-dB steps) the strongest of bins k-1..k+1 stands above its spectral surroundings
   * (the mean of bins 4 to 10 away on both sides), or undefined if the frame is no longer kept.
   */
  contrast(frame: number, bin: number): number | undefined {
    if (frame < 0) return undefined;
    const slot = frame % this.capacityFrames;
    if (this.frameNo[slot] !== frame) return undefined;
    const base = slot * NUM_BINS;
    const lv = this.levels;
    let m = 0;
    for (let k = Math.max(0, bin - 1); k <= Math.min(NUM_BINS - 1, bin + 1); k++)
      if (lv[base + k] > m) m = lv[base + k];
    let sum = 0;
    let n = 0;
    for (let d = 4; d <= 10; d++) {
      if (bin - d >= 0) {
        sum += lv[base + bin - d];
        n++;
      }
      if (bin + d < NUM_BINS) {
        sum += lv[base + bin + d];
        n++;
      }
    }
    return n ? m - sum / n : 0;
  }

  /** The frame's median level (half-dB steps above -120 dB), or undefined if it is no longer kept. */
  level(frame: number): number | undefined {
    if (frame < 0) return undefined;
    const slot = frame % this.capacityFrames;
    return this.frameNo[slot] === frame ? this.medians[slot] : undefined;
  }

  has(frame: number): boolean {
    return this.level(frame) !== undefined;
  }
}

/** The alignment of a reference recording in the query: query frame = a + b * reference frame. */
export interface Alignment {
  a: number;
  b: number;
  /** Query frequency minus reference frequency, in freq units (0 for tempo-only, log2(speed) for speed). */
  pitchUnits: number;
  /** Reference length in frames. */
  refFrames: number;
}

/** Reference peaks must stand this far above the frame median to count as present. */
const PRESENT_STEPS = 8 * STEPS_PER_DB;
/** Step and window of the edge search (frames). */
const STEP_FRAMES = 16;
const WINDOW_FRAMES = 78;
/** Failing steps in a row the search goes on through (3 s: a presenter's sentence over an intro). */
const MAX_FAILS = 12;
/** Frames the chance baseline is shifted by (off the true alignment, both ways). */
const BASELINE_SHIFT = 53;
const BASELINE_BINS = 6;
/**
 * Standard deviations above chance that the aligned presence must reach; after more than 4 failing
 * steps in a row, Z_RESUME: a lone chance pass after a long gap must not drag the edge out.
 */
const Z_PRESENT = 1.8;
const Z_RESUME = 3;

export interface Presence {
  present: number;
  total: number;
}

/**
 * The reference peaks whose predicted query frames fall in [fromQ, toQ): the index of the first and
 * the time (time units) the range ends before.
 */
function referenceRange(peaks: readonly Peak[], al: Alignment, fromQ: number, toQ: number): [number, number] {
  const r0 = (fromQ - al.a) / al.b;
  const r1 = (toQ - al.a) / al.b;
  return [firstPeakFrom(peaks, Math.min(r0, r1) * TU), Math.max(r0, r1) * TU];
}

/** How many of the reference's peaks the alignment puts in query frames [fromQ, toQ). */
export function referencePeaksIn(peaks: readonly Peak[], al: Alignment, fromQ: number, toQ: number): number {
  const [lo, t1] = referenceRange(peaks, al, fromQ, toQ);
  return firstPeakFrom(peaks, t1) - lo;
}

/** Index of the first peak at or after time `t` (time units); peaks are sorted by time. */
function firstPeakFrom(peaks: readonly Peak[], t: number): number {
  let lo = 0;
  let hi = peaks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (peaks[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How close (time units, bins) another reference peak must be for the reference to repeat itself there. */
const REPEAT_TIME_UNITS = 2 * TU;
const REPEAT_BINS = 1.5;

/** Whether the reference has a peak within REPEAT_TIME_UNITS and REPEAT_BINS of time `t`, frequency `f`. */
function referenceHasPeakNear(peaks: readonly Peak[], t: number, f: number): boolean {
  const bin = freqUnitsToHz(f) / BIN_HZ;
  for (
    let i = firstPeakFrom(peaks, t - REPEAT_TIME_UNITS);
    i < peaks.length && peaks[i].t <= t + REPEAT_TIME_UNITS;
    i++
  )
    if (Math.abs(freqUnitsToHz(peaks[i].f) / BIN_HZ - bin) <= REPEAT_BINS) return true;
  return false;
}

/**
 * Reference peaks with predicted query frames in [fromQ, toQ) and how many are visible in the query,
 * `shift` frames and `binShift` bins off the alignment. With `skipRepeats`, a peak whose shifted place
 * the reference itself repeats (a loop, a riff) is left out of a shift in time.
 */
export function presence(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  fromQ: number,
  toQ: number,
  shift: number,
  binShift = 0,
  skipRepeats = false,
): Presence | undefined {
  const [lo, t1] = referenceRange(peaks, al, fromQ - shift, toQ - shift);
  let present = 0;
  let total = 0;
  // the shift in reference time units
  const repeatAt = skipRepeats && shift !== 0 ? (shift / al.b) * TU : 0;
  for (let i = lo; i < peaks.length && peaks[i].t < t1; i++) {
    const p = peaks[i];
    const q = Math.round(al.a + (al.b * p.t) / TU + shift);
    const bin = Math.round(freqUnitsToHz(p.f + al.pitchUnits) / BIN_HZ) - MIN_BIN + binShift;
    if (bin < 0 || bin >= NUM_BINS) continue;
    if (repeatAt !== 0 && referenceHasPeakNear(peaks, p.t + repeatAt, p.f)) continue;
    const c = h.contrast(q, bin);
    if (c === undefined) return undefined;
    total++;
    if (c >= PRESENT_STEPS) present++;
  }
  return { present, total };
}

/** The reference's presence in a span of the query against chance. */
export interface SpanEvidence {
  present: number;
  total: number;
  /** Share of reference peaks expected present by chance (the same check off the alignment). */
  chance: number;
  /** Standard deviations by which `present` beats chance. */
  z: number;
}

/**
 * Checks the reference's peaks in the query spectrum over [fromQ, toQ) along the alignment, against
 * chance: the same check shifted off the alignment in time (4 shifts) and in frequency (2 shifts).
 * Chance is the larger of the two baselines: off in time overrates it for steady sounds, off in
 * frequency underrates it for harmonic ones (a voice's harmonics can sit on a melody's). With
 * `skipRepeats`, the baseline in time leaves out the peaks the reference repeats at the shift: in a
 * loop the shifted places hold the airing itself, not chance (where every peak repeats, that baseline
 * has nothing left and stands at its prior, one half). Undefined when part of the span (or a
 * baseline) is no longer in the history.
 */
export function spanEvidence(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  fromQ: number,
  toQ: number,
  skipRepeats = false,
): SpanEvidence | undefined {
  const on = presence(h, peaks, al, fromQ, toQ, 0);
  if (!on) return undefined;
  const inTime: Presence[] = [];
  for (const sh of [BASELINE_SHIFT, -BASELINE_SHIFT, 2 * BASELINE_SHIFT, -2 * BASELINE_SHIFT]) {
    const o = presence(h, peaks, al, fromQ, toQ, sh, 0, skipRepeats);
    if (!o) return undefined;
    inTime.push(o);
  }
  const inFreq: Presence[] = [];
  for (const b of [BASELINE_BINS, -BASELINE_BINS]) {
    const o = presence(h, peaks, al, fromQ, toQ, 0, b);
    if (!o) return undefined;
    inFreq.push(o);
  }
  const pooled = (xs: Presence[]) => {
    let p = 0;
    let n = 0;
    for (const o of xs) {
      p += o.present;
      n += o.total;
    }
    return (p + 1) / (n + 2);
  };
  const chance = Math.min(0.9, Math.max(0.05, pooled(inTime), pooled(inFreq)));
  const sd = Math.sqrt(Math.max(1, on.total) * chance * (1 - chance));
  return { present: on.present, total: on.total, chance, z: (on.present - on.total * chance) / sd };
}

/**
 * Off-alignment positions each reference peak is compared with in rankEvidence(): in time (frames,
 * not multiples of one another, so that a steady beat cannot line them all up) and in frequency (bins).
 */
const RANK_SHIFTS: ReadonlyArray<readonly [number, number]> = [
  [37, 0],
  [-37, 0],
  [53, 0],
  [-53, 0],
  [79, 0],
  [-79, 0],
  [106, 0],
  [-106, 0],
  [0, 5],
  [0, -5],
  [0, 8],
  [0, -8],
];
/**
 * Off-alignment positions of the verification against nearby times: the same frequency 11 to 61 frames
 * (0.18-1 s) earlier and later, never in frequency. Music in the same key as the reference (similar
 * game music: same composer, instruments, scale) puts notes where the reference has them far more
 * often than a few bins off them, so frequency shifts compare "in key" with "off key" and lift chance
 * alignments; nearby times in the same query share its key, its loudness and the voice over it.
 * Sustained notes tie with their neighbours, so this ranking is conservative for pads and drones: it
 * verifies, it does not veto.
 */
export const NEAR_SHIFTS: ReadonlyArray<readonly [number, number]> = [11, 17, 23, 29, 37, 43, 53, 61].flatMap(
  (d) =>
    [
      [d, 0],
      [-d, 0],
    ] as const,
);
/**
 * A nearby time whose frame is this much quieter (median level) than the aligned one is not compared:
 * before the onset of a sound, or in a pause of a voice alone, anything at the aligned time looks loud
 * (a 1-s track at the start of a song after silence ranked 5.6 on dense peaks).
 */
const NEAR_MAX_LEVEL_DROP = 20 * STEPS_PER_DB;

/** A peak is ranked only against at least this many off-alignment positions still in the history. */
const RANK_MIN_COMPARISONS = 6;
/** Peaks needed for a rank verdict. */
const RANK_MIN_PEAKS = 8;

/** The reference's presence in a span of the query, each peak ranked against itself off the alignment. */
export interface RankEvidence {
  /** Reference peaks ranked. */
  n: number;
  /** Mean rank: the share of off-alignment positions where the query's contrast is lower (ties half); 0.5 by chance. */
  mean: number;
  /** Standard deviations by which the summed ranks beat chance. */
  z: number;
}

/** Summed ranks of reference peaks (rankTotals), which add up over consecutive stretches of a track. */
export interface RankTotals {
  n: number;
  sum: number;
  /** Variance of `sum` by chance. */
  variance: number;
}

export const NO_RANKS: RankTotals = { n: 0, sum: 0, variance: 0 };

export function addRanks(a: RankTotals, b: RankTotals): RankTotals {
  return { n: a.n + b.n, sum: a.sum + b.sum, variance: a.variance + b.variance };
}

/** The verdict of summed ranks; undefined with fewer than RANK_MIN_PEAKS peaks ranked. */
export function rankVerdict(r: RankTotals): RankEvidence | undefined {
  if (r.n < RANK_MIN_PEAKS) return undefined;
  return { n: r.n, mean: r.sum / r.n, z: (r.sum - r.n / 2) / Math.sqrt(r.variance) };
}

/**
 * A paired, rank-based test of the reference in [fromQ, toQ) of the query: each reference peak's
 * contrast at its aligned position is ranked against the same peak's contrast at RANK_SHIFTS off the
 * alignment. Under chance (the query holds other sound) the aligned contrast is just one more draw, its
 * rank uniform; where the reference plays, it ranks near the top. Unlike spanEvidence's presence count
 * against one pooled chance rate, nothing saturates: a dense query (music under speech, where 60-70 % of
 * positions pass a fixed contrast threshold anyway) still shows the aligned peaks ranking high, and each
 * peak is its own control (a loud passage or a harmonic voice lifts the aligned and the off positions
 * alike). Undefined with fewer than RANK_MIN_PEAKS peaks in the history.
 */
export function rankEvidence(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  fromQ: number,
  toQ: number,
): RankEvidence | undefined {
  return rankVerdict(rankTotals(h, peaks, al, fromQ, toQ));
}

/**
 * The ranking against nearby times (NEAR_SHIFTS) of the reference peaks predicted in [fromQ, toQ),
 * leaving out nearby frames much quieter than the aligned one (NEAR_MAX_LEVEL_DROP).
 */
export function nearTotals(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  fromQ: number,
  toQ: number,
): RankTotals {
  return rankTotals(h, peaks, al, fromQ, toQ, NEAR_SHIFTS, NEAR_MAX_LEVEL_DROP);
}

/** The ranks of rankEvidence() summed over the reference peaks predicted in [fromQ, toQ) and still in the history. */
export function rankTotals(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  fromQ: number,
  toQ: number,
  shifts: ReadonlyArray<readonly [number, number]> = RANK_SHIFTS,
  maxLevelDrop = Infinity,
): RankTotals {
  const [lo, t1] = referenceRange(peaks, al, fromQ, toQ);
  let n = 0;
  let sum = 0;
  let variance = 0;
  for (let i = lo; i < peaks.length && peaks[i].t < t1; i++) {
    const p = peaks[i];
    const q = Math.round(al.a + (al.b * p.t) / TU);
    const bin = Math.round(freqUnitsToHz(p.f + al.pitchUnits) / BIN_HZ) - MIN_BIN;
    if (bin < 0 || bin >= NUM_BINS) continue;
    const on = h.contrast(q, bin);
    if (on === undefined) continue;
    const floor = maxLevelDrop === Infinity ? -Infinity : h.level(q)! - maxLevelDrop;
    let below = 0;
    let k = 0;
    for (const [dq, db] of shifts) {
      const b = bin + db;
      if (b < 0 || b >= NUM_BINS) continue;
      if (floor !== -Infinity && (h.level(q + dq) ?? -Infinity) < floor) continue;
      const off = h.contrast(q + dq, b);
      if (off === undefined) continue;
      k++;
      below += off < on ? 1 : off === on ? 0.5 : 0;
    }
    if (k < RANK_MIN_COMPARISONS) continue;
    n++;
    sum += below / k;
    // variance of a discrete uniform rank among k + 1 exchangeable values, scaled to 0..1
    variance += ((k + 1) * (k + 1) - 1) / (12 * k * k);
  }
  return { n, sum, variance };
}

/**
 * Moves an airing's edge outward while the reference is still visibly in the query. A window of
 * WINDOW_FRAMES slides outward in STEP_FRAMES steps; where the share of the reference's peaks present
 * at the aligned positions beats chance (spanEvidence) by Z_PRESENT standard deviations, the edge
 * moves to the window's centre, which is where a window half on the music stops passing: an unbiased
 * edge. Failing steps in a row (a loud word, a sentence) are tolerated up to MAX_FAILS, with a
 * stricter pass needed after the first few. `skipRepeats` is spanEvidence's. Returns the new edge
 * (query frame).
 */
export function extendEdge(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  edgeFrame: number,
  direction: 1 | -1,
  maxFrames: number,
  skipRepeats = false,
): number {
  let edge = edgeFrame;
  let fails = 0;
  for (let moved = STEP_FRAMES; moved <= maxFrames; moved += STEP_FRAMES) {
    const centre = edgeFrame + direction * moved;
    // stay inside the reference recording
    if ((centre - al.a) / al.b < 0 || (centre - al.a) / al.b > al.refFrames) break;
    const ev = spanEvidence(
      h,
      peaks,
      al,
      centre - WINDOW_FRAMES / 2,
      centre + WINDOW_FRAMES / 2,
      skipRepeats,
    );
    if (!ev) break;
    if (ev.total < 4) continue; // the reference is quiet here: neither evidence for nor against
    if (ev.present / ev.total >= 0.3 && ev.z >= (fails > 4 ? Z_RESUME : Z_PRESENT)) {
      edge = centre;
      fails = 0;
    } else if (++fails > MAX_FAILS) break;
  }
  return edge;
}

/** Step (frames) of the ranked edge search, and the evidence it needs (rankedEdge). */
const RANKED_STEP_FRAMES = 31;
const RANKED_MIN_Z = 3;
const RANKED_MIN_PEAKS = 14;

/**
 * An edge moved out from `edgeFrame` (before it for a start, `direction` -1; after it for an end, +1)
 * by up to `maxFrames`, on a grid of RANKED_STEP_FRAMES, to where the reference's peaks between
 * `edgeFrame` and it, ranked against nearby times (nearTotals) and summed over the whole stretch, stand
 * highest above chance, if that reaches RANKED_MIN_Z standard deviations: in a crossfade the song
 * fading in or out stays under the other one for seconds, and no single window of it stands out
 * (extendEdge stops), while the stretch as a whole does. The peak of the sum, not the farthest
 * stretch that passes: strong evidence at its beginning would carry a long stretch of chance after
 * it. Never beyond the reference. Returns `edgeFrame` when no stretch passes.
 */
export function rankedEdge(
  h: SpectrumHistory,
  peaks: readonly Peak[],
  al: Alignment,
  edgeFrame: number,
  direction: 1 | -1,
  maxFrames: number,
): number {
  let best = edgeFrame;
  let bestZ = RANKED_MIN_Z;
  for (let moved = RANKED_STEP_FRAMES; moved <= maxFrames; moved += RANKED_STEP_FRAMES) {
    const to = edgeFrame + direction * moved;
    const ref = (to - al.a) / al.b;
    if (ref < 0 || ref > al.refFrames || !h.has(Math.floor(to))) break;
    const r = rankVerdict(nearTotals(h, peaks, al, Math.min(to, edgeFrame), Math.max(to, edgeFrame)));
    if (r && r.n >= RANKED_MIN_PEAKS && r.z >= bestZ) {
      best = to;
      bestZ = r.z;
    }
  }
  return best;
}
