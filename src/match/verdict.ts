import { MATCH } from '../fingerprint/index.js';
import { confidenceOf } from './track.js';

/** Tracks already this confident are not verified (it could not change their fate). */
const VERIFY_BELOW = 0.9;

/** Whether the spectrum check can change the confidence of a track of `points` inlier points. */
export function spectrumMatters(points: number, confidence: number): boolean {
  return points < MATCH.vetoBelowPoints || (confidence < VERIFY_BELOW && points >= MATCH.verifyMinPoints);
}

/**
 * A track's confidence after the query spectrum was checked along its alignment (rankEvidence's z;
 * undefined when there was too little of it to judge, which changes nothing):
 * - veto: fewer than MATCH.vetoBelowPoints points whose reference peaks do not stand out in the query
 *   (z below MATCH.vetoMaxZ) are a coincidence of the hashes — a pulse of repeated notes at another
 *   tempo, a re-arranged melody — however many they are: confidence 0;
 * - verification: a short airing (a jingle, a few seconds of a bed under speech) has too few points
 *   to be believed on their count alone; from MATCH.verifyMinPoints points, reference peaks ranking
 *   MATCH.verifyMinZ above chance count as MATCH.verifyBonusPoints more points.
 */
export function spectrumVerdict(points: number, confidence: number, z: number | undefined): number {
  if (z === undefined) return confidence;
  if (points < MATCH.vetoBelowPoints && z < MATCH.vetoMaxZ) return 0;
  if (confidence < VERIFY_BELOW && points >= MATCH.verifyMinPoints && z >= MATCH.verifyMinZ)
    return Math.max(confidence, confidenceOf(points + MATCH.verifyBonusPoints));
  return confidence;
}
