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
  /** A final detection whose airing resumes on its line within this much audio is extended (same id). */
  extendGapSec: number;
  /** A detection ending this close before a discontinuity is held for its continuation. */
  stitchEdgeSec: number;
  /** A held detection waits this much heard audio for its continuation. */
  stitchWaitSec: number;
  /** Reference-offset mismatch allowed between parts of one airing. */
  stitchOffsetToleranceSec: number;
}

/** One way of lining the airing up with its recording: reference seconds at `atMs`, and speed. */
interface Line {
  atMs: number;
  refSec: number;
  speed: number;
  /** Milliseconds of fragments on this line: the best supported line is the airing's alignment. */
  supportMs: number;
}

interface Airing {
  recordingId: string;
  startMs: number;
  endMs: number;
  /** From the best supported line (kept up to date). */
  refStartSec: number;
  refEndSec: number;
  speed: number;
  confidence: number;
  /** Matched points per second of its densest fragment (from the confidence: fragments carry no counts). */
  density: number;
  /** Set once the airing has an identity that must not change (it was held across a gap). */
  id: string | null;
  lines: Line[];
  /** Largest reference end any fragment reported (the recording ends there at the latest). */
  refEndMax: number;
  /** It was final once and was taken up again: finalising it again corrects the stored detection. */
  wasFinal?: boolean;
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
  /** Detections final before whose airing resumed on its line: the stored row is updated (same id). */
  corrected: AiredDetection[];
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
    const out: StitchOutput = { finals: [], corrected: [], pending: [], absorbed: 0, buried: 0 };
    for (const d of input.discontinuities) this.discontinuity(d);
    s.heardMs += input.audioMs;
    const revived = new Set<string>();
    const frags = [...input.fragments].sort(
      (a, b) => a.startMs - b.startMs || a.recordingId.localeCompare(b.recordingId),
    );
    for (const f of frags) {
      const open = this.findOpen(f);
      if (open) {
        absorb(open, f);
        continue;
      }
      const heldIndex = s.held.findIndex((h) => this.continues(h, f));
      if (heldIndex >= 0) {
        const [h] = s.held.splice(heldIndex, 1);
        const { heardAtHoldMs: _h, ...airing } = h;
        absorb(airing, f);
        s.open.push(airing);
        revived.add(airing.id!);
        continue;
      }
      // a weak stretch the batches could not bridge: the airing goes on, on the same line
      const resumed = s.recent.findIndex((r) => this.resumes(r, f));
      if (resumed >= 0) {
        const [r] = s.recent.splice(resumed, 1);
        const airing: Airing = { ...r, wasFinal: true };
        absorb(airing, f);
        s.open.push(airing);
        continue;
      }
      if (s.recent.some((r) => this.repeats(r, f))) {
        out.absorbed++;
        continue;
      }
      s.open.push(newAiring(f));
    }
    this.coalesce();
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
    if (a.wasFinal) out.corrected.push(det);
    else out.finals.push(det);
    this.s.recent.push({ ...a, wasFinal: false });
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
   * The open airing a fragment belongs to. A recording airs at most once at a time (the matcher's own
   * rule), so a fragment over the same airtime belongs to it whatever its offset: a loop or a chorus
   * matched elsewhere in the recording adds a competing line, and lines win by support. After the
   * airing, a fragment on its line continues it within the matcher's close time; one at another
   * offset only across a few seconds (farther apart, it is another play of the recording: short plays
   * of one song a few seconds apart are separate airings).
   */
  private findOpen(f: Fragment): Airing | undefined {
    const joinMs = this.policy.joinGapSec * 1000;
    let best: Airing | undefined;
    let bestScore = 0;
    for (const a of this.s.open) {
      if (a.recordingId !== f.recordingId) continue;
      const overlap = Math.min(a.endMs, f.endMs) - Math.max(a.startMs, f.startMs);
      let score = 0;
      if (overlap > MIN_OVERLAP_MS) score = 2 + overlap;
      else if (f.startMs <= a.endMs + joinMs && f.endMs >= a.startMs - joinMs) {
        if (onLine(a, f, this.policy.stitchOffsetToleranceSec)) score = 1;
        else if (f.startMs <= a.endMs + OFFLINE_JOIN_MS && f.endMs >= a.startMs - OFFLINE_JOIN_MS)
          score = 0.5;
      }
      if (score > bestScore) {
        best = a;
        bestScore = score;
      }
    }
    return best;
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

  /** A fragment that takes a final detection's airing further, on its line, after a short weak stretch. */
  private resumes(r: Airing, f: Fragment): boolean {
    if (r.recordingId !== f.recordingId) return false;
    if (f.endMs <= r.endMs + MIN_OVERLAP_MS * 2 || f.startMs > r.endMs + this.policy.extendGapSec * 1000)
      return false;
    return onLine(r, f, this.policy.stitchOffsetToleranceSec);
  }

  /** Open airings of one recording that came to overlap (fragments bridged them) are one airing. */
  private coalesce(): void {
    const open = this.s.open;
    for (let i = 0; i < open.length; i++) {
      for (let j = i + 1; j < open.length; j++) {
        const a = open[i];
        const b = open[j];
        if (a.recordingId !== b.recordingId) continue;
        if (Math.min(a.endMs, b.endMs) - Math.max(a.startMs, b.startMs) <= MIN_OVERLAP_MS) continue;
        mergeAirings(a, b);
        open.splice(j, 1);
        j = i;
      }
    }
  }

  /** A fragment of a detection already final: same recording, over its airtime (or at its end, on its line). */
  private repeats(r: Airing, f: Fragment): boolean {
    if (r.recordingId !== f.recordingId) return false;
    const overlap = Math.min(r.endMs, f.endMs) - Math.max(r.startMs, f.startMs);
    if (overlap > MIN_OVERLAP_MS) return true;
    const nearEnd =
      f.startMs <= r.endMs + this.policy.stitchOffsetToleranceSec * 1000 && f.endMs >= r.startMs;
    return nearEnd && onLine(r, f, LINE_TOL_SEC);
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

/** A fragment over the same airtime as an airing overlaps it by more than this (ms). */
const MIN_OVERLAP_MS = 500;
/** A fragment at another offset continues an airing across at most this much (ms). */
const OFFLINE_JOIN_MS = 4000;
/** Fragments on one line agree on the reference offset within this (the matcher's offsets scatter ~0.1 s). */
const LINE_TOL_SEC = 1;
/** Lines kept per airing (the least supported go). */
const MAX_LINES = 8;

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function lineRef(l: Line, ms: number): number {
  return l.refSec + ((ms - l.atMs) / 1000) * l.speed;
}

function bestLine(a: Airing): Line {
  let best = a.lines[0];
  for (const l of a.lines) if (l.supportMs > best.supportMs) best = l;
  return best;
}

/** The fragment lies on the airing's best line. */
function onLine(a: Airing, f: Fragment, tolSec: number): boolean {
  return Math.abs(f.refStartSec - lineRef(bestLine(a), f.startMs)) <= tolSec;
}

function newAiring(f: Fragment): Airing {
  return {
    recordingId: f.recordingId,
    startMs: f.startMs,
    endMs: f.endMs,
    refStartSec: f.refStartSec,
    refEndSec: f.refEndSec,
    speed: f.speed,
    confidence: f.confidence,
    density: densityOf(f),
    id: null,
    lines: [
      { atMs: f.startMs, refSec: f.refStartSec, speed: f.speed, supportMs: Math.max(1, f.endMs - f.startMs) },
    ],
    refEndMax: f.refEndSec,
  };
}

/** Adds a fragment to an airing: the span grows, its line gains support (or a new line starts). */
function absorb(a: Airing, f: Fragment): void {
  a.startMs = Math.min(a.startMs, f.startMs);
  a.endMs = Math.max(a.endMs, f.endMs);
  a.confidence = Math.max(a.confidence, f.confidence);
  a.density = Math.max(a.density, densityOf(f));
  a.refEndMax = Math.max(a.refEndMax, f.refEndSec);
  addLine(a, {
    atMs: f.startMs,
    refSec: f.refStartSec,
    speed: f.speed,
    supportMs: Math.max(1, f.endMs - f.startMs),
  });
  derive(a);
}

/** Support for a line: to the line it coincides with, or as a new one. */
function addLine(a: Airing, add: Line): void {
  const line = a.lines.find((l) => Math.abs(add.refSec - lineRef(l, add.atMs)) <= LINE_TOL_SEC);
  if (line) {
    const total = line.supportMs + add.supportMs;
    line.speed = Math.round(((line.speed * line.supportMs + add.speed * add.supportMs) / total) * 1e6) / 1e6;
    line.supportMs = total;
  } else {
    a.lines.push({ ...add });
    if (a.lines.length > MAX_LINES) {
      a.lines.sort((x, y) => y.supportMs - x.supportMs);
      a.lines.length = MAX_LINES;
    }
  }
}

/** `b` joins `a`: spans, lines and identity (a fixed id, or an earlier final's, is kept). */
function mergeAirings(a: Airing, b: Airing): void {
  a.startMs = Math.min(a.startMs, b.startMs);
  a.endMs = Math.max(a.endMs, b.endMs);
  a.confidence = Math.max(a.confidence, b.confidence);
  a.density = Math.max(a.density, b.density);
  a.refEndMax = Math.max(a.refEndMax, b.refEndMax);
  a.id ??= b.id;
  a.wasFinal = a.wasFinal || b.wasFinal;
  for (const l of b.lines) addLine(a, l);
  derive(a);
}

/** The airing's alignment from its best supported line. */
function derive(a: Airing): void {
  const best = bestLine(a);
  a.speed = best.speed;
  a.refStartSec = Math.max(0, round3(lineRef(best, a.startMs)));
  a.refEndSec = Math.max(a.refStartSec, round3(Math.min(lineRef(best, a.endMs), a.refEndMax)));
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
