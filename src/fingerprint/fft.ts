import FFT from 'fft.js';
import PFFFT from '@echogarden/pffft-wasm/simd';

/**
 * Real-input power spectrum. PFFFT compiled to WASM with SIMD is about 5x faster than fft.js here
 * (docs/benchmarks.md), and the FFT is half of fingerprinting time, so it is the default; fft.js is
 * the fallback where WASM SIMD is missing, and the reference in tests.
 */
export interface PowerSpectrum {
  readonly size: number;
  /** Writes |X[k]|^2 for k in [lo, lo + out.length) of the real signal `input` (length size). */
  power(input: Float32Array, lo: number, out: Float32Array): void;
}

interface PffftModule {
  _pffft_new_setup(n: number, kind: number): number;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_transform_ordered(
    setup: number,
    input: number,
    output: number,
    work: number,
    direction: number,
  ): void;
  HEAPF32: Float32Array;
}

let pffft: PffftModule | undefined;
try {
  pffft = (await PFFFT()) as PffftModule;
} catch {
  pffft = undefined;
}

class PffftPower implements PowerSpectrum {
  private readonly setup: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly work: number;

  constructor(
    private readonly mod: PffftModule,
    readonly size: number,
  ) {
    this.setup = mod._pffft_new_setup(size, 0 /* PFFFT_REAL */);
    this.inPtr = mod._pffft_aligned_malloc(size * 4);
    this.outPtr = mod._pffft_aligned_malloc(size * 4);
    this.work = mod._pffft_aligned_malloc(size * 4);
  }

  power(input: Float32Array, lo: number, out: Float32Array): void {
    const mod = this.mod;
    mod.HEAPF32.set(input, this.inPtr >> 2);
    mod._pffft_transform_ordered(this.setup, this.inPtr, this.outPtr, this.work, 0 /* PFFFT_FORWARD */);
    // the heap view may have been replaced if memory grew
    const heap = mod.HEAPF32;
    const base = this.outPtr >> 2;
    // ordered real output: [X0.re, X(N/2).re, X1.re, X1.im, X2.re, X2.im, ...]
    for (let i = 0; i < out.length; i++) {
      const k = lo + i;
      if (k === 0) out[i] = heap[base] * heap[base];
      else if (k === this.size / 2) out[i] = heap[base + 1] * heap[base + 1];
      else {
        const re = heap[base + 2 * k];
        const im = heap[base + 2 * k + 1];
        out[i] = re * re + im * im;
      }
    }
  }
}

class FftJsPower implements PowerSpectrum {
  private readonly fft: FFT;
  private readonly input: Float64Array;
  private readonly output: Float64Array;

  constructor(readonly size: number) {
    this.fft = new FFT(size);
    this.input = new Float64Array(size);
    this.output = new Float64Array(2 * size);
  }

  power(input: Float32Array, lo: number, out: Float32Array): void {
    this.input.set(input);
    this.fft.realTransform(this.output, this.input);
    const o = this.output;
    for (let i = 0; i < out.length; i++) {
      const k = 2 * (lo + i);
      out[i] = o[k] * o[k] + o[k + 1] * o[k + 1];
    }
  }
}

export type FftBackend = 'pffft' | 'fft.js';

export function createPowerSpectrum(size: number, backend?: FftBackend): PowerSpectrum {
  const want = backend ?? (pffft ? 'pffft' : 'fft.js');
  if (want === 'pffft') {
    if (!pffft) throw new Error('pffft-wasm could not be loaded (WebAssembly SIMD missing?): use fft.js');
    return new PffftPower(pffft, size);
  }
  return new FftJsPower(size);
}

export function defaultFftBackend(): FftBackend {
  return pffft ? 'pffft' : 'fft.js';
}
