import { decodeAudio } from '../audio/index.js';
import { ANALYSIS_SAMPLE_RATE, QUANT, FRAMES_PER_SEC, type Peak } from '../fingerprint/index.js';
import { StreamMatcher, type HasLookup, type MatcherOptions } from './matcher.js';
import type { Detection } from './types.js';

export { StreamMatcher, frameToSec, type HasLookup, type MatcherOptions } from './matcher.js';
export { confidenceOf } from './track.js';
export type { Detection } from './types.js';

export interface MatchFileOptions extends MatcherOptions {
  /** Called with seconds decoded so far. */
  onProgress?: (decodedSec: number) => void;
  onWarning?: (message: string) => void;
  signal?: AbortSignal;
}

/** Matches a whole file, streamed through the decoder: memory stays flat whatever its length. */
export async function matchFile(
  index: HasLookup,
  path: string,
  opts: MatchFileOptions = {},
): Promise<Detection[]> {
  const m = new StreamMatcher(index, opts);
  const out: Detection[] = [];
  let samples = 0;
  for await (const chunk of decodeAudio(path, {
    sampleRate: ANALYSIS_SAMPLE_RATE,
    onWarning: opts.onWarning,
    signal: opts.signal,
  })) {
    for (const d of m.push(chunk)) out.push(d);
    samples += chunk.length;
    opts.onProgress?.(samples / ANALYSIS_SAMPLE_RATE);
  }
  for (const d of m.flush()) out.push(d);
  return sortDetections(out);
}

/** Matches PCM held in memory (mono, ANALYSIS_SAMPLE_RATE). */
export function matchPcm(index: HasLookup, pcm: Float32Array, opts: MatcherOptions = {}): Detection[] {
  const m = new StreamMatcher(index, opts);
  return sortDetections([...m.push(pcm), ...m.flush()]);
}

/** Matches query-density peaks computed beforehand (extractPeaks(pcm, 'query')). */
export function matchPeaks(index: HasLookup, peaks: Peak[], opts: MatcherOptions = {}): Detection[] {
  const m = new StreamMatcher(index, opts);
  const until = peaks.length ? peaks[peaks.length - 1].t + QUANT.timeUnitsPerFrame * FRAMES_PER_SEC : 0;
  return sortDetections([...m.pushPeaks(peaks, until), ...m.flush()]);
}

export function sortDetections(ds: Detection[]): Detection[] {
  return ds.sort((a, b) => a.start - b.start || a.recording.localeCompare(b.recording));
}
