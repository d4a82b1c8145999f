import {
  closeSync,
  ftruncateSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EvidenceRing, Mp3FrameSplitter, type TimedFrame } from './mp3.js';
import { clipsToDelete, type RetentionPolicy, type StoredClip } from './retention.js';
import type { AiredDetection, PendingDetection } from './types.js';

/** Where a detection's clip lives: DIR/CHANNEL/YYYY-MM-DD (UTC day of its start)/ID.mp3. */
export function clipPath(dir: string, det: Pick<AiredDetection, 'id' | 'channelId' | 'startMs'>): string {
  const day = new Date(det.startMs).toISOString().slice(0, 10);
  return join(dir, det.channelId, day, `${det.id}.mp3`);
}

interface ClipWriter {
  key: string;
  recordingId: string;
  startMs: number;
  fromMs: number;
  /** Frames up to this UTC belong in the clip (+Infinity while the detection is open). */
  limitMs: number;
  lastWrittenMs: number;
  firstWrittenMs: number | null;
  fd: number | null;
  /** Bytes written so far, and the UTC and file offset of each written frame (to cut the tail on finalize). */
  bytes: number;
  frames: Array<{ utcMs: number; offset: number }>;
  partPath: string;
  /** Set when the detection is final: the clip is renamed here once its end margin is in. */
  finalPath: string | null;
}

/**
 * The air-check of one channel: a rolling buffer of the MP3 frames the capture ffmpeg encodes, and one
 * clip per detection, written as the audio arrives (from a margin before the start to a margin after
 * the end) so that long airings need no long buffer. A clip is `.part` until its detection is final.
 */
export class EvidenceRecorder {
  private readonly ring: EvidenceRing;
  private splitter = new Mp3FrameSplitter();
  private writers: ClipWriter[] = [];
  private frameIndex = 0;
  private pumpedAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly dir: string,
    readonly channelId: string,
    private readonly marginMs: number,
    ringMs: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.ring = new EvidenceRing(ringMs);
  }

  /** A new connection starts: frame numbering restarts with it. */
  newConnection(): void {
    this.frameIndex = 0;
    this.splitter = new Mp3FrameSplitter();
  }

  /**
   * MP3 bytes from the capture; `utcOfSample(i)` maps a sample index of the connection (at the
   * evidence sample rate) to UTC.
   */
  onBytes(bytes: Buffer, utcOfSample: (index: number, rate: number) => number): void {
    for (const { frame, header } of this.splitter.push(bytes)) {
      const index = this.frameIndex * header.samplesPerFrame;
      this.frameIndex++;
      const tf: TimedFrame = {
        utcMs: utcOfSample(index, header.sampleRate),
        durationMs: (header.samplesPerFrame * 1000) / header.sampleRate,
        data: frame,
      };
      this.ring.push(tf);
    }
    // writing every few frames costs a system call each; once a second of audio is plenty
    const newest = this.ring.newestEndMs;
    if (newest !== null && (newest - this.pumpedAtMs >= 1000 || newest < this.pumpedAtMs)) {
      this.pumpedAtMs = newest;
      for (const w of this.writers) this.pump(w);
      this.finishReady();
    }
  }

  /**
   * The audio from `fromMs` on was re-timed by `deltaMs` (its connection's anchor was corrected): the
   * buffered frames and the clips being written move with it, so clips stay cut around their airings.
   */
  shift(fromMs: number, deltaMs: number): void {
    if (deltaMs === 0) return;
    this.ring.shift(fromMs, deltaMs);
    const move = (ms: number) => (ms >= fromMs ? ms + deltaMs : ms);
    for (const w of this.writers) {
      w.startMs = move(w.startMs);
      w.fromMs = move(w.fromMs);
      w.limitMs = move(w.limitMs);
      w.lastWrittenMs = move(w.lastWrittenMs);
      if (w.firstWrittenMs !== null) w.firstWrittenMs = move(w.firstWrittenMs);
      for (const f of w.frames) f.utcMs = move(f.utcMs);
    }
    if (this.pumpedAtMs >= fromMs) this.pumpedAtMs += deltaMs;
  }

  /** Follows the pending detections: starts clips for new ones, extends open ones, drops abandoned ones. */
  track(pending: PendingDetection[]): void {
    const used = new Set<ClipWriter>();
    for (const p of pending) {
      let w =
        this.writers.find((x) => x.key === p.id) ??
        this.writers.find((x) => !used.has(x) && sameAiring(x, p));
      if (!w) {
        w = this.open(p.id, p.recordingId, p.startMs);
      }
      if (w.key !== p.id) this.rekey(w, p);
      this.moveStart(w, p.startMs);
      w.limitMs = p.state === 'open' ? Number.POSITIVE_INFINITY : p.endMs + this.marginMs;
      used.add(w);
      this.pump(w);
    }
    for (const w of this.writers) {
      if (!used.has(w) && w.finalPath === null) this.abandon(w);
    }
    this.writers = this.writers.filter((w) => used.has(w) || w.finalPath !== null);
  }

  /** The detection is final: its clip gets the end margin and then moves to its final path. */
  finalize(det: AiredDetection): { path: string; startMs: number } | null {
    let w = this.writers.find((x) => x.key === det.id && x.finalPath === null);
    w ??= this.writers.find((x) => x.finalPath === null && sameAiring(x, det));
    if (!w) {
      // closed without ever being seen open: cut it from the buffer if the buffer still has it
      w = this.open(det.id, det.recordingId, det.startMs);
    }
    w.key = det.id;
    this.moveStart(w, det.startMs);
    w.limitMs = det.endMs + this.marginMs;
    w.finalPath = clipPath(this.dir, det);
    this.cutAfter(w, w.limitMs);
    this.pump(w);
    if (w.firstWrittenMs === null) {
      this.abandon(w);
      this.writers = this.writers.filter((x) => x !== w);
      return null;
    }
    const result = { path: w.finalPath, startMs: w.firstWrittenMs };
    this.finishReady();
    return result;
  }

  /** The audio stopped (disconnect): final clips get no more frames, so finish them now. */
  flushFinal(): void {
    for (const w of this.writers) {
      if (w.finalPath === null) continue;
      this.pump(w);
      this.finish(w);
    }
    this.writers = this.writers.filter((w) => w.finalPath === null);
  }

  /** Shutdown: finish final clips; clips of pending detections stay `.part` for the next run to resume. */
  close(): void {
    this.flushFinal();
    for (const w of this.writers) {
      this.pump(w);
      if (w.fd !== null) closeSync(w.fd);
      w.fd = null;
    }
    this.writers = [];
  }

  /** After a restart: reattach the `.part` clips of restored pending detections, to append to them. */
  resume(pending: PendingDetection[]): void {
    for (const p of pending) {
      const partPath = `${clipPath(this.dir, p)}.part`;
      if (!existsSync(partPath)) continue;
      const w = this.open(p.id, p.recordingId, p.startMs, partPath);
      w.bytes = statSync(partPath).size;
      w.limitMs = p.endMs + this.marginMs;
      w.firstWrittenMs = p.startMs - this.marginMs;
      w.lastWrittenMs = Number.NEGATIVE_INFINITY;
    }
  }

  get bufferedBytes(): number {
    return this.ring.bytes;
  }

  private open(key: string, recordingId: string, startMs: number, partPath?: string): ClipWriter {
    const w: ClipWriter = {
      key,
      recordingId,
      startMs,
      fromMs: startMs - this.marginMs,
      limitMs: Number.POSITIVE_INFINITY,
      lastWrittenMs: Number.NEGATIVE_INFINITY,
      firstWrittenMs: null,
      fd: null,
      bytes: 0,
      frames: [],
      partPath: partPath ?? `${clipPath(this.dir, { id: key, channelId: this.channelId, startMs })}.part`,
      finalPath: null,
    };
    this.writers.push(w);
    return w;
  }

  /** The detection's id changed (its start was refined): the part file follows, so a restart finds it. */
  private rekey(w: ClipWriter, p: PendingDetection): void {
    const partPath = `${clipPath(this.dir, p)}.part`;
    try {
      if (existsSync(w.partPath)) {
        mkdirSync(dirname(partPath), { recursive: true });
        renameSync(w.partPath, partPath);
      }
      w.partPath = partPath;
    } catch (err) {
      this.onError(err as Error);
    }
    w.key = p.id;
  }

  private pump(w: ClipWriter): void {
    const after = Math.max(w.lastWrittenMs, w.fromMs - 1e-6);
    const frames = this.ring.between(after, w.limitMs);
    if (frames.length === 0) return;
    try {
      if (w.fd === null) {
        mkdirSync(dirname(w.partPath), { recursive: true });
        w.fd = openSync(w.partPath, 'a');
      }
      writeSync(w.fd, Buffer.concat(frames.map((f) => f.data)));
      for (const f of frames) {
        w.frames.push({ utcMs: f.utcMs, offset: w.bytes });
        w.bytes += f.data.length;
      }
    } catch (err) {
      this.onError(err as Error);
      return;
    }
    w.firstWrittenMs ??= frames[0].utcMs;
    w.lastWrittenMs = frames[frames.length - 1].utcMs;
  }

  /**
   * The matcher moved the start earlier than the clip began: while the buffer still holds the audio,
   * the clip is rewritten from the new start minus the margin (clips are small; this is rare).
   */
  private moveStart(w: ClipWriter, startMs: number): void {
    if (startMs >= w.startMs - 250) return;
    w.startMs = startMs;
    w.fromMs = startMs - this.marginMs;
    const oldest = this.ring.oldestMs;
    if (oldest === null || oldest > w.fromMs + 100 || w.fd === null || w.firstWrittenMs === null) return;
    if (w.firstWrittenMs <= w.fromMs + 100) return;
    try {
      ftruncateSync(w.fd, 0);
      w.bytes = 0;
      w.frames = [];
      w.firstWrittenMs = null;
      w.lastWrittenMs = Number.NEGATIVE_INFINITY;
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** While open, a clip follows the live audio; once the end is known, what came after end + margin goes. */
  private cutAfter(w: ClipWriter, limitMs: number): void {
    const i = w.frames.findIndex((f) => f.utcMs >= limitMs);
    if (i < 0 || w.fd === null) return;
    try {
      ftruncateSync(w.fd, w.frames[i].offset);
      w.bytes = w.frames[i].offset;
      w.frames.length = i;
      w.lastWrittenMs = i > 0 ? w.frames[i - 1].utcMs : Number.NEGATIVE_INFINITY;
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** Final clips whose end margin has arrived are renamed into place. */
  private finishReady(): void {
    const newest = this.ring.newestEndMs;
    if (newest === null) return;
    const done = this.writers.filter((w) => w.finalPath !== null && newest >= w.limitMs);
    for (const w of done) this.finish(w);
    if (done.length > 0) this.writers = this.writers.filter((w) => !done.includes(w));
  }

  private finish(w: ClipWriter): void {
    try {
      if (w.fd !== null) closeSync(w.fd);
      w.fd = null;
      if (existsSync(w.partPath)) {
        mkdirSync(dirname(w.finalPath!), { recursive: true });
        renameSync(w.partPath, w.finalPath!);
      }
    } catch (err) {
      this.onError(err as Error);
    }
  }

  private abandon(w: ClipWriter): void {
    try {
      if (w.fd !== null) closeSync(w.fd);
      w.fd = null;
      if (existsSync(w.partPath)) unlinkSync(w.partPath);
    } catch (err) {
      this.onError(err as Error);
    }
  }
}

function sameAiring(w: ClipWriter, d: Pick<AiredDetection, 'recordingId' | 'startMs'>): boolean {
  return w.recordingId === d.recordingId && Math.abs(w.startMs - d.startMs) < 30_000;
}

/** Every finished clip under the evidence folder. */
export function listClips(dir: string): StoredClip[] {
  const out: StoredClip[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.mp3')) out.push({ path: p, sizeBytes: st.size, writtenAtMs: st.mtimeMs });
    }
  };
  walk(dir);
  return out;
}

/**
 * Applies the retention policy to the evidence folder; returns the deleted paths. `keep`: clips that
 * must stay whatever their age and size (those of disputed detections), compared as absolute paths.
 */
export function applyRetention(
  dir: string,
  policy: RetentionPolicy,
  nowMs: number,
  keep: Iterable<string> = [],
): string[] {
  const kept = new Set([...keep].map((p) => resolve(p)));
  const doomed = clipsToDelete(listClips(dir), policy, nowMs, (p) => kept.has(resolve(p)));
  const deleted: string[] = [];
  for (const p of doomed) {
    try {
      unlinkSync(p);
      deleted.push(p);
    } catch {
      // already gone: nothing to do
    }
  }
  return deleted;
}
