/**
 * Time of live audio. Sample counts, not arrival times, say how much audio there is; the wall clock
 * only anchors them. See docs/monitoring.md, "Clock".
 */

export interface ClockPolicy {
  /** Window over which the smallest arrival lag is tracked (seconds of the monitor's clock). */
  driftWindowSec: number;
  /** When even the smallest lag in a full window exceeds this, the anchor moves forward. */
  driftToleranceMs: number;
}

/**
 * The UTC clock of one connection: sample n aired at anchorMs + n / rate.
 *
 * Audio cannot arrive before it aired, so every chunk bounds the anchor from above:
 * anchor <= arrivalMs - samplesSoFar / rate. The anchor is the tightest of those bounds (the chunk
 * that arrived with the least delay), which discounts a connect-time burst of buffered audio and
 * ffmpeg's start-up delay. A source whose sample clock runs slower than ours shows up as a lag that
 * never comes back down; when even the smallest lag in a whole window is over the tolerance, the
 * anchor moves forward by it, so such drift is corrected in bounded steps instead of accumulating.
 * A known delivery latency (`latencyMs`, the channel's latencySec) is subtracted from every arrival
 * time: what arrival cannot tell (a packager's or CDN's delay) is supplied by hand. A fixed anchor
 * (recorded files, HLS segments with #EXT-X-PROGRAM-DATE-TIME) ignores arrival times altogether.
 */
export class ConnectionClock {
  private anchor = Number.POSITIVE_INFINITY;
  private sampleCount = 0;
  private firstArrivalMs: number | null = null;
  /** Monotonic deque of (arrivalMs, anchor bound) for the windowed minimum. */
  private readonly window: Array<{ atMs: number; bound: number }> = [];
  /** Total forward corrections applied, ms. */
  driftCorrectedMs = 0;

  constructor(
    readonly sampleRate: number,
    private readonly policy: ClockPolicy,
    fixedAnchorMs: number | null = null,
    private readonly latencyMs = 0,
  ) {
    if (!(sampleRate > 0)) throw new Error(`sample rate must be positive, got ${sampleRate}`);
    if (fixedAnchorMs !== null) this.anchor = fixedAnchorMs;
    this.fixed = fixedAnchorMs !== null;
  }
  private readonly fixed: boolean;

  /** Accounts a chunk of `count` samples whose last sample arrived at `arrivalMs`. Returns the UTC of its first sample. */
  onChunk(count: number, arrivalMs: number): number {
    const startIndex = this.sampleCount;
    this.sampleCount += count;
    if (!this.fixed) {
      this.firstArrivalMs ??= arrivalMs;
      const bound = arrivalMs - this.latencyMs - (this.sampleCount * 1000) / this.sampleRate;
      if (bound < this.anchor) this.anchor = bound;
      while (this.window.length > 0 && this.window[this.window.length - 1].bound >= bound) this.window.pop();
      this.window.push({ atMs: arrivalMs, bound });
      const windowMs = this.policy.driftWindowSec * 1000;
      while (this.window[0].atMs < arrivalMs - windowMs) this.window.shift();
      if (arrivalMs - this.firstArrivalMs >= windowMs) {
        const lag = this.window[0].bound - this.anchor;
        if (lag > this.policy.driftToleranceMs) {
          this.anchor += lag;
          this.driftCorrectedMs += lag;
        }
      }
    }
    return this.timeOfSample(startIndex);
  }

  /** UTC (ms) of sample `index` of this connection, with the anchor as known now. */
  timeOfSample(index: number): number {
    if (!Number.isFinite(this.anchor)) throw new Error('the connection clock has no audio yet');
    return this.anchor + (index * 1000) / this.sampleRate;
  }

  get anchorMs(): number {
    return this.anchor;
  }

  get samples(): number {
    return this.sampleCount;
  }

  /** How long (monitor clock) audio has been arriving on this connection. */
  elapsedMs(nowMs: number): number {
    return this.firstArrivalMs === null ? 0 : nowMs - this.firstArrivalMs;
  }
}

/** What to do with a chunk so the matcher's timeline stays one straight line in UTC. */
export interface Placement {
  /** Seconds of unheard time to advance the matcher by before the chunk (a forward discontinuity). */
  skipSec: number;
  /** Samples to drop from the chunk's head: audio of a time already heard (a backward discontinuity). */
  trimSamples: number;
}

/** One connection's stretch of the timeline: matcher time t >= fromSec is UTC epochMs + t * 1000. */
interface Piece {
  fromSec: number;
  epochMs: number;
}

/** Earlier pieces kept for converting matcher times of long airings (each is two numbers). */
const MAX_PIECES = 256;

/**
 * The matcher's timeline: matcher time t (seconds since its first sample, skips included) is UTC
 * epochMs + t * 1000. Each chunk arrives with its UTC from the connection clock; a mismatch beyond
 * the tolerance is a discontinuity, resolved by skipping ahead (time nobody heard) or by trimming
 * (time heard already), so the mapping never bends and errors never accumulate.
 *
 * Each connection's audio is a piece of the line (`place(..., newPiece)`). While a connection lasts,
 * its anchor may turn out to have been too late (the first audio of an HLS stream or of a loaded
 * machine arrived late): `retime` moves the whole piece earlier, so that audio already given to the
 * matcher gets its right time, instead of dropping new audio to catch up. A piece never moves before
 * the end of the audio heard before it.
 */
export class Timeline {
  private epoch: number | null = null;
  private position = 0;
  /** Where the current piece begins (matcher seconds), and the UTC it must not start before. */
  private pieceFromSec = 0;
  private floorMs = Number.NEGATIVE_INFINITY;
  private readonly earlier: Piece[] = [];

  constructor(
    readonly sampleRate: number,
    private readonly toleranceMs: number,
  ) {}

  /**
   * Places a chunk whose first sample aired at `utcStartMs`. `newPiece`: the chunk is the first placed
   * audio of a new connection (what comes from it on can be re-timed without moving what came before).
   */
  place(utcStartMs: number, sampleCount: number, newPiece = false): Placement {
    if (this.epoch === null) {
      this.epoch = utcStartMs;
      this.position = sampleCount / this.sampleRate;
      this.pieceFromSec = 0;
      return { skipSec: 0, trimSamples: 0 };
    }
    const endBefore = this.utcAt(this.position);
    const d = utcStartMs - endBefore;
    let skipSec = 0;
    let trimSamples = 0;
    if (d > this.toleranceMs) {
      skipSec = d / 1000;
      this.position += skipSec;
    } else if (d < -this.toleranceMs) {
      trimSamples = Math.min(sampleCount, Math.round((-d * this.sampleRate) / 1000));
    }
    if (newPiece) {
      this.earlier.push({ fromSec: this.pieceFromSec, epochMs: this.epoch });
      if (this.earlier.length > MAX_PIECES) this.earlier.shift();
      this.pieceFromSec = this.position;
      this.floorMs = endBefore;
    }
    this.position += (sampleCount - trimSamples) / this.sampleRate;
    return { skipSec, trimSamples };
  }

  /**
   * Moves the current piece `deltaMs` (< 0) earlier, as far as the audio before it allows. Returns
   * the shift applied (0 or negative) and the UTC where the piece began before it.
   */
  retime(deltaMs: number): { appliedMs: number; fromMs: number } {
    if (this.epoch === null) throw new Error('the timeline has not started');
    const fromMs = this.epoch + this.pieceFromSec * 1000;
    if (!(deltaMs < 0)) return { appliedMs: 0, fromMs };
    const lowest = this.floorMs - this.pieceFromSec * 1000;
    const epoch = Math.max(this.epoch + deltaMs, lowest);
    const appliedMs = Math.min(0, epoch - this.epoch);
    this.epoch += appliedMs;
    return { appliedMs, fromMs };
  }

  /** Advances without audio (e.g. to the start of a new connection decided elsewhere). */
  skip(seconds: number): void {
    if (this.epoch === null) throw new Error('the timeline has not started');
    this.position += seconds;
  }

  /** UTC (ms) of matcher time `t` seconds (on the piece that holds it). */
  utcAt(t: number): number {
    if (this.epoch === null) throw new Error('the timeline has not started');
    if (t >= this.pieceFromSec || this.earlier.length === 0) return this.epoch + t * 1000;
    for (let i = this.earlier.length - 1; i > 0; i--) {
      if (t >= this.earlier[i].fromSec) return this.earlier[i].epochMs + t * 1000;
    }
    return this.earlier[0].epochMs + t * 1000;
  }

  get started(): boolean {
    return this.epoch !== null;
  }

  /** UTC of matcher time 0 on the current piece's line (what batches of a session are timed by). */
  get epochMs(): number | null {
    return this.epoch;
  }

  /** Matcher time reached so far, seconds. */
  get positionSec(): number {
    return this.position;
  }

  /** UTC of the end of the audio placed so far; null before any. */
  get endMs(): number | null {
    return this.epoch === null ? null : this.utcAt(this.position);
  }
}
