/**
 * MPEG audio layer III frames. The capture ffmpeg encodes the air-check as constant-bit-rate MP3;
 * an MP3 file is just frames one after another, so an evidence clip is a run of frames cut from the
 * rolling buffer and written out, with no re-encoding.
 */

const BITRATES_KBPS = {
  mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES = {
  mpeg1: [44100, 48000, 32000],
  mpeg2: [22050, 24000, 16000],
  mpeg25: [11025, 12000, 8000],
};

export interface Mp3FrameHeader {
  sampleRate: number;
  samplesPerFrame: number;
  bytes: number;
}

/** Reads a layer III frame header at `offset`; null if there is none. */
export function readMp3Header(buf: Uint8Array, offset: number): Mp3FrameHeader | null {
  if (offset + 4 > buf.length) return null;
  const b1 = buf[offset + 1];
  const b2 = buf[offset + 2];
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const version = (b1 >> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
  const layer = (b1 >> 1) & 3; // 1 = layer III
  if (version === 1 || layer !== 1) return null;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const padding = (b2 >> 1) & 1;
  const mpeg1 = version === 3;
  const kbps = (mpeg1 ? BITRATES_KBPS.mpeg1 : BITRATES_KBPS.mpeg2)[bitrateIndex];
  const sampleRate = (mpeg1 ? SAMPLE_RATES.mpeg1 : version === 2 ? SAMPLE_RATES.mpeg2 : SAMPLE_RATES.mpeg25)[
    rateIndex
  ];
  const samplesPerFrame = mpeg1 ? 1152 : 576;
  const bytes = Math.floor(((samplesPerFrame / 8) * kbps * 1000) / sampleRate) + padding;
  return { sampleRate, samplesPerFrame, bytes };
}

/** Where the frames of a whole MP3 file lie, and the length of one frame in seconds (0 if none). */
export function indexMp3Frames(buf: Uint8Array): {
  frames: Array<{ offset: number; bytes: number }>;
  frameSec: number;
} {
  const frames: Array<{ offset: number; bytes: number }> = [];
  let frameSec = 0;
  for (let i = 0; i + 4 <= buf.length;) {
    const h = readMp3Header(buf, i);
    if (!h) {
      i++;
      continue;
    }
    frames.push({ offset: i, bytes: h.bytes });
    frameSec = h.samplesPerFrame / h.sampleRate;
    i += h.bytes;
  }
  return { frames, frameSec };
}

/** Splits a byte stream into whole MP3 frames, resynchronising on garbage. */
export class Mp3FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes skipped while looking for a frame header. */
  skippedBytes = 0;

  push(chunk: Buffer): Array<{ frame: Buffer; header: Mp3FrameHeader }> {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Array<{ frame: Buffer; header: Mp3FrameHeader }> = [];
    let i = 0;
    while (i + 4 <= buf.length) {
      const header = readMp3Header(buf, i);
      if (!header) {
        i++;
        this.skippedBytes++;
        continue;
      }
      if (i + header.bytes > buf.length) break;
      out.push({ frame: Buffer.from(buf.subarray(i, i + header.bytes)), header });
      i += header.bytes;
    }
    this.pending = Buffer.from(buf.subarray(i));
    return out;
  }
}

/** One frame of evidence audio with the UTC of its first sample. */
export interface TimedFrame {
  utcMs: number;
  durationMs: number;
  data: Buffer;
}

/** The rolling buffer of a channel's compressed audio, bounded by duration. */
export class EvidenceRing {
  private frames: TimedFrame[] = [];
  private head = 0;

  constructor(private readonly keepMs: number) {}

  /** Adds a frame; one overlapping audio already held (a reconnect replaying buffered audio) is dropped. */
  push(frame: TimedFrame): boolean {
    const last = this.frames[this.frames.length - 1];
    if (last && frame.utcMs < last.utcMs + last.durationMs / 2) return false;
    this.frames.push(frame);
    const newest = frame.utcMs;
    while (this.head < this.frames.length && this.frames[this.head].utcMs < newest - this.keepMs) this.head++;
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  /** Frames starting after `afterMs` (exclusive) and before `untilMs` (exclusive), oldest first. */
  between(afterMs: number, untilMs: number): TimedFrame[] {
    let lo = this.head;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.frames[mid].utcMs <= afterMs) lo = mid + 1;
      else hi = mid;
    }
    const out: TimedFrame[] = [];
    for (let i = lo; i < this.frames.length && this.frames[i].utcMs < untilMs; i++) out.push(this.frames[i]);
    return out;
  }

  /**
   * Re-times the frames stamped at or after `fromMs` by `deltaMs` (a connection's anchor was
   * corrected). Frames before `fromMs` are older audio and stay; a frame moved onto them is dropped.
   */
  shift(fromMs: number, deltaMs: number): void {
    if (deltaMs === 0) return;
    let i = this.frames.length;
    while (i > this.head && this.frames[i - 1].utcMs >= fromMs) i--;
    for (let k = i; k < this.frames.length; k++) this.frames[k].utcMs += deltaMs;
    // keep the ring ordered: drop older frames the moved ones now overlap
    const first = this.frames[i];
    if (!first) return;
    let j = i;
    while (j > this.head && this.frames[j - 1].utcMs + this.frames[j - 1].durationMs / 2 > first.utcMs) j--;
    if (j < i) this.frames.splice(j, i - j);
  }

  /** UTC of the end of the newest frame, or null when empty. */
  get newestEndMs(): number | null {
    const f = this.frames[this.frames.length - 1];
    return f ? f.utcMs + f.durationMs : null;
  }

  get oldestMs(): number | null {
    return this.head < this.frames.length ? this.frames[this.head].utcMs : null;
  }

  get bytes(): number {
    let n = 0;
    for (let i = this.head; i < this.frames.length; i++) n += this.frames[i].data.length;
    return n;
  }
}
