import { MATCH } from '../fingerprint/index.js';
import type { RankEvidence } from './evidence.js';
import { MIN_POINTS, confidenceOf } from './track.js';

/** Tracks already this confident are not verified (it could not change their fate). */
const VERIFY_BELOW = 0.9;

/** Whether the spectrum check can change the confidence of a track of `points` inlier points. */
export function spectrumMatters(points: number, confidence: number): boolean {
  return points < MATCH.vetoBelowPoints || confidence < VERIFY_BELOW;
}

/**
 * What the query spectrum says about a track: rankEvidence's z over the span of its matched points
 * (undefined where too little was ranked), against places off the alignment in time and frequency
 * (`span`) and against the same frequencies at nearby times only (`near`, NEAR_SHIFTS).
 */
export interface SpectrumEvidence {
  span: number | undefined;
  near?: RankEvidence | undefined;
  /** The same ranking of the dense reference peaks (where the index holds them). */
  nearDense?: RankEvidence | undefined;
  /**
   * The two rankings against nearby times cover the airing's edges (found in the spectrum) beyond
   * the matched points: they then need MATCH.nearMinPeaksAiring peaks, not MATCH.nearMinPeaks.
   */
  airing?: boolean;
}

/**
 * Whether ranking the dense reference peaks could change spectrumVerdict's answer, given the sparse
 * ranking against nearby times: only where that is supported but short of MATCH.nearMinZ (so the
 * matcher reads dense peaks for a few tracks, not for every chance track that closes).
 */
export function denseMatters(near: RankEvidence | undefined): boolean {
  return (
    near !== undefined &&
    near.n >= MATCH.nearMinPeaks &&
    near.z >= MATCH.nearDenseSupportZ &&
    near.z < MATCH.nearMinZ
  );
}

/**
 * A track's confidence after the query spectrum was checked along its alignment (rankEvidence's z;
 * undefined when there was too little of it to judge, which changes nothing):
 * - veto: fewer than MATCH.vetoBelowPoints points whose reference peaks do not stand out in the query
 *   (z below MATCH.vetoMaxZ) are a coincidence of the hashes — a pulse of repeated notes at another
 *   tempo, a re-arranged melody — however many they are: confidence 0;
 * - verification: a short airing (a jingle, a few seconds of a bed under speech) has too few points
 *   to be believed on their count alone; from MATCH.verifyMinPoints points, reference peaks ranking
 *   MATCH.verifyMinZ above chance count as MATCH.verifyBonusPoints more points, unless they rank
 *   below MATCH.verifyNearMinZ against nearby times (same-key music lifts the former, not the latter);
 * - verification against nearby times: reference peaks ranking MATCH.nearMinZ above the same
 *   frequencies a fraction of a second away count as MATCH.nearBonusPoints more points, from any
 *   number of points (a few seconds of a bed under a voice give 6-11), if MATCH.nearMinPeaks or more
 *   (sparse) reference peaks were ranked, about a second of reference. The ranking of the dense
 *   reference peaks passes as well (at about twice the peaks it has more power) where the sparse
 *   ranking reaches MATCH.nearDenseSupportZ (docs/recognition.md). Over the airing's edges beyond the
 *   matched points (`airing`), and for a track of fewer than MIN_POINTS points (no confidence of its
 *   own), it needs MATCH.nearMinPeaksAiring peaks; such a track then counts as a verified track of
 *   MIN_POINTS points.
 */
export function spectrumVerdict(points: number, confidence: number, ev: SpectrumEvidence): number {
  const { span, near, nearDense, airing } = ev;
  if (span === undefined) return confidence;
  if (points < MATCH.vetoBelowPoints && span < MATCH.vetoMaxZ) return 0;
  if (confidence >= VERIFY_BELOW) return confidence;
  let bonus = 0;
  const nearAgrees = !near || near.z >= MATCH.verifyNearMinZ;
  if (points >= MATCH.verifyMinPoints && span >= MATCH.verifyMinZ && nearAgrees)
    bonus = MATCH.verifyBonusPoints;
  const denseAgreed = near && nearDense && near.z >= MATCH.nearDenseSupportZ ? nearDense.z : -Infinity;
  const nearZ = Math.max(near?.z ?? -Infinity, denseAgreed);
  const minPeaks = airing || points < MIN_POINTS ? MATCH.nearMinPeaksAiring : MATCH.nearMinPeaks;
  if (near && near.n >= minPeaks && nearZ >= MATCH.nearMinZ) bonus = Math.max(bonus, MATCH.nearBonusPoints);
  // a verified track counts as at least the smallest track believed on its points alone
  return bonus ? Math.max(confidence, confidenceOf(Math.max(points, MIN_POINTS) + bonus)) : confidence;
}
