import { QUANT, ROTATION, type Peak } from '../fingerprint/index.js';
import { BIN_HZ } from '../fingerprint/stft.js';
import { freqUnitsToHz } from '../fingerprint/peaks.js';

const TU = QUANT.timeUnitsPerFrame;
const OFFSET_BIN = ROTATION.offsetBinFrames;

/**
 * A channel's rotation: the recordings it aired recently, at the speed and pitch it aired them, each
 * ready to be searched for in the query's peaks directly, one peak at a time, without triplets.
 *
 * Triplets need three of a reference's peaks to survive as query peaks. Under a voice as loud as the
 * music a third of them do, and a few seconds of a bed leave too few triplets to vote (docs/recognition.md,
 * Matching step 6). A station plays the same beds, jingles and songs again within hours, and for a
 * recording it aired at a known speed a single peak is enough to vote: each query peak votes for the
 * offsets at which the recording has a peak in the same frequency bin. The search space is a few
 * dozen recordings instead of the catalogue, which is what makes weaker evidence affordable; what it
 * proposes is only a candidate, verified in the query spectrum like any short track.
 *
 * Pure: no I/O; the matcher owns one per stream.
 */
export interface RotationCandidate<K> {
  key: K;
  /** Query frame = a + b * reference frame. */
  a: number;
  b: number;
  pitchUnits: number;
  /** Query peaks that coincide with a reference peak at this alignment (the best pair of offset bins). */
  votes: number;
  /** Votes a pair of offset bins gets on average here. */
  expected: number;
  /** The coinciding peaks: query time (time units) and reference frame. */
  points: Array<{ tq: number; tr: number }>;
}

interface Entry<K> {
  key: K;
  b: number;
  pitchUnits: number;
  /** Reference length, in query frames at this speed. */
  spanFrames: number;
  /** Query frame at which the recording was last heard on this channel. */
  lastFrame: number;
  /** Per frequency bin (query side, at this pitch; index = STFT bin), the reference peaks' frames. */
  cells: Array<Float32Array | undefined>;
}

/** P(X >= k) for X ~ Poisson(lambda). */
function poissonTail(lambda: number, k: number): number {
  let term = Math.exp(-lambda);
  let below = 0;
  for (let i = 0; i < k; i++) {
    below += term;
    term *= lambda / (i + 1);
  }
  return Math.max(0, 1 - below);
}

/** Frequency bin of a peak, in STFT bins (absolute). */
function binOf(freqUnits: number): number {
  return freqUnitsToHz(freqUnits) / BIN_HZ;
}

export class Rotation<K> {
  private entries: Array<Entry<K>> = [];
  private hist = new Int32Array(1024);
  private qFrame = new Float64Array(256);
  private qBin = new Int32Array(256);
  private qOther = new Int32Array(256);

  constructor(
    readonly capacity: number = ROTATION.maxRecordings,
    readonly horizonFrames: number = ROTATION.horizonFrames,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** The recordings in the rotation, most recently heard first. */
  keys(): K[] {
    return this.entries.map((e) => e.key);
  }

  has(key: K): boolean {
    return this.entries.some((e) => e.key === key);
  }

  /**
   * A recording was heard at query frame `atFrame`, at alignment slope `b` (query frames per reference
   * frame) and pitch shift `pitchUnits`. Its entry moves to the front (or replaces the least recent).
   */
  note(
    key: K,
    peaks: readonly Peak[],
    refFrames: number,
    b: number,
    pitchUnits: number,
    atFrame: number,
  ): void {
    const i = this.entries.findIndex((e) => e.key === key);
    if (i >= 0) {
      const e = this.entries[i];
      this.entries.splice(i, 1);
      // the same speed and pitch: the cells stay
      if (Math.abs(e.b - b) < 0.002 && Math.abs(e.pitchUnits - pitchUnits) < 4) {
        e.lastFrame = Math.max(e.lastFrame, atFrame);
        this.entries.unshift(e);
        return;
      }
    }
    const lists: number[][] = [];
    for (const p of peaks) {
      const bin = Math.round(binOf(p.f + pitchUnits));
      if (bin >= 0) (lists[bin] ??= []).push(p.t / TU);
    }
    // 4 bytes a peak (dense peaks: ~25 a second, ~18 KB for a 3-minute recording)
    const cells = Array.from(lists, (l) => (l ? Float32Array.from(l) : undefined));
    this.entries.unshift({ key, b, pitchUnits, spanFrames: refFrames * b, lastFrame: atFrame, cells });
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
  }

  /** Forgets recordings not heard for horizonFrames before query frame `now`. */
  expire(now: number): void {
    this.entries = this.entries.filter((e) => now - e.lastFrame <= this.horizonFrames);
  }

  /**
   * The best alignment of each recording in the rotation (but those `skip` names) over the query
   * peaks of [fromF, toF) (query frames; `peaks` sorted by time, in time units), where it holds at
   * least ROTATION.minVotes coinciding peaks, more than chance would give the best of its pairs of
   * offset bins but once in 1 / ROTATION.maxChance searches (Poisson, at the average pair's count).
   */
  search(
    peaks: readonly Peak[],
    fromF: number,
    toF: number,
    skip?: (key: K) => boolean,
  ): Array<RotationCandidate<K>> {
    const out: Array<RotationCandidate<K>> = [];
    let lo = 0;
    let hi = peaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (peaks[mid].t < fromF * TU) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    let last = first;
    while (last < peaks.length && peaks[last].t < toF * TU) last++;
    const n = last - first;
    if (n < ROTATION.minVotes) return out;
    // each query peak's frame, its bin and the nearer neighbour (a peak between two bins may have
    // been refined to either side in the reference)
    if (this.qFrame.length < n) {
      this.qFrame = new Float64Array(n * 2);
      this.qBin = new Int32Array(n * 2);
      this.qOther = new Int32Array(n * 2);
    }
    const { qFrame, qBin, qOther } = this;
    for (let i = 0; i < n; i++) {
      const p = peaks[first + i];
      const x = binOf(p.f);
      const near = Math.round(x);
      qFrame[i] = p.t / TU;
      qBin[i] = near;
      qOther[i] = x > near ? near + 1 : near - 1;
    }
    for (const e of this.entries) {
      if (skip?.(e.key)) continue;
      // offsets a = query frame - scaled reference frame range over (fromF - span, toF)
      const base = fromF - e.spanFrames - OFFSET_BIN;
      const nBins = Math.ceil((toF - base) / OFFSET_BIN) + 2;
      if (this.hist.length < nBins) this.hist = new Int32Array(nBins * 2);
      const hist = this.hist;
      hist.fill(0, 0, nBins);
      let total = 0;
      const { cells, b } = e;
      for (let i = 0; i < n; i++) {
        const qb = qFrame[i] - base;
        const c1 = cells[qBin[i]];
        if (c1) {
          for (let j = 0; j < c1.length; j++) hist[Math.floor((qb - b * c1[j]) / OFFSET_BIN)]++;
          total += c1.length;
        }
        const c2 = cells[qOther[i]];
        if (c2) {
          for (let j = 0; j < c2.length; j++) hist[Math.floor((qb - b * c2[j]) / OFFSET_BIN)]++;
          total += c2.length;
        }
      }
      let best = -1;
      let bestVotes = 0;
      for (let k = 0; k + 1 < nBins; k++) {
        const v = hist[k] + hist[k + 1];
        if (v > bestVotes) {
          bestVotes = v;
          best = k;
        }
      }
      const expected = (2 * total) / nBins;
      // the best of nBins pairs of bins: how many would reach bestVotes by chance (Poisson)
      if (bestVotes < ROTATION.minVotes || nBins * poissonTail(expected, bestVotes) > ROTATION.maxChance)
        continue;
      // the coinciding peaks in the best pair of bins
      const points: Array<{ tq: number; tr: number }> = [];
      const aLo = base + best * OFFSET_BIN;
      const aHi = aLo + 2 * OFFSET_BIN;
      const offs: number[] = [];
      for (let i = 0; i < n; i++) {
        for (const bin of [qBin[i], qOther[i]]) {
          const cell = cells[bin];
          if (!cell) continue;
          for (let j = 0; j < cell.length; j++) {
            const a = qFrame[i] - b * cell[j];
            if (a >= aLo && a < aHi) {
              points.push({ tq: peaks[first + i].t, tr: cell[j] });
              offs.push(a);
            }
          }
        }
      }
      offs.sort((x, y) => x - y);
      out.push({
        key: e.key,
        a: offs[offs.length >> 1],
        b: e.b,
        pitchUnits: e.pitchUnits,
        votes: bestVotes,
        expected,
        points,
      });
    }
    return out;
  }
}
