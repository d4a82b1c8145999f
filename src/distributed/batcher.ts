/**
 * The capture node's side of the matcher: it takes the channel runner's PCM exactly where the
 * embedded StreamMatcher would, extracts the same query-density peaks on the same time line, and
 * seals them into batches every few seconds of audio instead of matching them. Pure: no I/O.
 */
import {
  ANALYSIS_SAMPLE_RATE,
  FRAMES_PER_SEC,
  PeakExtractor,
  QUANT,
  STFT,
  type Peak,
} from '../fingerprint/index.js';
import type { Detection } from '../match/index.js';
import type { GapChange, StreamMatcherLike } from '../monitor/index.js';
import type { ChannelStateTable } from '../store/index.js';
import { UNITS_PER_SEC, WIRE_VERSION, toWirePeaks, type SealedBatch, type SkipMark } from './batch.js';

const TU = QUANT.timeUnitsPerFrame;

export interface BatcherOptions {
  channelId: string;
  session: string;
  batchSec: number;
  contextSec: number;
  /** The runner's UTC of the end of the last audio it placed (ChannelRunner.health().lastAudioMs). */
  lastAudioMs: () => number | null;
  /**
   * The runner's timeline epoch (ChannelRunner.timelineEpochMs): when given, batches carry it as it
   * is when they are sealed, so a connection the runner re-timed (its anchor was late) is re-timed at
   * the centre too. Without it the epoch is derived once from `lastAudioMs`.
   */
  epochMs?: () => number | null;
  /** Wall clock, for sealedAtMs. */
  wallMs?: () => number;
  onSealed: (batch: SealedBatch) => void;
  /** Detections the centre reported for this channel, to hand to the runner (evidence clips); optional. */
  feedback?: CentreFeedback | null;
}

/** What the centre knows about the channel's airings, in the session's matcher seconds. */
export interface CentreFeedback {
  /** Airings the centre closed since the last call. */
  takeClosed(): Detection[];
  /** Airings open at the centre now. */
  open(): Detection[];
}

/**
 * A StreamMatcherLike that ships instead of matching. Time bookkeeping mirrors StreamMatcher (origin
 * in time units, a new extractor after every skip), so peaks land on the time line a matcher fed the
 * same PCM would use; the matcher worker replays them with pushPeaks and gets the same votes.
 */
export class PeakBatcher implements StreamMatcherLike {
  private extractor = new PeakExtractor('query');
  private originUnits = 0;
  private samplesInSegment = 0;
  /** Exact seconds of matcher time consumed (audio and skips), for the epoch. */
  private positionSec = 0;
  private epochMs: number | null = null;
  private epochDriftMs = 0;
  private fromUnits = 0;
  private peaks: Peak[] = [];
  private skips: SkipMark[] = [];
  private audioSec = 0;
  private gaps: GapChange[] = [];
  private state: ChannelStateTable | null = null;
  /** Peaks and skips of earlier batches still inside the context window. */
  private history: Peak[] = [];
  private historySkips: SkipMark[] = [];
  private nextSealUnits: number;
  private ended = false;
  private lastSealWallMs: number;
  private readonly wallMs: () => number;
  sealedCount = 0;

  constructor(private readonly opts: BatcherOptions) {
    if (!(opts.batchSec > 0)) throw new Error(`batchSec must be positive, got ${opts.batchSec}`);
    this.nextSealUnits = Math.round(opts.batchSec * UNITS_PER_SEC);
    this.wallMs = opts.wallMs ?? Date.now;
    this.lastSealWallMs = this.wallMs();
  }

  /** Matcher time reached, in time units (as StreamMatcher counts it). */
  get positionUnits(): number {
    return this.originUnits + Math.round((this.samplesInSegment / STFT.hopSamples) * TU);
  }

  get epoch(): number | null {
    return this.epochMs;
  }

  /** Largest disagreement seen between the runner's clock and this time line, ms (should stay ~0). */
  get driftMs(): number {
    return this.epochDriftMs;
  }

  push(pcm: Float32Array): Detection[] {
    this.noteEpoch();
    const fresh = this.extractor.push(pcm);
    this.addPeaks(fresh);
    this.samplesInSegment += pcm.length;
    this.positionSec += pcm.length / ANALYSIS_SAMPLE_RATE;
    this.audioSec += pcm.length / ANALYSIS_SAMPLE_RATE;
    if (this.positionUnits >= this.nextSealUnits) this.seal(false);
    return this.opts.feedback?.takeClosed() ?? [];
  }

  skip(seconds: number): Detection[] {
    if (!(seconds >= 0)) throw new Error(`skip: seconds must be >= 0, got ${seconds}`);
    this.noteEpoch();
    this.addPeaks(this.extractor.flush());
    const segUnits = Math.round((this.samplesInSegment / STFT.hopSamples) * TU);
    const atUnits = this.originUnits + segUnits;
    this.skips.push({ atUnits, sec: seconds });
    this.originUnits = atUnits + Math.round(seconds * FRAMES_PER_SEC * TU);
    this.samplesInSegment = 0;
    this.positionSec += seconds;
    this.extractor = new PeakExtractor('query');
    if (this.positionUnits >= this.nextSealUnits) this.seal(false);
    return this.opts.feedback?.takeClosed() ?? [];
  }

  /** End of the stream: the last peaks are kept; the node seals the final batch once the runner has stopped. */
  flush(): Detection[] {
    if (!this.ended) {
      this.noteEpoch();
      this.addPeaks(this.extractor.flush());
      this.ended = true;
    }
    return this.opts.feedback?.takeClosed() ?? [];
  }

  openDetections(): Detection[] {
    return this.opts.feedback?.open() ?? [];
  }

  addGaps(changes: GapChange[]): void {
    this.gaps.push(...changes);
  }

  setState(row: ChannelStateTable): void {
    this.state = { ...row };
  }

  /**
   * Timer: with no audio flowing, ship pending gap records and the heartbeat every `heartbeatSec`.
   * While audio flows, batches seal on audio alone (so their edges do not depend on timers), unless
   * it trickles so slowly that nothing was sealed for three heartbeats.
   */
  sealIfIdle(heartbeatSec: number): boolean {
    const since = this.wallMs() - this.lastSealWallMs;
    if (since < heartbeatSec * 1000) return false;
    if (this.gaps.length === 0 && this.state === null && this.peaks.length === 0) return false;
    if (this.audioSec > 0 && since < 3 * heartbeatSec * 1000) return false;
    this.seal(false);
    return true;
  }

  /** The final batch of the session (after the runner stopped and its last records came in). */
  sealEnd(): void {
    if (!this.ended) this.flush();
    this.seal(true);
  }

  private addPeaks(fresh: Peak[]): void {
    for (const p of fresh) this.peaks.push({ t: p.t + this.originUnits, f: p.f });
  }

  /** The runner sets lastAudioMs after each chunk it pushes: before the next push both clocks agree. */
  private noteEpoch(): void {
    if (this.positionSec <= 0) return;
    const line = this.opts.epochMs?.() ?? null;
    if (line !== null) this.epochMs = Math.round(line);
    const last = this.opts.lastAudioMs();
    if (last === null) return;
    const epoch = last - this.positionSec * 1000;
    if (this.epochMs === null) this.epochMs = Math.round(epoch);
    else this.epochDriftMs = Math.max(this.epochDriftMs, Math.abs(epoch - this.epochMs));
  }

  private seal(end: boolean): void {
    const toUnits = this.positionUnits;
    const own = this.peaks.sort((a, b) => a.t - b.t || a.f - b.f);
    const ctxFrom = Math.max(0, this.fromUnits - Math.round(this.opts.contextSec * UNITS_PER_SEC));
    const ctxPeaks = this.history.filter((p) => p.t >= ctxFrom);
    const ctxSkips = this.historySkips.filter((s) => s.atUnits >= ctxFrom);
    const batch: SealedBatch = {
      v: WIRE_VERSION,
      channelId: this.opts.channelId,
      session: this.opts.session,
      epochMs: this.epochMs,
      fromUnits: this.fromUnits,
      toUnits,
      audioSec: Math.round(this.audioSec * 1e6) / 1e6,
      peaks: toWirePeaks(own),
      skips: this.skips,
      context:
        ctxPeaks.length > 0 || ctxSkips.length > 0
          ? { fromUnits: Math.min(ctxFrom, this.fromUnits), peaks: toWirePeaks(ctxPeaks), skips: ctxSkips }
          : null,
      end,
      gaps: this.gaps,
      state: this.state,
      sealedAtMs: Math.round(this.wallMs()),
    };
    // keep what the next batch's context needs
    const keepFrom = toUnits - Math.round(this.opts.contextSec * UNITS_PER_SEC) - UNITS_PER_SEC;
    this.history = this.history.concat(own).filter((p) => p.t >= keepFrom);
    this.historySkips = this.historySkips.concat(this.skips).filter((s) => s.atUnits >= keepFrom);
    this.fromUnits = toUnits;
    this.peaks = [];
    this.skips = [];
    this.gaps = [];
    this.state = null;
    this.audioSec = 0;
    const step = Math.round(this.opts.batchSec * UNITS_PER_SEC);
    this.nextSealUnits = (Math.floor(toUnits / step) + 1) * step;
    this.lastSealWallMs = this.wallMs();
    this.sealedCount++;
    this.opts.onSealed(batch);
  }
}
