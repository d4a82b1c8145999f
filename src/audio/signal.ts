/** Small signal helpers on mono or multi-channel float PCM. Pure: no I/O. */

/** Averages the channels into one (the same mix ffmpeg's `-ac 1` makes for stereo). */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new RangeError('downmix: no channels given');
  const length = channels[0].length;
  for (const ch of channels) {
    if (ch.length !== length) throw new RangeError('downmix: channels differ in length');
  }
  if (channels.length === 1) return channels[0].slice();
  const out = new Float32Array(length);
  const gain = 1 / channels.length;
  for (const ch of channels) {
    for (let i = 0; i < length; i++) out[i] += ch[i] * gain;
  }
  return out;
}

/** Root mean square; 0 for an empty buffer. */
export function rms(pcm: Float32Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return Math.sqrt(sum / pcm.length);
}

/** Largest absolute sample value; 0 for an empty buffer. */
export function peak(pcm: Float32Array): number {
  let max = 0;
  for (let i = 0; i < pcm.length; i++) {
    const a = Math.abs(pcm[i]);
    if (a > max) max = a;
  }
  return max;
}

/** Amplitude to decibels relative to full scale (1.0); -Infinity for 0. */
export function toDb(amplitude: number): number {
  return 20 * Math.log10(amplitude);
}

export function rmsDb(pcm: Float32Array): number {
  return toDb(rms(pcm));
}

export function peakDb(pcm: Float32Array): number {
  return toDb(peak(pcm));
}

/** True when the RMS level is below thresholdDb (dBFS, e.g. -60). An empty buffer is silent. */
export function isSilent(pcm: Float32Array, thresholdDb: number): boolean {
  return rmsDb(pcm) < thresholdDb;
}

export interface SilentSpan {
  startSec: number;
  endSec: number;
}

/** Where a sound is audible (SoundSpanMeter): the same shape as a silent span. */
export type SoundSpan = SilentSpan;

export interface SilenceOptions {
  /** RMS level below which a window counts as silent, in dBFS. */
  thresholdDb: number;
  /** Only spans at least this long are reported. */
  minDurationSec: number;
  /** Analysis window; default 0.1 s. */
  windowSec?: number;
}

/**
 * Silent stretches of a buffer, window by window (a trailing partial window counts too).
 * Boundaries are quantised to the window.
 */
export function findSilence(pcm: Float32Array, sampleRate: number, opts: SilenceOptions): SilentSpan[] {
  const windowSamples = Math.max(1, Math.round((opts.windowSec ?? 0.1) * sampleRate));
  const spans: SilentSpan[] = [];
  let runStart = -1;
  const close = (endSample: number): void => {
    if (runStart < 0) return;
    const span = { startSec: runStart / sampleRate, endSec: endSample / sampleRate };
    if (span.endSec - span.startSec >= opts.minDurationSec) spans.push(span);
    runStart = -1;
  };
  for (let start = 0; start < pcm.length; start += windowSamples) {
    const end = Math.min(pcm.length, start + windowSamples);
    if (isSilent(pcm.subarray(start, end), opts.thresholdDb)) {
      if (runStart < 0) runStart = start;
    } else {
      close(start);
    }
  }
  close(pcm.length);
  return spans;
}

/**
 * Where a sound is audible, streamed: the first and the last block of `blockSec` whose RMS level is
 * above `audibleDbfs` (a trailing partial block counts too). Pushed chunks may be any length; memory
 * stays constant. A recording's span is what the matcher extends a play to at its own start and end.
 */
export class SoundSpanMeter {
  private readonly blockSamples: number;
  private readonly threshold: number;
  private sum = 0;
  private filled = 0;
  private samples = 0;
  private first = -1;
  private last = -1;

  constructor(
    private readonly sampleRate: number,
    opts: { blockSec: number; audibleDbfs: number },
  ) {
    this.blockSamples = Math.max(1, Math.round(opts.blockSec * sampleRate));
    this.threshold = Math.pow(10, opts.audibleDbfs / 10);
  }

  push(pcm: Float32Array): void {
    for (let i = 0; i < pcm.length; i++) {
      this.sum += pcm[i] * pcm[i];
      if (++this.filled === this.blockSamples) this.closeBlock();
    }
  }

  /** The audible span in seconds, or null if no block was audible. */
  result(): SoundSpan | null {
    if (this.filled > 0) this.closeBlock();
    return this.first < 0
      ? null
      : { startSec: this.first / this.sampleRate, endSec: this.last / this.sampleRate };
  }

  private closeBlock(): void {
    const start = this.samples;
    this.samples += this.filled;
    if (this.sum / this.filled > this.threshold) {
      if (this.first < 0) this.first = start;
      this.last = this.samples;
    }
    this.sum = 0;
    this.filled = 0;
  }
}

/** Joins chunks into one buffer. */
export function concatPcm(chunks: readonly Float32Array[]): Float32Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Float32Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
