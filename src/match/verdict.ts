import { MATCH } from '../fingerprint/index.js';
import type { RankEvidence } from './evidence.js';
import { confidenceOf } from './track.js';

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
 *   MATCH.verifyMinZ above chance count as MATCH.verifyBonusPoints more points;
 * - verification against nearby times: reference peaks ranking MATCH.nearMinZ above the same
 *   frequencies a fraction of a second away count as MATCH.nearBonusPoints more points, from any
 *   number of points (a few seconds of a bed under a voice give 6-11), if MATCH.nearMinPeaks or more
 *   (sparse) reference peaks were ranked, about a second of reference. The ranking of the dense
 *   reference peaks passes as well (at about twice the peaks it has more power) where the sparse
 *   ranking reaches MATCH.nearDenseSupportZ (docs/recognition.md).
 */
export function spectrumVerdict(points: number, confidence: number, ev: SpectrumEvidence): number {
  const { span, near, nearDense } = ev;
  if (span === undefined) return confidence;
  if (points < MATCH.vetoBelowPoints && span < MATCH.vetoMaxZ) return 0;
  if (confidence >= VERIFY_BELOW) return confidence;
  let bonus = 0;
  if (points >= MATCH.verifyMinPoints && span >= MATCH.verifyMinZ) bonus = MATCH.verifyBonusPoints;
  const denseAgreed = near && nearDense && near.z >= MATCH.nearDenseSupportZ ? nearDense.z : -Infinity;
  const nearZ = Math.max(near?.z ?? -Infinity, denseAgreed);
  if (near && near.n >= MATCH.nearMinPeaks && nearZ >= MATCH.nearMinZ)
    bonus = Math.max(bonus, MATCH.nearBonusPoints);
  return bonus ? Math.max(confidence, confidenceOf(points + bonus)) : confidence;
}
