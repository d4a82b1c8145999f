import { FRAMES_PER_SEC, HASH, QUANT, STFT, ANALYSIS_SAMPLE_RATE } from '../fingerprint/index.js';
import type { IndexedRecording, LookupIndex } from '../index/lookup.js';
import type { Detection } from './types.js';

const TU = QUANT.timeUnitsPerFrame;
const HALF_WINDOW_SEC = STFT.fftSize / 2 / ANALYSIS_SAMPLE_RATE;

/** One airing being followed: matched (query anchor, reference anchor) points of one recording. */
export interface Track {
  rec: IndexedRecording;
  keys: Set<number>;
  /** Query anchor times (time units), reference anchor frames, query triplet end times, time-scale estimates. */
  tq: number[];
  tr: number[];
  tEnd: number[];
  scale: number[];
  lastTq: number;
  lastOffset: number;
}

/** Inlier points needed before a track can become a detection. */
export const MIN_POINTS = 6;

/**
 * Confidence from the number of consistent matched anchors. Chance agreements rarely line up on one
 * offset more than a few times; docs/matching.md holds the measured false-positive rates.
 */
export function confidenceOf(points: number): number {
  if (points < MIN_POINTS) return 0;
  return Math.round((1 - Math.exp(-(points - MIN_POINTS + 1) / 6)) * 1000) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Fits query time = a + b * reference time over the points, rejecting outliers; b = 1 / speed. */
function fitLine(tq: number[], tr: number[], scaleHint: number): { a: number; b: number; inliers: number[] } {
  let idx = tq.map((_, i) => i);
  const trMin = Math.min(...tr);
  const trMax = Math.max(...tr);
  const longSpan = trMax - trMin >= 12 * FRAMES_PER_SEC;
  let b = 1 / scaleHint;
  let a = median(idx.map((i) => tq[i] - b * tr[i]));
  for (let iter = 0; iter < 4; iter++) {
    if (longSpan && idx.length >= 8) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let sxy = 0;
      for (const i of idx) {
        sx += tr[i];
        sy += tq[i];
        sxx += tr[i] * tr[i];
        sxy += tr[i] * tq[i];
      }
      const n = idx.length;
      const den = n * sxx - sx * sx;
      if (den > 0) {
        const nb = (n * sxy - sx * sy) / den;
        const lim = HASH.maxSpeedChange + 0.01;
        b = Math.min(1 / (1 - lim), Math.max(1 / (1 + lim), nb));
      }
    }
    a = median(idx.map((i) => tq[i] - b * tr[i]));
    const resid = idx.map((i) => Math.abs(tq[i] - a - b * tr[i]));
    const tolFrames = Math.max(2.5, 3 * median(resid));
    const next = idx.filter((_, k) => resid[k] <= tolFrames);
    if (next.length === idx.length || next.length < MIN_POINTS) break;
    idx = next;
  }
  return { a, b, inliers: idx };
}

/** Turns a track into a detection (times in seconds of the query), or undefined if it is too weak. */
export function finaliseTrack(t: Track, _lookup: LookupIndex): Detection | undefined {
  if (t.tq.length < MIN_POINTS) return undefined;
  const tqF = t.tq.map((x) => x / TU);
  const scaleHint = median(t.scale);
  const { a, b, inliers } = fitLine(tqF, t.tr, scaleHint);
  if (inliers.length < MIN_POINTS) return undefined;
  let startF = Infinity;
  let endF = -Infinity;
  for (const i of inliers) {
    if (tqF[i] < startF) startF = tqF[i];
    const e = t.tEnd[i] / TU;
    if (e > endF) endF = e;
  }
  const speed = 1 / b;
  const refStartF = Math.max(0, (startF - a) / b);
  const refEndF = Math.min(t.rec.frames, (endF - a) / b);
  const sec = (f: number) => f / FRAMES_PER_SEC + HALF_WINDOW_SEC;
  return {
    recording: t.rec.id,
    start: round3(sec(startF)),
    end: round3(sec(endF)),
    refStart: round3(sec(refStartF)),
    refEnd: round3(Math.min(t.rec.durationSec, sec(refEndF))),
    speed: Math.round(speed * 10000) / 10000,
    confidence: confidenceOf(inliers.length),
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
