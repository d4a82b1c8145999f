/**
 * A matcher worker's job, without the queue: one batch (plus its context) through a fresh
 * StreamMatcher. Stateless, so any worker can take any batch, a retried batch gives the same answer,
 * and no worker holds a channel's state. Pure: no I/O.
 */
import { MATCH, QUANT, type Peak } from '../fingerprint/index.js';
import { StreamMatcher, type Detection, type HasLookup, type MatcherOptions } from '../match/index.js';
import { UNITS_PER_SEC, type SkipMark } from './batch.js';

/** The matcher evaluates windows every half window (time units). */
const WINDOW_HOP_UNITS = (MATCH.windowFrames * QUANT.timeUnitsPerFrame) / 2;

/** A piece of an airing seen by one batch, in UTC; the centre stitches fragments into detections. */
export interface Fragment {
  recordingId: string;
  startMs: number;
  endMs: number;
  refStartSec: number;
  refEndSec: number;
  speed: number;
  confidence: number;
}

export interface BatchAudio {
  /** UTC of matcher time 0 of the batch's session. */
  epochMs: number;
  /** Context and own peaks, sorted by time (session matcher units). */
  peaks: Peak[];
  /** Discontinuities inside the span, in time order. */
  skips: SkipMark[];
  /** End of the batch (units): how far the audio behind the peaks reaches. */
  toUnits: number;
}

/**
 * Matches a batch's peaks the way StreamMatcher matches a stream with the same skips (each skip ends
 * a segment), then closes everything: the airings it saw, clipped to what the batch covers.
 */
export function matchBatch(index: HasLookup, audio: BatchAudio, opts: MatcherOptions = {}): Fragment[] {
  if (audio.peaks.length === 0) return [];
  // A session runs for weeks: move the batch next to time 0 so the matcher does not step through all
  // of it, by whole window hops so that windows fall where they would in one long run.
  const first = Math.min(audio.peaks[0].t, audio.skips[0]?.atUnits ?? Infinity);
  const shift = Math.max(0, Math.floor(first / WINDOW_HOP_UNITS) - 1) * WINDOW_HOP_UNITS;
  const peaks = shift === 0 ? audio.peaks : audio.peaks.map((p) => ({ t: p.t - shift, f: p.f }));
  const m = new StreamMatcher(index, opts);
  const found: Detection[] = [];
  let i = 0;
  for (const s of audio.skips) {
    const at = s.atUnits - shift;
    const j = lowerBound(peaks, at, i);
    if (j > i || at > 0) {
      found.push(...m.pushPeaks(peaks.slice(i, j), at));
      found.push(...m.skip(0));
    }
    i = j;
  }
  found.push(...m.pushPeaks(peaks.slice(i), Math.max(0, audio.toUnits - shift)));
  found.push(...m.flush());
  const epochMs = audio.epochMs + (shift / UNITS_PER_SEC) * 1000;
  return found
    .map((d) => ({
      recordingId: d.recording,
      startMs: Math.round(epochMs + d.start * 1000),
      endMs: Math.round(epochMs + d.end * 1000),
      refStartSec: d.refStart,
      refEndSec: d.refEnd,
      speed: d.speed,
      confidence: d.confidence,
    }))
    .sort((a, b) => a.startMs - b.startMs || a.recordingId.localeCompare(b.recordingId));
}

/** First index >= from whose peak time is >= t. */
function lowerBound(peaks: Peak[], t: number, from: number): number {
  let lo = from;
  let hi = peaks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (peaks[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
