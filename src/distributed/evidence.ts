/**
 * Air-check evidence in distributed mode. The audio stays at the capture node: the centre tells the
 * node which airings it found (open and final), the node's own runner cuts the clips from its local
 * evidence ring exactly as in embedded mode, and each finished clip is uploaded with its detection.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Detection } from '../match/index.js';
import { clipPath, type AiredDetection, type PendingDetection } from '../monitor/index.js';
import type { CentreFeedback } from './batcher.js';

/** What the centre publishes per channel after each applied batch. */
export interface AiringsMessage {
  /** Airings still open or held at the centre. */
  pending: PendingDetection[];
  /** Detections final in the last few minutes. */
  finals: AiredDetection[];
}

/** A clip as uploaded to the centre. */
export interface EvidenceUpload {
  v: number;
  channelId: string;
  nodeId: string;
  recordingId: string;
  /** The detection as the node's runner stored it (the centre finds its own by recording and start). */
  startMs: number;
  endMs: number;
  /** UTC of the clip's first sample. */
  clipStartMs: number;
  /** The MP3 clip, base64. */
  mp3: string;
}

/** Clips larger than this are not uploaded (an hour of 32 kbit/s MP3 is 14 MB). */
export const MAX_CLIP_BYTES = 32 * 1024 * 1024;

/**
 * The node's view of the centre's airings, in the session's matcher seconds: what the PeakBatcher
 * hands its ChannelRunner as "closed" and "open" detections, so the runner's stitcher and evidence
 * recorder work exactly as with a local matcher.
 */
export class AiringsFeed implements CentreFeedback {
  private closed: Detection[] = [];
  private openNow: Detection[] = [];
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];

  constructor(private readonly epochMs: () => number | null) {}

  update(msg: AiringsMessage): void {
    const epoch = this.epochMs();
    if (epoch === null) return;
    const toDet = (a: AiredDetection): Detection => ({
      recording: a.recordingId,
      start: (a.startMs - epoch) / 1000,
      end: (a.endMs - epoch) / 1000,
      refStart: a.refStartSec,
      refEnd: a.refEndSec,
      speed: a.speed,
      confidence: a.confidence,
    });
    // airings that began before this session (a previous run's) are not this runner's to cut
    this.openNow = msg.pending.filter((p) => p.state === 'open' && p.startMs >= epoch).map(toDet);
    for (const f of msg.finals) {
      if (this.seen.has(f.id) || f.startMs < epoch) continue;
      this.seen.add(f.id);
      this.seenOrder.push(f.id);
      if (this.seenOrder.length > 500) this.seen.delete(this.seenOrder.shift()!);
      this.closed.push(toDet(f));
    }
  }

  takeClosed(): Detection[] {
    const out = this.closed;
    this.closed = [];
    return out;
  }

  open(): Detection[] {
    return this.openNow;
  }
}

interface PendingClip {
  upload: Omit<EvidenceUpload, 'mp3'>;
  path: string;
  sinceMs: number;
}

/**
 * Uploads each finished clip with its detection. A clip is finished when the runner has renamed it
 * from `.part` (its end margin arrived); until the link takes it, it waits here (and on disk).
 */
export class EvidenceUploader {
  private queue: PendingClip[] = [];
  private busy = false;

  constructor(
    private readonly send: (u: EvidenceUpload) => Promise<void>,
    private readonly onError: (message: string) => void = () => {},
    private readonly giveUpAfterMs = 10 * 60_000,
  ) {}

  add(det: AiredDetection, nodeId: string, evidence: { path: string; startMs: number }): void {
    this.queue.push({
      upload: {
        v: 1,
        channelId: det.channelId,
        nodeId,
        recordingId: det.recordingId,
        startMs: Math.round(det.startMs),
        endMs: Math.round(det.endMs),
        clipStartMs: Math.round(evidence.startMs),
      },
      path: evidence.path,
      sinceMs: Date.now(),
    });
    if (this.queue.length > 1000)
      this.onError('evidence upload queue is full: the oldest clip stays local only');
    while (this.queue.length > 1000) this.queue.shift();
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Paths of the clips not uploaded yet (retention must not delete them). */
  waitingPaths(): string[] {
    return this.queue.map((c) => c.path);
  }

  /** Sends the clips that are ready; keeps the rest (and those the link refused) for the next tick. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const batch = this.queue;
    this.queue = [];
    const keep: PendingClip[] = [];
    try {
      for (const c of batch) {
        if (!existsSync(c.path)) {
          if (Date.now() - c.sinceMs > this.giveUpAfterMs)
            this.onError(`clip ${c.path} never finished; not uploaded`);
          else keep.push(c);
          continue;
        }
        const bytes = readFileSync(c.path);
        if (bytes.length > MAX_CLIP_BYTES) {
          this.onError(`clip ${c.path} is ${bytes.length} bytes; kept local only`);
          continue;
        }
        try {
          await this.send({ ...c.upload, mp3: bytes.toString('base64') });
        } catch {
          keep.push(c);
        }
      }
    } finally {
      // clips added while this ran come after the ones kept
      this.queue = keep.concat(this.queue);
      this.busy = false;
    }
  }
}

/** Checks an uploaded clip; throws naming the problem. */
export function validateUpload(data: unknown): EvidenceUpload {
  const o = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const need = (k: string, ok: boolean) => {
    if (!ok) throw new Error(`evidence upload: ${k} is missing or invalid`);
  };
  need('channelId', typeof o.channelId === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(o.channelId));
  need(
    'recordingId',
    typeof o.recordingId === 'string' && o.recordingId.length > 0 && o.recordingId.length < 200,
  );
  for (const k of ['startMs', 'endMs', 'clipStartMs'])
    need(k, typeof o[k] === 'number' && Number.isSafeInteger(o[k]));
  need('mp3', typeof o.mp3 === 'string' && o.mp3.length > 0 && o.mp3.length < (MAX_CLIP_BYTES * 4) / 3 + 4);
  return {
    v: 1,
    channelId: o.channelId as string,
    nodeId: typeof o.nodeId === 'string' ? o.nodeId.slice(0, 80) : 'unknown',
    recordingId: o.recordingId as string,
    startMs: o.startMs as number,
    endMs: o.endMs as number,
    clipStartMs: o.clipStartMs as number,
    mp3: o.mp3 as string,
  };
}

/** Writes an uploaded clip where the embedded monitor would have (DIR/CHANNEL/DAY/ID.mp3). */
export function storeClip(
  dir: string,
  det: Pick<AiredDetection, 'id' | 'channelId' | 'startMs'>,
  mp3: Buffer,
): string {
  const path = clipPath(dir, det);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, mp3);
  renameSync(`${path}.tmp`, path);
  return path;
}
