import { FRAMES_PER_SEC, HASH, QUANT, STFT, ANALYSIS_SAMPLE_RATE } from '../fingerprint/index.js';
import type { IndexedRecording } from '../index/lookup.js';
import type { RankTotals } from './evidence.js';
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
  /** Query minus reference anchor frequency of each point (freq units). */
  pitch: number[];
  lastTq: number;
  lastOffset: number;
  /**
   * Keys (pointKey) of the points a rotation search gave (single coinciding peaks, not triplets): they
   * place the airing but count for nothing in its confidence (evidencePoints).
   */
  rotationKeys?: Set<number>;
  /** Edges (query frames) moved outward by checking the reference's peaks in the query spectrum. */
  edgeStart?: number;
  /** The ranked start search (rankedEdge) was done, or can no longer be. */
  startRanked?: boolean;
  /** Query frame of the recording's own start, where the start is taken to if the track closes as a play (PLAY_THROUGH). */
  playStart?: number;
  edgeEnd?: number;
  /**
   * Ranks of the reference's peaks in the query spectrum gathered while the track is open (a long
   * airing outlasts the spectrum history), up to query frame `ranksUntil`.
   */
  ranks?: RankTotals;
  ranksUntil?: number;
}

/**
 * A new track with no points. Every field is set here, in one order, so that all tracks share one
 * hidden class: when tracks made in two places gained their optional fields in different orders, the
 * matcher's hot loops turned polymorphic for the rest of the process (measured: once the PCM path had
 * run, peaks-only matching at 1,000 h cost 1.95-2.05 instead of 1.53-1.62 ms per query second).
 */
export function newTrack(rec: IndexedRecording, lastTq: number, lastOffset: number, rotation = false): Track {
  return {
    rec,
    keys: new Set(),
    tq: [],
    tr: [],
    tEnd: [],
    scale: [],
    pitch: [],
    lastTq,
    lastOffset,
    rotationKeys: rotation ? new Set() : undefined,
    edgeStart: undefined,
    startRanked: false,
    playStart: undefined,
    edgeEnd: undefined,
    ranks: undefined,
    ranksUntil: undefined,
  };
}

/** Inlier points a track is believed on without the spectrum's verification (confidenceOf). */
export const MIN_POINTS = 6;
/**
 * Inlier points a track needs to be fitted and checked at all: below MIN_POINTS its confidence is 0
 * unless the query spectrum verifies it (spectrumVerdict). A few seconds of music under a voice
 * leaves 4-5 consistent triplets.
 */
export const MIN_FIT_POINTS = 4;

/**
 * Confidence from the number of consistent matched points (query anchor, reference anchor). It is
 * calibrated on the standard benchmark (docs/benchmarks.md): the share of detections with that many
 * points that were real airings, fitted with a logistic curve. Similar music (remixes, shared samples)
 * gives tracks of up to ~20 points; real airings mostly give far more.
 */
export function confidenceOf(points: number): number {
  if (points < MIN_POINTS) return 0;
  return Math.round((1 / (1 + Math.exp(-(points - CONF_MID_POINTS) / CONF_SCALE_POINTS))) * 1000) / 1000;
}

const CONF_MID_POINTS = 19;
const CONF_SCALE_POINTS = 2.5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[n >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Slope of query time against reference time (1 / speed), robustly: the median slope of point pairs
 * half the track apart (a Theil-Sen estimate over well separated pairs). Falls back to the per-vote
 * time-scale estimates when the track is too short to separate points.
 */
function robustSlope(tq: number[], tr: number[], idx: number[], scaleHint: number): number {
  const slopes = pairSlopes(tq, tr, idx);
  const lim = HASH.maxSpeedChange + 0.01;
  const b = slopes.length >= MIN_SLOPES ? median(slopes) : 1 / scaleHint;
  return Math.min(1 / (1 - lim), Math.max(1 / (1 + lim), b));
}

/** Reference frames two points must be apart to estimate the speed from them. */
const MIN_PAIR_FRAMES = 1.5 * FRAMES_PER_SEC;

/** Point pairs far enough apart (MIN_PAIR_FRAMES) that a track's slope is measured from its points. */
const MIN_SLOPES = 5;

/**
 * Fits query time = a + b * reference time over the points, rejecting outliers; b = 1 / speed.
 * Where the points are too few or too close together to measure the slope (a short airing), the
 * triplets' own time-scale estimates (`scaleHint`, their median) are a guess 2-3 % off at times: then
 * the nominal speed is fitted too and kept unless the guess explains more points.
 */
function fitLine(tq: number[], tr: number[], scaleHint: number): { a: number; b: number; inliers: number[] } {
  const guessed = fitLineFrom(tq, tr, scaleHint);
  if (
    scaleHint === 1 ||
    pairSlopes(
      tq,
      tr,
      tq.map((_, i) => i),
    ).length >= MIN_SLOPES
  )
    return guessed;
  const nominal = fitLineFrom(tq, tr, 1);
  return nominal.inliers.length >= guessed.inliers.length ? nominal : guessed;
}

/** Slopes of the point pairs half the track apart that are at least MIN_PAIR_FRAMES apart. */
function pairSlopes(tq: number[], tr: number[], idx: number[]): number[] {
  const order = [...idx].sort((x, y) => tr[x] - tr[y]);
  const half = order.length >> 1;
  const slopes: number[] = [];
  for (let k = 0; k + half < order.length; k++) {
    const i = order[k];
    const j = order[k + half];
    const dr = tr[j] - tr[i];
    if (dr >= MIN_PAIR_FRAMES) slopes.push((tq[j] - tq[i]) / dr);
  }
  return slopes;
}

function fitLineFrom(
  tq: number[],
  tr: number[],
  scaleHint: number,
): { a: number; b: number; inliers: number[] } {
  let idx = tq.map((_, i) => i);
  let b = robustSlope(tq, tr, idx, scaleHint);
  let a = median(idx.map((i) => tq[i] - b * tr[i]));
  for (let iter = 0; iter < 3; iter++) {
    const resid = idx.map((i) => Math.abs(tq[i] - a - b * tr[i]));
    const tolFrames = Math.max(2.5, 3 * median(resid));
    const next = idx.filter((_, k) => resid[k] <= tolFrames);
    if (next.length === idx.length || next.length < MIN_FIT_POINTS) break;
    idx = next;
    b = robustSlope(tq, tr, idx, scaleHint);
    a = median(idx.map((i) => tq[i] - b * tr[i]));
  }
  return { a, b, inliers: idx };
}

export interface TrackFit {
  /** Query frame = a + b * reference frame. */
  a: number;
  b: number;
  inliers: number[];
  /** First and last query frames the inlier points cover. */
  startF: number;
  endF: number;
  pitchUnits: number;
}

export function fitTrack(t: Track): TrackFit | undefined {
  if (t.tq.length < MIN_FIT_POINTS) return undefined;
  const tqF = t.tq.map((x) => x / TU);
  const { a, b, inliers } = fitLine(tqF, t.tr, median(t.scale));
  if (inliers.length < MIN_FIT_POINTS) return undefined;
  let startF = Infinity;
  let endF = -Infinity;
  for (const i of inliers) {
    if (tqF[i] < startF) startF = tqF[i];
    const e = t.tEnd[i] / TU;
    if (e > endF) endF = e;
  }
  return { a, b, inliers, startF, endF, pitchUnits: median(inliers.map((i) => t.pitch[i])) };
}

/** The key of a point (query time in time units, reference frame) in Track.keys. */
export function pointKey(tq: number, tr: number): number {
  return tq * 2 ** 21 + tr;
}

/** Inlier points that are matched triplets (not rotation peaks): what the confidence counts. */
export function evidencePoints(t: Track, fit: TrackFit): number {
  const rot = t.rotationKeys;
  if (!rot) return fit.inliers.length;
  let n = 0;
  for (const i of fit.inliers) if (!rot.has(pointKey(t.tq[i], t.tr[i]))) n++;
  return n;
}

/** Turns a track into a detection (times in seconds of the query), or undefined if it is too weak. */
export function finaliseTrack(t: Track, fit: TrackFit | undefined = fitTrack(t)): Detection | undefined {
  if (!fit) return undefined;
  const { a, b } = fit;
  const startF = Math.min(fit.startF, t.edgeStart ?? Infinity);
  const endF = Math.max(fit.endF, t.edgeEnd ?? -Infinity);
  const refStartF = Math.max(0, (startF - a) / b);
  const refEndF = Math.min(t.rec.frames, (endF - a) / b);
  const sec = (f: number) => f / FRAMES_PER_SEC + HALF_WINDOW_SEC;
  return {
    recording: t.rec.id,
    start: round3(sec(startF)),
    end: round3(sec(endF)),
    refStart: round3(sec(refStartF)),
    refEnd: round3(Math.min(t.rec.durationSec, sec(refEndF))),
    speed: Math.round((1 / b) * 10000) / 10000,
    confidence: confidenceOf(evidencePoints(t, fit)),
  };
}

/** Seconds as detections report them: to the millisecond. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export { median };
