import { STFT, ANALYSIS_SAMPLE_RATE } from './config.js';
import { createPowerSpectrum, type FftBackend } from './fft.js';

export const BIN_HZ = ANALYSIS_SAMPLE_RATE / STFT.fftSize;
export const MIN_BIN = Math.ceil(STFT.minFreqHz / BIN_HZ);
export const MAX_BIN = Math.floor(STFT.maxFreqHz / BIN_HZ);
export const NUM_BINS = MAX_BIN - MIN_BIN + 1;

/** One STFT frame: power of bins MIN_BIN..MAX_BIN (1 = a full-scale sine) and the frame's total power in dB. */
export interface SpectrumFrame {
  index: number;
  power: Float32Array;
  totalDb: number;
}

function hann(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/**
 * Streaming short-time Fourier transform. Frame f covers samples [f*hop, f*hop + fftSize);
 * its centre is at (f*hop + fftSize/2) samples. Any chunking of the same samples gives the same frames.
 */
export class Stft {
  private readonly n = STFT.fftSize;
  private readonly hop = STFT.hopSamples;
  private readonly spectrum;
  private readonly window = hann(STFT.fftSize);
  /** Power of a full-scale sine's peak bin, so that log power 0 means 0 dBFS. */
  private readonly invNorm = 1 / (STFT.fftSize / 4) ** 2;
  private readonly power = new Float32Array(NUM_BINS);
  /** Samples not yet consumed by a frame start; `pending[pos]` is the next frame's first sample. */
  private pending = new Float32Array(STFT.fftSize * 4);
  private fill = 0;
  private pos = 0;
  private frameIndex = 0;

  constructor(backend?: FftBackend) {
    this.spectrum = createPowerSpectrum(STFT.fftSize, backend);
  }

  /** Feeds samples; calls onFrame for every completed frame. The frame's arrays are reused: copy to keep. */
  push(samples: Float32Array, onFrame: (frame: SpectrumFrame) => void): void {
    let offset = 0;
    while (offset < samples.length) {
      if (this.fill === this.pending.length) this.compact();
      const take = Math.min(samples.length - offset, this.pending.length - this.fill);
      this.pending.set(samples.subarray(offset, offset + take), this.fill);
      this.fill += take;
      offset += take;
      while (this.fill - this.pos >= this.n) {
        onFrame(this.compute(this.pos));
        this.pos += this.hop;
      }
    }
  }

  private compact(): void {
    const keep = this.pending.subarray(this.pos, this.fill);
    if (this.pos === 0) {
      const bigger = new Float32Array(this.pending.length * 2);
      bigger.set(keep);
      this.pending = bigger;
    } else {
      this.pending.copyWithin(0, this.pos, this.fill);
    }
    this.fill -= this.pos;
    this.pos = 0;
  }

  private compute(start: number): SpectrumFrame {
    const { n, window, pending } = this;
    const input = this.spectrum.input();
    for (let i = 0; i < n; i++) input[i] = pending[start + i] * window[i];
    const total = this.spectrum.scaledPower(MIN_BIN, this.power, this.invNorm);
    return { index: this.frameIndex++, power: this.power, totalDb: 10 * Math.log10(total + 1e-12) };
  }

  get framesEmitted(): number {
    return this.frameIndex;
  }
}
