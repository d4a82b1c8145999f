/** Dead-air detection over PCM: RMS per short window against a threshold, with a minimum duration. */

export type SilenceEvent =
  /** Silence has lasted the minimum duration; it began at `atMs`. */
  | { type: 'silence-start'; atMs: number }
  /** Sound is back at `atMs` (or audio stopped there, see `interrupt`). */
  | { type: 'silence-end'; atMs: number };

export interface SilencePolicy {
  silenceThresholdDb: number;
  silenceMinSec: number;
}

/** Window over which the RMS level is measured. */
export const SILENCE_WINDOW_SEC = 0.5;

export class SilenceDetector {
  private readonly windowSamples: number;
  private readonly threshold: number;
  private sumSquares = 0;
  private filled = 0;
  /** UTC of the current window's first sample. */
  private windowStartMs: number | null = null;
  /** UTC at which the current run of silent windows began, if in one. */
  private runStartMs: number | null = null;
  private confirmed = false;

  constructor(
    readonly sampleRate: number,
    private readonly policy: SilencePolicy,
  ) {
    this.windowSamples = Math.max(1, Math.round(sampleRate * SILENCE_WINDOW_SEC));
    // compare mean squares to avoid a sqrt and a log per window
    this.threshold = 10 ** (policy.silenceThresholdDb / 10);
  }

  /** Consumes a chunk whose first sample is at UTC `startMs`; returns the events it caused. */
  push(pcm: Float32Array, startMs: number): SilenceEvent[] {
    const events: SilenceEvent[] = [];
    const msPerSample = 1000 / this.sampleRate;
    let i = 0;
    while (i < pcm.length) {
      if (this.filled === 0) this.windowStartMs = startMs + i * msPerSample;
      const n = Math.min(pcm.length - i, this.windowSamples - this.filled);
      let s = this.sumSquares;
      for (let k = i; k < i + n; k++) s += pcm[k] * pcm[k];
      this.sumSquares = s;
      this.filled += n;
      i += n;
      if (this.filled === this.windowSamples) {
        this.closeWindow(events);
      }
    }
    return events;
  }

  private closeWindow(events: SilenceEvent[]): void {
    const silent = this.sumSquares / this.windowSamples < this.threshold;
    const at = this.windowStartMs!;
    if (silent) {
      this.runStartMs ??= at;
      const runMs = at + SILENCE_WINDOW_SEC * 1000 - this.runStartMs;
      if (!this.confirmed && runMs >= this.policy.silenceMinSec * 1000) {
        this.confirmed = true;
        events.push({ type: 'silence-start', atMs: this.runStartMs });
      }
    } else {
      if (this.confirmed) events.push({ type: 'silence-end', atMs: at });
      this.runStartMs = null;
      this.confirmed = false;
    }
    this.sumSquares = 0;
    this.filled = 0;
  }

  /** The audio from `fromMs` on was re-timed by `deltaMs` (its connection's anchor was corrected). */
  shift(fromMs: number, deltaMs: number): void {
    if (this.windowStartMs !== null && this.windowStartMs >= fromMs) this.windowStartMs += deltaMs;
    if (this.runStartMs !== null && this.runStartMs >= fromMs) this.runStartMs += deltaMs;
  }

  /** Audio stopped at `atMs` (a discontinuity): ends a confirmed silence there and forgets partial state. */
  interrupt(atMs: number): SilenceEvent[] {
    const events: SilenceEvent[] = this.confirmed ? [{ type: 'silence-end', atMs }] : [];
    this.sumSquares = 0;
    this.filled = 0;
    this.runStartMs = null;
    this.confirmed = false;
    return events;
  }

  get silent(): boolean {
    return this.confirmed;
  }
}
