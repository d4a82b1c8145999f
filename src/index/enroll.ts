import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { decodeAudio, SoundSpanMeter, type SoundSpan } from '../audio/index.js';
import { ANALYSIS_SAMPLE_RATE, EnrolmentExtractor, SOUND_SPAN, type Peak } from '../fingerprint/index.js';
import { StreamMatcher } from '../match/matcher.js';
import type { ReferenceIndex } from './reference-index.js';
import type { RecordingMeta } from './store.js';

export interface EnrollOptions {
  /** Replace a recording already enrolled under the same id. */
  replace?: boolean;
  /** Enrol even when the audio duplicates an enrolled recording. */
  allowDuplicate?: boolean;
  /** Called with seconds decoded so far. */
  onProgress?: (decodedSec: number) => void;
  onWarning?: (message: string) => void;
}

export interface EnrollResult {
  id: string;
  /** enrolled, replaced (same id re-enrolled), or duplicate (not added: the audio is already enrolled). */
  status: 'enrolled' | 'replaced' | 'duplicate';
  durationSec: number;
  peaks: number;
  /** When the audio is (near-)identical to an enrolled recording: its id. */
  duplicateOf?: string;
  warnings: string[];
}

/** Share of the new recording that an enrolled one must cover, with full confidence, to call it a duplicate. */
const DUPLICATE_COVER = 0.6;

/** The id a file gets without metadata: its name without the extension. */
export function idFromPath(path: string): string {
  return basename(path, extname(path));
}

/**
 * Reference peaks of an audio file, streamed (memory stays flat), with a hash of the decoded audio and
 * the span where it is audible.
 */
export async function fingerprintFile(
  path: string,
  opts: Pick<EnrollOptions, 'onProgress' | 'onWarning'> = {},
): Promise<{
  peaks: Peak[];
  densePeaks: Peak[];
  durationSec: number;
  sound: SoundSpan | null;
  contentHash: string;
  warnings: string[];
}> {
  const warnings: string[] = [];
  const ex = new EnrolmentExtractor();
  const meter = new SoundSpanMeter(ANALYSIS_SAMPLE_RATE, SOUND_SPAN);
  const hash = createHash('sha256');
  let samples = 0;
  for await (const chunk of decodeAudio(path, {
    sampleRate: ANALYSIS_SAMPLE_RATE,
    onWarning: (w) => {
      warnings.push(w);
      opts.onWarning?.(w);
    },
  })) {
    hash.update(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    ex.push(chunk);
    meter.push(chunk);
    samples += chunk.length;
    opts.onProgress?.(samples / ANALYSIS_SAMPLE_RATE);
  }
  const { peaks, densePeaks } = ex.flush();
  const durationSec = samples / ANALYSIS_SAMPLE_RATE;
  if (samples === 0) throw new Error(`${path}: no audio could be decoded (empty file?)`);
  if (peaks.length === 0)
    throw new Error(`${path}: no audible content (${durationSec.toFixed(1)} s of silence)`);
  return { peaks, densePeaks, durationSec, sound: meter.result(), contentHash: hash.digest('hex'), warnings };
}

/** The enrolled recording this audio duplicates, if any (its reference peaks matched against the index). */
export function findDuplicate(index: ReferenceIndex, peaks: Peak[], durationSec: number): string | undefined {
  const m = new StreamMatcher(index, { minConfidence: 0.95 });
  const last = peaks.length ? peaks[peaks.length - 1].t + 1 : 0;
  const dets = [...m.pushPeaks(peaks, last), ...m.flush()];
  const cover = new Map<string, number>();
  for (const d of dets) cover.set(d.recording, (cover.get(d.recording) ?? 0) + (d.end - d.start));
  let best: string | undefined;
  let bestCover = 0;
  for (const [id, sec] of cover) {
    if (sec > bestCover) {
      best = id;
      bestCover = sec;
    }
  }
  return best && bestCover >= DUPLICATE_COVER * durationSec ? best : undefined;
}

/** Enrols one audio file: fingerprints it, checks for duplicates, stores it. */
export async function enrollFile(
  index: ReferenceIndex,
  path: string,
  meta: Partial<RecordingMeta> = {},
  opts: EnrollOptions = {},
): Promise<EnrollResult> {
  const id = meta.id || idFromPath(path);
  const existing = index.get(id);
  if (existing && !opts.replace) {
    throw new Error(
      `recording "${id}" is already enrolled (from ${existing.sourcePath ?? 'unknown'}); use --replace to re-enrol it`,
    );
  }
  const fp = await fingerprintFile(path, opts);
  if (!opts.allowDuplicate) {
    const same = index.findByContent(fp.contentHash);
    const dup = same && same.id !== id ? same.id : findDuplicateExcept(index, fp.peaks, fp.durationSec, id);
    if (dup) {
      return {
        id,
        status: 'duplicate',
        durationSec: fp.durationSec,
        peaks: fp.peaks.length,
        duplicateOf: dup,
        warnings: fp.warnings,
      };
    }
  }
  if (existing) index.remove(id);
  index.add(
    { ...meta, id, sourcePath: meta.sourcePath ?? path },
    fp.durationSec,
    fp.peaks,
    fp.contentHash,
    fp.densePeaks,
    fp.sound,
  );
  return {
    id,
    status: existing ? 'replaced' : 'enrolled',
    durationSec: fp.durationSec,
    peaks: fp.peaks.length,
    warnings: fp.warnings,
  };
}

function findDuplicateExcept(
  index: ReferenceIndex,
  peaks: Peak[],
  durationSec: number,
  id: string,
): string | undefined {
  const dup = findDuplicate(index, peaks, durationSec);
  return dup === id ? undefined : dup;
}
