/**
 * The centre's per-channel stage: match fragments from consecutive batches (which overlap, because
 * each batch carries context) become one detection per airing. Batches are applied strictly in
 * sequence, and the whole state is plain JSON checkpointed with each batch, so the result does not
 * depend on which worker matched what, on retries, on duplicates or on restarts. The rules across
 * monitoring gaps are the embedded DetectionStitcher's (same settings, same deterministic ids).
 * Pure: no I/O.
 */
import { confidenceOf } from '../match/index.js';
import {
  detectionId,
  gapId,
  type AiredDetection,
  type GapChange,
  type PendingDetection,
} from '../monitor/index.js';
import { UNITS_PER_SEC, type BatchResult } from './batch.js';
import type { Fragment } from './matching.js';

export interface ChannelStitchPolicy {
  /** An open airing is final once the stitched audio reaches its end plus this. */
  finalizeAfterSec: number;
  /** Fragments of one airing join across up to this much audio without a match. */
  joinGapSec: number;
  /** Final detections are kept this long (audio time) to absorb late fragments of them. */
  recentKeepSec: number;
  /** A detection ending this close before a discontinuity is held for its continuation. */
  stitchEdgeSec: number;
  /** A held detection waits this much heard audio for its continuation. */
  stitchWaitSec: number;
  /** Reference-offset mismatch allowed between parts of one airing. */
  stitchOffsetToleranceSec: number;
}

interface Airing {
  recordingId: string;
  startMs: number;
  endMs: number;
  refStartSec: number;
  refEndSec: number;
  speed: number;
  confidence: number;
  /** Matched points per second of its densest fragment (from the confidence: fragments carry no counts). */
  density: number;
  /** Set once the airing has an identity that must not change (it was held across a gap). */
  id: string | null;
}

interface HeldAiring extends Airing {
  id: string;
  heardAtHoldMs: number;
}

interface Discontinuity {
  startMs: number;
  /** null while it lasts. */
  endMs: number | null;
}

/** Everything the stitcher knows about a channel, as JSON. */
export interface ChannelStitchState {
  v: 1;
  /** UTC end of the audio stitched so far. */
  positionMs: number | null;
  heardMs: number;
  open: Airing[];
  held: HeldAiring[];
  recent: Array<Airing & { id: string }>;
  discontinuities: Discontinuity[];
}

export interface StitchInput {
  fragments: Fragment[];
  /** Audio heard in the batch, ms. */
  audioMs: number;
  /** UTC end of the batch's audio (null when the batch has no time line yet). */
  endMs: number | null;
  /** Unheard periods reported with the batch (skips and gap records other than silence). */
  discontinuities: Discontinuity[];
  /** The session ended: every open airing closes now. */
  end: boolean;
}

export interface StitchOutput {
  finals: AiredDetection[];
  pending: PendingDetection[];
  /** Fragments that repeated part of a detection already final, or a repeated section (counted, not stored). */
  absorbed: number;
  /** Weak airings dropped because they lay inside a much denser airing of another recording. */
  buried: number;
}

export function emptyStitchState(): ChannelStitchState {
  return { v: 1, positionMs: null, heardMs: 0, open: [], held: [], recent: [], discontinuities: [] };
}

export class ChannelStitcher {
  private s: ChannelStitchState;

  constructor(
    readonly channelId: string,
    private readonly policy: ChannelStitchPolicy,
    state: ChannelStitchState = emptyStitchState(),
  ) {
    if (state.v !== 1)
      throw new Error(`channel ${channelId}: unknown stitch state version ${String(state.v)}`);
    this.s = structuredClone(state);
  }

  snapshot(): ChannelStitchState {
    return structuredClone(this.s);
  }

  get positionMs(): number | null {
    return this.s.positionMs;
  }

  apply(input: StitchInput): StitchOutput {
    const s = this.s;
    const out: StitchOutput = { finals: [], pending: [], absorbed: 0, buried: 0 };
    for (const d of input.discontinuities) this.discontinuity(d);
    s.heardMs += input.audioMs;
    const revived = new Set<string>();
    const frags = [...input.fragments].sort(
      (a, b) => a.startMs - b.startMs || a.recordingId.localeCompare(b.recordingId),
    );
    for (const f of frags) {
      const open = this.findOpen(f);
      if (open) {
        if (open.consistent) merge(open.airing, f);
        // The same recording at another offset over the same airtime: a repeated section (a chorus).
        // A longer fragment saw more of the airing (more context), so its alignment wins.
        else if (f.endMs - f.startMs > open.airing.endMs - open.airing.startMs) realign(open.airing, f);
        else out.absorbed++;
        continue;
      }
      const heldIndex = s.held.findIndex((h) => this.continues(h, f));
      if (heldIndex >= 0) {
        const [h] = s.held.splice(heldIndex, 1);
        const { heardAtHoldMs: _h, ...airing } = h;
        merge(airing, f);
        s.open.push(airing);
        revived.add(airing.id!);
        continue;
      }
      if (s.recent.some((r) => this.repeats(r, f))) {
        out.absorbed++;
        continue;
      }
      s.open.push({ ...f, density: densityOf(f), id: null });
    }
    if (input.endMs !== null) s.positionMs = Math.max(s.positionMs ?? input.endMs, input.endMs);
    const pos = s.positionMs ?? Number.NEGATIVE_INFINITY;
    const finalizeMs = this.policy.finalizeAfterSec * 1000;
    const stillOpen: Airing[] = [];
    const closing: Airing[] = [];
    for (const a of s.open) {
      if (!input.end && a.endMs + finalizeMs > pos) stillOpen.push(a);
      else closing.push(a);
    }
    for (const a of closing) {
      if (this.buried(a, closing)) {
        out.buried++;
        continue;
      }
      const id = a.id ?? detectionId(this.channelId, a.recordingId, a.startMs);
      if (this.endsAtDiscontinuity(a.endMs)) s.held.push({ ...a, id, heardAtHoldMs: s.heardMs });
      else this.finalise({ ...a, id }, out);
    }
    s.open = stillOpen;
    const waitMs = this.policy.stitchWaitSec * 1000;
    const keep: HeldAiring[] = [];
    for (const h of s.held) {
      if (s.heardMs - h.heardAtHoldMs >= waitMs && !revived.has(h.id)) {
        const { heardAtHoldMs: _h, ...airing } = h;
        this.finalise(airing, out);
      } else keep.push(h);
    }
    s.held = keep;
    const forgetBefore = pos - this.policy.recentKeepSec * 1000;
    s.recent = s.recent.filter((r) => r.endMs >= forgetBefore);
    out.pending = [
      ...s.open.map((a) => toPending(this.channelId, a, 'open')),
      ...s.held.map((h) => toPending(this.channelId, h, 'held')),
    ];
    return out;
  }

  private finalise(a: Airing & { id: string }, out: StitchOutput): void {
    const det: AiredDetection = {
      id: a.id,
      channelId: this.channelId,
      recordingId: a.recordingId,
      startMs: a.startMs,
      endMs: a.endMs,
      refStartSec: a.refStartSec,
      refEndSec: a.refEndSec,
      speed: a.speed,
      confidence: a.confidence,
    };
    out.finals.push(det);
    this.s.recent.push({ ...a });
  }

  /**
   * The matcher's rule for shared material (a loop, a sample): a short, weak match inside another
   * recording's airing, by a margin on both sides, at a fraction of its density, is not an airing.
   * The matcher applies it within a batch; across batch edges only the centre sees both airings whole.
   */
  private buried(a: Airing, closing: Airing[]): boolean {
    const s = this.s;
    const others = [...s.open, ...closing, ...s.held, ...s.recent];
    return others.some(
      (o) =>
        o !== a &&
        o.recordingId !== a.recordingId &&
        o.startMs <= a.startMs - CONTAIN_MARGIN_MS &&
        o.endMs >= a.endMs + CONTAIN_MARGIN_MS &&
        o.density >= CONTAIN_DENSITY * a.density,
    );
  }

  private discontinuity(d: Discontinuity): void {
    const list = this.s.discontinuities;
    const same = list.find((x) => x.startMs === d.startMs);
    if (same) same.endMs = d.endMs;
    else list.push({ ...d });
    list.sort((a, b) => a.startMs - b.startMs);
    while (list.length > 16) list.shift();
  }

  /**
   * The open airing a fragment belongs to: same recording, on its time line (consistent), not too far
   * after it; or, failing that, one it mostly overlaps at another offset (a repeated chorus).
   */
  private findOpen(f: Fragment): { airing: Airing; consistent: boolean } | undefined {
    const tol = this.policy.stitchOffsetToleranceSec;
    const joinMs = this.policy.joinGapSec * 1000;
    let best: Airing | undefined;
    let bestDev = Infinity;
    let overlapping: Airing | undefined;
    for (const a of this.s.open) {
      if (a.recordingId !== f.recordingId) continue;
      if (f.startMs > a.endMs + joinMs || f.endMs < a.startMs - joinMs) continue;
      const dev = Math.abs(f.refStartSec - (a.refStartSec + ((f.startMs - a.startMs) / 1000) * a.speed));
      if (dev <= tol && dev < bestDev) {
        best = a;
        bestDev = dev;
      } else if (dev > tol && !overlapping && overlapShare(a, f) >= 0.5) overlapping = a;
    }
    if (best) return { airing: best, consistent: true };
    return overlapping ? { airing: overlapping, consistent: false } : undefined;
  }

  /** A held part this fragment continues (the embedded DetectionStitcher's rule). */
  private continues(h: HeldAiring, f: Fragment): boolean {
    if (h.recordingId !== f.recordingId) return false;
    const tol = this.policy.stitchOffsetToleranceSec;
    const elapsedSec = (f.startMs - h.endMs) / 1000;
    if (elapsedSec < -tol) {
      // context makes a fragment reach back into audio the held part already covers
      const dev = Math.abs(f.refStartSec - (h.refStartSec + ((f.startMs - h.startMs) / 1000) * h.speed));
      return f.endMs > h.startMs && dev <= tol;
    }
    return Math.abs(f.refStartSec - (h.refEndSec + elapsedSec * h.speed)) <= tol;
  }

  /** A fragment of a detection already final: same recording, overlapping it on its time line. */
  private repeats(r: Airing, f: Fragment): boolean {
    if (r.recordingId !== f.recordingId) return false;
    if (f.startMs > r.endMs + this.policy.stitchOffsetToleranceSec * 1000) return false;
    if (f.endMs < r.startMs) return false;
    const dev = Math.abs(f.refStartSec - (r.refStartSec + ((f.startMs - r.startMs) / 1000) * r.speed));
    return dev <= this.policy.stitchOffsetToleranceSec || overlapShare(r, f) >= 0.5;
  }

  private endsAtDiscontinuity(endMs: number): boolean {
    const edgeMs = this.policy.stitchEdgeSec * 1000;
    const slackMs = this.policy.stitchOffsetToleranceSec * 1000;
    return this.s.discontinuities.some((g) => g.startMs >= endMs - slackMs && g.startMs - endMs <= edgeMs);
  }
}

/** The matcher's margin and density ratio for a match buried in another airing (src/match). */
const CONTAIN_MARGIN_MS = 1000;
const CONTAIN_DENSITY = 1.5;

/** Matched points behind a confidence: the smallest count the matcher's confidence maps to it. */
function pointsOf(confidence: number): number {
  let p = 0;
  while (p < 200 && confidenceOf(p) < confidence) p++;
  return p;
}

function densityOf(f: Fragment): number {
  return pointsOf(f.confidence) / Math.max(1, (f.endMs - f.startMs) / 1000);
}

/** Takes over the fragment's alignment (reference offset and speed), spanning both. */
function realign(a: Airing, f: Fragment): void {
  const start = Math.min(a.startMs, f.startMs);
  const end = Math.max(a.endMs, f.endMs);
  a.refStartSec = Math.max(0, round3(f.refStartSec - ((f.startMs - start) / 1000) * f.speed));
  a.refEndSec = round3(f.refEndSec + ((end - f.endMs) / 1000) * f.speed);
  a.startMs = start;
  a.endMs = end;
  a.speed = f.speed;
  a.confidence = Math.max(a.confidence, f.confidence);
  a.density = Math.max(a.density, densityOf(f));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function merge(a: Airing, f: Fragment): void {
  const da = Math.max(1, a.endMs - a.startMs);
  const df = Math.max(1, f.endMs - f.startMs);
  if (f.startMs < a.startMs) {
    a.startMs = f.startMs;
    a.refStartSec = f.refStartSec;
  }
  if (f.endMs > a.endMs) {
    a.endMs = f.endMs;
    a.refEndSec = f.refEndSec;
  }
  a.speed = Math.round(((a.speed * da + f.speed * df) / (da + df)) * 1e6) / 1e6;
  a.confidence = Math.max(a.confidence, f.confidence);
  a.density = Math.max(a.density, densityOf(f));
}

function overlapShare(a: { startMs: number; endMs: number }, b: { startMs: number; endMs: number }): number {
  const ov = Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs);
  const shorter = Math.min(a.endMs - a.startMs, b.endMs - b.startMs);
  return shorter > 0 ? Math.max(0, ov) / shorter : 0;
}

function toPending(channelId: string, a: Airing, state: 'open' | 'held'): PendingDetection {
  return {
    id: a.id ?? detectionId(channelId, a.recordingId, a.startMs),
    channelId,
    recordingId: a.recordingId,
    startMs: a.startMs,
    endMs: a.endMs,
    refStartSec: a.refStartSec,
    refEndSec: a.refEndSec,
    speed: a.speed,
    confidence: a.confidence,
    state,
  };
}

/**
 * What one batch result means to the stitcher and to the gap records: its fragments, heard audio and
 * discontinuities (skips, gap records other than silence), plus the gaps the centre adds itself: the
 * hole left by lost or rejected batches before it (`hole`), and its own span when it was not matched.
 */
export function resultInput(
  r: Pick<
    BatchResult,
    | 'channelId'
    | 'seq'
    | 'epochMs'
    | 'fromUnits'
    | 'toUnits'
    | 'audioSec'
    | 'skips'
    | 'gaps'
    | 'fragments'
    | 'rejected'
    | 'end'
  >,
  positionMs: number | null,
  hole: string | null,
): { input: StitchInput; gaps: GapChange[] } {
  const ch = r.channelId;
  const toMs = (units: number) => r.epochMs! + (units / UNITS_PER_SEC) * 1000;
  const gaps: GapChange[] = r.rejected ? [] : [...r.gaps];
  if (hole && r.epochMs !== null && positionMs !== null && toMs(r.fromUnits) > positionMs) {
    gaps.unshift(synthGap(ch, positionMs, toMs(r.fromUnits), hole));
  }
  if (r.rejected && r.epochMs !== null && r.toUnits > r.fromUnits) {
    gaps.push(synthGap(ch, toMs(r.fromUnits), toMs(r.toUnits), `batch #${r.seq} not matched: ${r.rejected}`));
  }
  const discontinuities: StitchInput['discontinuities'] = [];
  if (r.epochMs !== null) {
    for (const sk of r.skips)
      discontinuities.push({ startMs: toMs(sk.atUnits), endMs: toMs(sk.atUnits) + sk.sec * 1000 });
  }
  for (const g of gaps) {
    if (g.type !== 'discard' && g.gap.reason !== 'silence')
      discontinuities.push({ startMs: g.gap.startMs, endMs: g.gap.endMs });
  }
  return {
    input: {
      fragments: r.rejected ? [] : r.fragments,
      audioMs: r.rejected ? 0 : r.audioSec * 1000,
      endMs: r.epochMs === null ? null : toMs(r.toUnits),
      discontinuities,
      end: r.end,
    },
    gaps,
  };
}

/** A gap the centre records itself (the node could not: its batches never arrived or were unusable). */
function synthGap(channelId: string, startMs: number, endMs: number, detail: string): GapChange {
  const start = Math.round(startMs);
  return {
    type: 'close',
    gap: {
      id: gapId(channelId, start),
      channelId,
      startMs: start,
      endMs: Math.round(endMs),
      reason: 'discontinuity',
      detail,
    },
  };
}
