import { createHash } from 'node:crypto';
import type { AiredDetection, PendingDetection } from './types.js';

/** A detection in UTC as the matcher reported it, before it has an identity. */
export type UtcDetection = Omit<AiredDetection, 'id' | 'channelId'>;

/** Deterministic detection id: the same airing found twice (a replay, a restart) gets the same id. */
export function detectionId(channelId: string, recordingId: string, startMs: number): string {
  const h = createHash('sha256').update(`${channelId}\n${recordingId}\n${Math.round(startMs)}`);
  return `det_${h.digest('hex').slice(0, 24)}`;
}

export interface StitchPolicy {
  stitchEdgeSec: number;
  stitchWaitSec: number;
  stitchOffsetToleranceSec: number;
}

interface Held {
  det: AiredDetection;
  /** Heard audio (ms) counted when it was held. */
  heardAtHoldMs: number;
}

/**
 * Keeps one airing one detection across the places where the audio breaks: a reconnect, a source
 * switch, a monitor restart. A detection that ends at (just before) an unheard period is held instead
 * of being finalised; if the same recording resumes after the gap at the reference offset the elapsed
 * time predicts, the two parts become one detection with the first part's id. A held detection with
 * no continuation after `stitchWaitSec` of heard audio is final, ending where it was last heard.
 */
export class DetectionStitcher {
  private held: Held[] = [];
  private openNow: PendingDetection[] = [];
  private finals: AiredDetection[] = [];
  private readonly discontinuities: Array<{ startMs: number; endMs: number }> = [];
  private heardMs = 0;

  constructor(
    readonly channelId: string,
    private readonly policy: StitchPolicy,
  ) {}

  /** Detections left pending by a previous run: all are held, waiting for their continuation. */
  restore(pending: PendingDetection[]): void {
    for (const p of pending) {
      const { state: _state, ...det } = p;
      this.held.push({ det, heardAtHoldMs: this.heardMs });
    }
  }

  /** An unheard period (its end may be +Infinity while it lasts). */
  discontinuity(startMs: number, endMs: number): void {
    this.discontinuities.push({ startMs, endMs });
    if (this.discontinuities.length > 16) this.discontinuities.shift();
  }

  /**
   * The audio from `fromMs` on was re-timed by `deltaMs` (its connection's anchor was corrected): held
   * parts and unheard periods inside it move with it. Held parts keep their ids.
   */
  shift(fromMs: number, deltaMs: number): void {
    const move = (ms: number) => (ms >= fromMs ? ms + deltaMs : ms);
    for (const h of this.held) {
      if (h.det.startMs < fromMs) continue;
      h.det = { ...h.det, startMs: h.det.startMs + deltaMs, endMs: h.det.endMs + deltaMs };
    }
    for (const g of this.discontinuities) {
      g.startMs = move(g.startMs);
      g.endMs = move(g.endMs);
    }
  }

  /** The matcher closed a detection. */
  closed(d: UtcDetection): void {
    const h = this.continuationOf(d);
    let det: AiredDetection;
    if (h) {
      this.held = this.held.filter((x) => x !== h);
      det = merge(h.det, d);
    } else {
      det = { id: detectionId(this.channelId, d.recordingId, d.startMs), channelId: this.channelId, ...d };
    }
    if (this.endsAtDiscontinuity(det.endMs)) this.held.push({ det, heardAtHoldMs: this.heardMs });
    else this.finals.push(det);
  }

  /** The matcher's provisional (still open) detections, replacing the previous snapshot. */
  setOpen(list: UtcDetection[]): void {
    this.openNow = list.map((o) => {
      const h = this.continuationOf(o);
      const det = h
        ? merge(h.det, o)
        : { id: detectionId(this.channelId, o.recordingId, o.startMs), channelId: this.channelId, ...o };
      return { ...det, state: 'open' as const };
    });
  }

  /** `audioMs` more of the channel was heard; held detections whose wait is over become final. */
  heard(audioMs: number): void {
    this.heardMs += audioMs;
    const keep: Held[] = [];
    for (const h of this.held) {
      const waited = this.heardMs - h.heardAtHoldMs >= this.policy.stitchWaitSec * 1000;
      const continuing = this.openNow.some((o) => o.id === h.det.id);
      if (waited && !continuing) this.finals.push(h.det);
      else keep.push(h);
    }
    this.held = keep;
  }

  /** Detections that became final since the last call. */
  takeFinal(): AiredDetection[] {
    const out = this.finals;
    this.finals = [];
    return out;
  }

  /** Everything not final: open ones (merged with the part they continue) and held ones. */
  pending(): PendingDetection[] {
    const openIds = new Set(this.openNow.map((o) => o.id));
    const held = this.held
      .filter((h) => !openIds.has(h.det.id))
      .map((h) => ({ ...h.det, state: 'held' as const }));
    return [...this.openNow, ...held];
  }

  /** A held part this detection continues: same recording, reference offset consistent with the elapsed time. */
  private continuationOf(d: UtcDetection): Held | undefined {
    const tol = this.policy.stitchOffsetToleranceSec;
    return this.held.find((h) => {
      if (h.det.recordingId !== d.recordingId) return false;
      const elapsedSec = (d.startMs - h.det.endMs) / 1000;
      if (elapsedSec < -tol) return false;
      const expectedRef = h.det.refEndSec + elapsedSec * h.det.speed;
      return Math.abs(d.refStartSec - expectedRef) <= tol;
    });
  }

  private endsAtDiscontinuity(endMs: number): boolean {
    const edgeMs = this.policy.stitchEdgeSec * 1000;
    const slackMs = this.policy.stitchOffsetToleranceSec * 1000;
    return this.discontinuities.some((g) => g.startMs >= endMs - slackMs && g.startMs - endMs <= edgeMs);
  }
}

function merge(first: AiredDetection, next: UtcDetection): AiredDetection {
  const a = Math.max(1, first.endMs - first.startMs);
  const b = Math.max(1, next.endMs - next.startMs);
  return {
    ...first,
    endMs: Math.max(first.endMs, next.endMs),
    refEndSec: Math.max(first.refEndSec, next.refEndSec),
    speed: (first.speed * a + next.speed * b) / (a + b),
    confidence: Math.max(first.confidence, next.confidence),
  };
}
