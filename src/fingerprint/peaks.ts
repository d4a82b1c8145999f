import { PEAKS, QUANT, STFT } from './config.js';
import { BIN_HZ, MIN_BIN, NUM_BINS, type SpectrumFrame } from './stft.js';

/**
 * A spectral peak, quantised: `t` in 1/8 frames from the first frame's start, `f` in 1/1024 octave
 * above STFT.minFreqHz. Quantised coordinates are what the index stores and what hashes are made of.
 */
export interface Peak {
  t: number;
  f: number;
}

const LOG2_MIN_FREQ = Math.log2(STFT.minFreqHz);
// module-local copies: hot loops read these
const NB = NUM_BINS;
const SILENCE_DB = PEAKS.silenceDb;
const PROMINENCE = PEAKS.minProminence;
const BLOCK_FRAMES = PEAKS.blockFrames;
const TIME_UNITS = QUANT.timeUnitsPerFrame;

/** Converts a fractional FFT bin (absolute bin number) to quantised log-frequency units. */
export function binToFreqUnits(bin: number): number {
  return Math.round((Math.log2(bin * BIN_HZ) - LOG2_MIN_FREQ) * QUANT.freqUnitsPerOctave);
}

export function freqUnitsToHz(f: number): number {
  return 2 ** (f / QUANT.freqUnitsPerOctave + LOG2_MIN_FREQ);
}

/**
 * Whether any of `row[k - radius .. k + radius]` (clipped to the row) is >= v, nearest bins first:
 * a peak's neighbourhood test, asked only for the few local maxima of a frame (a full max filter of
 * every frame cost a fifth of fingerprinting).
 */
function anyAtLeast(row: Float32Array, k: number, radius: number, v: number): boolean {
  const lo = k - radius < 0 ? 0 : k - radius;
  const hi = k + radius >= row.length ? row.length - 1 : k + radius;
  if (row[k] >= v) return true;
  for (let d = 1; d <= radius; d++) {
    if ((k - d >= lo && row[k - d] >= v) || (k + d <= hi && row[k + d] >= v)) return true;
  }
  return false;
}

interface FrameSlot {
  index: number;
  s: Float32Array;
  mean: number;
  candidates: number[];
}

interface Scored {
  t: number;
  f: number;
  score: number;
}

/**
 * Streaming peak picker over STFT frames: 2-D local maxima of log power (+-timeRadiusFrames,
 * +-freqRadiusBins) that stand out of their frame, interpolated to sub-bin and sub-frame precision,
 * then thinned to the strongest `maxPerBlock` per block of frames.
 */
export class PeakPicker {
  private readonly tr = PEAKS.timeRadiusFrames;
  private readonly fr = PEAKS.freqRadiusBins;
  private readonly slots: FrameSlot[] = [];
  private block: Scored[] = [];
  private blockIndex = 0;
  private lastFrame = -1;

  constructor(private readonly maxPerBlock: number) {}

  /** Takes the next frame (copied); returns the peaks finalised by it, in time order. */
  push(frame: SpectrumFrame): Peak[] {
    const nb = NB;
    const recycled = this.slots.length > 2 * this.tr ? this.slots.shift()! : undefined;
    const s = recycled ? recycled.s : new Float32Array(nb);
    s.set(frame.power);
    let mean = 0;
    for (let k = 0; k < nb; k++) mean += s[k];
    mean /= nb;
    const candidates: number[] = recycled ? recycled.candidates : [];
    candidates.length = 0;
    if (frame.totalDb > SILENCE_DB) {
      const minValue = mean * PROMINENCE;
      const fr = this.fr;
      // the outermost bins cannot be interpolated; a candidate is the largest bin within +-fr (ties allowed)
      for (let k = 1; k < nb - 1; k++) {
        const v = s[k];
        if (!(v > minValue) || s[k - 1] > v || s[k + 1] > v) continue;
        const lo = k - fr < 0 ? 0 : k - fr;
        const hi = k + fr >= nb ? nb - 1 : k + fr;
        let isMax = true;
        for (let j = lo; j <= hi; j++) {
          if (s[j] > v) {
            isMax = false;
            break;
          }
        }
        if (isMax) candidates.push(k);
      }
    }
    this.slots.push({ index: frame.index, s, mean, candidates });
    this.lastFrame = frame.index;
    const out: Peak[] = [];
    // the slot tr frames back now has its whole neighbourhood
    if (this.slots.length > this.tr) this.finalise(this.slots.length - 1 - this.tr, out);
    return out;
  }

  /** End of input: finalises the remaining frames and the last block. */
  flush(): Peak[] {
    const out: Peak[] = [];
    const first = Math.max(0, this.slots.length - this.tr);
    for (let i = first; i < this.slots.length; i++) this.finalise(i, out);
    this.slots.length = 0;
    this.emitBlock(out);
    return out;
  }

  private finalise(pos: number, out: Peak[]): void {
    const slot = this.slots[pos];
    const blk = Math.floor(slot.index / BLOCK_FRAMES);
    if (blk !== this.blockIndex) {
      this.emitBlock(out);
      this.blockIndex = blk;
    }
    const lo = Math.max(0, pos - this.tr);
    const hi = Math.min(this.slots.length - 1, pos + this.tr);
    for (const k of slot.candidates) {
      const v = slot.s[k];
      // no other frame within +-tr holds as much within +-fr bins (nearest frames first: they decide most)
      let isMax = true;
      for (let d = 1; d <= this.tr && isMax; d++) {
        if (pos - d >= lo && anyAtLeast(this.slots[pos - d].s, k, this.fr, v)) isMax = false;
        else if (pos + d <= hi && anyAtLeast(this.slots[pos + d].s, k, this.fr, v)) isMax = false;
      }
      if (!isMax) continue;
      // parabolic interpolation in frequency and time over log power
      const lv = Math.log(v);
      const dk = parabolicOffset(Math.log(slot.s[k - 1] + 1e-12), lv, Math.log(slot.s[k + 1] + 1e-12));
      const prev = pos > 0 ? Math.log(this.slots[pos - 1].s[k] + 1e-12) : lv;
      const next = pos < this.slots.length - 1 ? Math.log(this.slots[pos + 1].s[k] + 1e-12) : lv;
      const dt = parabolicOffset(prev, lv, next);
      this.block.push({
        t: Math.round((slot.index + dt) * TIME_UNITS),
        f: binToFreqUnits(MIN_BIN + k + dk),
        score: v / slot.mean,
      });
    }
  }

  private emitBlock(out: Peak[]): void {
    let chosen = this.block;
    if (chosen.length > this.maxPerBlock) {
      chosen = [...chosen]
        .sort((a, b) => b.score - a.score || a.t - b.t || a.f - b.f)
        .slice(0, this.maxPerBlock);
    }
    chosen.sort((a, b) => a.t - b.t || a.f - b.f);
    for (const p of chosen) out.push({ t: Math.max(0, p.t), f: p.f });
    this.block = [];
  }

  get framesSeen(): number {
    return this.lastFrame + 1;
  }
}

/** Vertex offset in -0.5..0.5 of the parabola through three equally spaced points. */
export function parabolicOffset(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  if (den >= 0) return 0;
  const d = (0.5 * (a - c)) / den;
  return d > 0.5 ? 0.5 : d < -0.5 ? -0.5 : d;
}
