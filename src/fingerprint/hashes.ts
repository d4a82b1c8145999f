import { HASH, QUANT } from './config.js';
import type { Peak } from './peaks.js';

/**
 * Triplet hashes. An anchor peak A and two later peaks P1, P2 of its target zone give a hash of
 *   - the frequency differences P1-A and P2-A on a log scale (unchanged by a pitch shift),
 *   - the time ratio (t1-tA)/(t2-tA) (unchanged by any tempo change),
 *   - the anchor's coarse band and the triplet's coarse length (not invariant: a query looks up
 *     every band and length that a speed change within +-HASH.maxSpeedChange could have moved).
 * So the same hash survives speed changes (pitch and tempo together) and tempo-only stretches.
 */

const FU = QUANT.freqUnitsPerOctave;
const TU = QUANT.timeUnitsPerFrame;
const D_UNIT = FU / HASH.stepsPerOctave; // freq units per difference step
const D_HALF = Math.ceil(HASH.maxOctaves * HASH.stepsPerOctave);
export const N_DIFF = 2 * D_HALF + 1;
export const N_RATIO = HASH.ratioLevels;
const BAND_UNITS = HASH.bandOctaves * FU;
/** Freq units per anchor band; hash / HASH_BAND_DIVISOR is the band (see unpackAux). */
export const BAND_FREQ_UNITS = BAND_UNITS;
export const N_BAND = 10;
const LOG2_MIN_DT = Math.log2(HASH.minDtFrames);
export const N_DT = Math.ceil((Math.log2(HASH.maxDtFrames) - LOG2_MIN_DT) / HASH.dtLog2Step) + 1;
export const HASH_BAND_DIVISOR = N_DIFF * N_DIFF * N_RATIO * N_DT;
/** Number of distinct hash values: the size of the direct lookup table. */
export const HASH_SPACE = N_BAND * N_DIFF * N_DIFF * N_RATIO * N_DT;

const MIN_DT = HASH.minDtFrames * TU;
const MAX_DT = HASH.maxDtFrames * TU;
const MAX_DF = HASH.maxOctaves * FU;

function pack(band: number, q1: number, q2: number, r: number, dt: number): number {
  return (((band * N_DIFF + q1) * N_DIFF + q2) * N_RATIO + r) * N_DT + dt;
}

function bandOf(f: number): number {
  const b = Math.floor(f / BAND_UNITS);
  return b < 0 ? 0 : b >= N_BAND ? N_BAND - 1 : b;
}

function diffOf(df: number): number {
  return Math.floor(df / D_UNIT + 0.5) + D_HALF;
}

function ratioOf(r: number): number {
  const q = Math.floor(r * N_RATIO);
  return q >= N_RATIO ? N_RATIO - 1 : q;
}

function dtOf(dtUnits: number): number {
  return Math.floor((Math.log2(dtUnits / TU) - LOG2_MIN_DT) / HASH.dtLog2Step);
}

/**
 * Extra data stored beside each posting to reject chance collisions cheaply: the triplet length in
 * half frames (8 bits) and the anchor's position inside its band in 1/512 octave (8 bits).
 */
export function packAux(dtUnits: number, anchorF: number): number {
  const dtHalf = Math.min(255, Math.round(dtUnits / (TU / 2)));
  const inBand = Math.min(255, Math.max(0, Math.floor((anchorF - bandOf(anchorF) * BAND_UNITS) / 2)));
  return (dtHalf << 8) | inBand;
}

/** The anchor frequency (freq units) and triplet length (time units) encoded in a posting. */
export function unpackAux(hash: number, aux: number): { anchorF: number; dtUnits: number } {
  const band = Math.floor(hash / HASH_BAND_DIVISOR);
  return { anchorF: band * BAND_UNITS + (aux & 0xff) * 2 + 1, dtUnits: (aux >> 8) * (TU / 2) };
}

export interface Triplet {
  /** Index of the anchor in the peak list. */
  anchor: number;
  p1: number;
  p2: number;
}

/**
 * Calls `cb(anchor, p1, p2)` for each triplet of anchor `a`: pairs of the first `zonePeaks` peaks in
 * its target zone. Peaks must be sorted by time. Returns false if the zone may still be incomplete
 * (the list does not reach far enough past the anchor yet), true when done.
 */
export function forEachTriplet(
  peaks: readonly Peak[],
  a: number,
  zonePeaks: number,
  complete: boolean,
  cb: (a: number, p1: number, p2: number) => void,
): boolean {
  const A = peaks[a];
  const zone: number[] = [];
  let j = a + 1;
  for (; j < peaks.length && zone.length < zonePeaks; j++) {
    const P = peaks[j];
    const dt = P.t - A.t;
    if (dt > MAX_DT) break;
    if (dt < MIN_DT) continue;
    if (Math.abs(P.f - A.f) > MAX_DF) continue;
    zone.push(j);
  }
  if (!complete && zone.length < zonePeaks && j >= peaks.length) return false;
  for (let x = 0; x < zone.length; x++) {
    for (let y = x + 1; y < zone.length; y++) cb(a, zone[x], zone[y]);
  }
  return true;
}

/** The reference hash of a triplet (enrolment side). */
export function tripletHash(A: Peak, P1: Peak, P2: Peak): number {
  const r = (P1.t - A.t) / (P2.t - A.t);
  return pack(bandOf(A.f), diffOf(P1.f - A.f), diffOf(P2.f - A.f), ratioOf(r), dtOf(P2.t - A.t));
}

function range(lo: number, hi: number, max: number): [number, number] {
  return [Math.max(0, lo), Math.min(max - 1, hi)];
}

/**
 * Every reference hash a query triplet may correspond to, given estimation slack and a speed change
 * of up to +-maxSpeedChange. Writes into `out` and returns how many.
 */
export function queryHashes(A: Peak, P1: Peak, P2: Peak, out: number[]): number {
  out.length = 0;
  const m = HASH.maxSpeedChange;
  const slackF = HASH.freqSlackOctaves * FU;
  const d1 = P1.f - A.f;
  const d2 = P2.f - A.f;
  const [q1lo, q1hi] = range(diffOf(d1 - slackF), diffOf(d1 + slackF), N_DIFF);
  const [q2lo, q2hi] = range(diffOf(d2 - slackF), diffOf(d2 + slackF), N_DIFF);
  const r = (P1.t - A.t) / (P2.t - A.t);
  const [rlo, rhi] = range(ratioOf(r - HASH.ratioSlack), ratioOf(r + HASH.ratioSlack), N_RATIO);
  // the reference anchor was at most log2(1+m) octaves away; its triplet length at most a factor 1+-m
  const shift = Math.log2(1 + m) * FU + slackF;
  const blo = bandOf(A.f - shift);
  const bhi = bandOf(A.f + shift);
  const dt = P2.t - A.t;
  const dtlo = Math.max(0, dtOf(Math.max(MIN_DT, dt * (1 - m) - TU)));
  const dthi = Math.min(N_DT - 1, dtOf(Math.min(MAX_DT, dt * (1 + m) + TU)));
  for (let b = blo; b <= bhi; b++)
    for (let q1 = q1lo; q1 <= q1hi; q1++)
      for (let q2 = q2lo; q2 <= q2hi; q2++)
        for (let rq = rlo; rq <= rhi; rq++)
          for (let d = dtlo; d <= dthi; d++) out.push(pack(b, q1, q2, rq, d));
  return out.length;
}
