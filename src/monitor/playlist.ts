/**
 * HLS playlists (RFC 8216) as far as the monitor needs them: a media playlist's segments with their
 * durations and `#EXT-X-PROGRAM-DATE-TIME` (PDT), and a master playlist's first variant. Pure: text
 * in, data out. See docs/monitoring.md, "Clock".
 */

export interface MediaSegment {
  /** Media sequence number. */
  sequence: number;
  /** Absolute URL. */
  url: string;
  /** EXTINF, seconds. */
  durationSec: number;
  /**
   * UTC ms of the segment's first sample: its own PDT tag, or the previous segment's PDT plus that
   * segment's duration (RFC 8216 4.3.2.6); null when neither is known (no PDT yet, or after a
   * discontinuity without a new PDT).
   */
  programDateTimeMs: number | null;
  /** An `#EXT-X-DISCONTINUITY` precedes it: its timestamps (and perhaps its encoding) start afresh. */
  discontinuity: boolean;
  /** The segment's `#EXT-X-MAP` (fMP4 initialisation section) URL, if any. */
  mapUrl: string | null;
}

export interface MediaPlaylist {
  kind: 'media';
  targetDurationSec: number;
  segments: MediaSegment[];
  /** `#EXT-X-ENDLIST`: no segments will be added. */
  ended: boolean;
  /**
   * What the monitor cannot fetch itself (encrypted segments, byte ranges, gap segments); such
   * playlists are left to ffmpeg's own HLS demuxer. Null when there is nothing of the sort.
   */
  unsupported: string | null;
}

export interface MasterPlaylist {
  kind: 'master';
  /** The URL of the media playlist to follow: the first variant (or its audio rendition). */
  mediaUrl: string;
}

/** Reads a playlist; throws on text that is not one. */
export function parsePlaylist(text: string, baseUrl: string): MediaPlaylist | MasterPlaylist {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist (no #EXTM3U)');
  if (lines.some((l) => l.startsWith('#EXT-X-STREAM-INF'))) return parseMaster(lines, baseUrl);

  const segments: MediaSegment[] = [];
  let targetDurationSec = 0;
  let sequence = 0;
  let ended = false;
  let unsupported: string | null = null;
  let duration: number | null = null;
  let pdt: number | null = null;
  let discontinuity = false;
  let mapUrl: string | null = null;
  let nextPdt: number | null = null;
  for (const line of lines) {
    if (!line.startsWith('#')) {
      if (duration === null) throw new Error(`segment ${line} has no #EXTINF`);
      const own: number | null = pdt ?? (discontinuity ? null : nextPdt);
      segments.push({
        sequence: sequence++,
        url: new URL(line, baseUrl).href,
        durationSec: duration,
        programDateTimeMs: own,
        discontinuity,
        mapUrl,
      });
      nextPdt = own === null ? null : own + duration * 1000;
      duration = null;
      pdt = null;
      discontinuity = false;
      continue;
    }
    const [tag, value = ''] = splitTag(line);
    switch (tag) {
      case '#EXT-X-TARGETDURATION':
        targetDurationSec = Number(value);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        sequence = Number(value);
        if (!Number.isInteger(sequence) || sequence < 0)
          throw new Error(`bad #EXT-X-MEDIA-SEQUENCE ${value}`);
        break;
      case '#EXTINF': {
        duration = Number(value.split(',')[0]);
        if (!(duration >= 0)) throw new Error(`bad #EXTINF ${value}`);
        break;
      }
      case '#EXT-X-PROGRAM-DATE-TIME':
        pdt = parseDateTime(value);
        break;
      case '#EXT-X-DISCONTINUITY':
        discontinuity = true;
        break;
      case '#EXT-X-ENDLIST':
        ended = true;
        break;
      case '#EXT-X-MAP': {
        const uri = attributes(value).URI;
        if (uri === undefined) throw new Error('#EXT-X-MAP without URI');
        if (attributes(value).BYTERANGE !== undefined) unsupported ??= 'byte-range initialisation section';
        mapUrl = new URL(uri, baseUrl).href;
        break;
      }
      case '#EXT-X-KEY': {
        const method = attributes(value).METHOD ?? 'NONE';
        if (method !== 'NONE') unsupported ??= `encrypted segments (${method})`;
        break;
      }
      case '#EXT-X-BYTERANGE':
        unsupported ??= 'byte-range segments';
        break;
      case '#EXT-X-GAP':
        unsupported ??= 'gap segments';
        break;
    }
  }
  return { kind: 'media', targetDurationSec, segments, ended, unsupported };
}

function parseMaster(lines: string[], baseUrl: string): MasterPlaylist {
  const audio = new Map<string, string>();
  for (const line of lines) {
    if (!line.startsWith('#EXT-X-MEDIA:')) continue;
    const a = attributes(splitTag(line)[1] ?? '');
    if (a.TYPE !== 'AUDIO' || a.URI === undefined || a['GROUP-ID'] === undefined) continue;
    // the group's default rendition, else its first
    if (!audio.has(a['GROUP-ID']) || a.DEFAULT === 'YES') audio.set(a['GROUP-ID'], a.URI);
  }
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF')) continue;
    const uri = lines.slice(i + 1).find((l) => !l.startsWith('#'));
    if (uri === undefined) break;
    // ffmpeg's `-map 0:a:0` takes the first variant's audio: the same stream is followed here
    const group = attributes(splitTag(lines[i])[1] ?? '').AUDIO;
    const rendition = group === undefined ? undefined : audio.get(group);
    return { kind: 'master', mediaUrl: new URL(rendition ?? uri, baseUrl).href };
  }
  throw new Error('a master playlist without variants');
}

function splitTag(line: string): [string, string | undefined] {
  const colon = line.indexOf(':');
  return colon < 0 ? [line, undefined] : [line.slice(0, colon), line.slice(colon + 1)];
}

/** An attribute list: KEY=VALUE,KEY="quoted, value". */
export function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const v = m[2];
    out[m[1]] = v.startsWith('"') ? v.slice(1, -1) : v;
  }
  return out;
}

/**
 * An ISO 8601 date-time as PDT writes it (`2026-11-29T07:48:31.123Z`, `+05:00`, `+0500`; fractions
 * finer than a millisecond kept), to UTC ms.
 */
export function parseDateTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
    text.trim(),
  );
  if (!m) throw new Error(`bad #EXT-X-PROGRAM-DATE-TIME ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + (frac ? Number(frac) * 1000 : 0);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
    ms -= sign * offsetMin * 60_000;
  }
  if (!Number.isFinite(ms)) throw new Error(`bad #EXT-X-PROGRAM-DATE-TIME ${JSON.stringify(text)}`);
  return ms;
}

/** Where the monitor is in a run of contiguous segments fed to one decoder. */
export interface RunPosition {
  /** Sequence number of the last segment fed. */
  lastSequence: number;
  /** The run's first sample is anchored to its first segment's PDT (else: by arrival). */
  anchored: boolean;
  /** The PDT the next segment should carry: the last one's PDT plus its duration; null if unknown. */
  nextPdtMs: number | null;
}

/** A run that begins with `seg`. */
export function runFrom(seg: MediaSegment, timeScale = 1): RunPosition {
  return advanceRun(
    { lastSequence: seg.sequence - 1, anchored: seg.programDateTimeMs !== null, nextPdtMs: null },
    seg,
    timeScale,
  );
}

/**
 * The run once `seg` has been fed to it. `timeScale`: milliseconds of PDT per playlist millisecond
 * (1, except in tests that serve a playlist faster than real time).
 */
export function advanceRun(run: RunPosition, seg: MediaSegment, timeScale = 1): RunPosition {
  const pdt = seg.programDateTimeMs;
  return {
    lastSequence: seg.sequence,
    anchored: run.anchored,
    nextPdtMs: pdt === null ? null : pdt + seg.durationSec * 1000 * timeScale,
  };
}

/**
 * Whether `seg` continues the run (its audio follows the run's without a break in time) or must
 * begin a new one, anchored afresh: after an `#EXT-X-DISCONTINUITY`, after segments that were never
 * fed (a sequence gap), when its PDT differs by more than `toleranceMs` from the previous segment's
 * PDT plus that segment's duration (the packager's clock jumped), or when PDT appears in a run that
 * began without it. Within a run, time comes from sample counts, as everywhere in the monitor.
 */
export function continuesRun(
  run: RunPosition,
  seg: MediaSegment,
  toleranceMs: number,
): { continues: true } | { continues: false; why: string } {
  if (seg.discontinuity) return { continues: false, why: 'discontinuity tag' };
  if (seg.sequence !== run.lastSequence + 1) {
    return { continues: false, why: `segments ${run.lastSequence + 1}..${seg.sequence - 1} missed` };
  }
  const pdt = seg.programDateTimeMs;
  if (!run.anchored) {
    return pdt === null ? { continues: true } : { continues: false, why: 'program date-time appears' };
  }
  if (pdt === null || run.nextPdtMs === null) return { continues: true };
  const offMs = pdt - run.nextPdtMs;
  if (Math.abs(offMs) > toleranceMs) {
    return { continues: false, why: `program date-time jumps by ${Math.round(offMs)} ms` };
  }
  return { continues: true };
}
