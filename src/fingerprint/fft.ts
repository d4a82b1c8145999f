import FFT from 'fft.js';
import PFFFT from '@echogarden/pffft-wasm/simd';

/**
 * Real-input power spectrum. PFFFT compiled to WASM with SIMD is about 5x faster than fft.js here
 * (docs/recognition.md), so it is the default; fft.js is the fallback where WASM SIMD is missing,
 * and the reference in tests.
 */
export interface PowerSpectrum {
  readonly size: number;
  /** The array the next transform reads (length size): the caller fills it in place, no copy. */
  input(): Float32Array;
  /**
   * Transforms what `input()` holds; writes |X[k]|^2 (rounded to float32) times `scale` for k in
   * [lo, lo + out.length) and returns their sum.
   */
  scaledPower(lo: number, out: Float32Array, scale: number): number;
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
  private inView: Float32Array | undefined;

  constructor(
    private readonly mod: PffftModule,
    readonly size: number,
  ) {
    this.setup = mod._pffft_new_setup(size, 0 /* PFFFT_REAL */);
    this.inPtr = mod._pffft_aligned_malloc(size * 4);
    this.outPtr = mod._pffft_aligned_malloc(size * 4);
    this.work = mod._pffft_aligned_malloc(size * 4);
  }

  input(): Float32Array {
    const heap = this.mod.HEAPF32;
    if (this.inView?.buffer !== heap.buffer)
      this.inView = heap.subarray(this.inPtr >> 2, (this.inPtr >> 2) + this.size);
    return this.inView;
  }

  scaledPower(lo: number, out: Float32Array, scale: number): number {
    const mod = this.mod;
    mod._pffft_transform_ordered(this.setup, this.inPtr, this.outPtr, this.work, 0 /* PFFFT_FORWARD */);
    // the heap view may have been replaced if memory grew
    const heap = mod.HEAPF32;
    const base = this.outPtr >> 2;
    const half = this.size / 2;
    // ordered real output: [X0.re, X(N/2).re, X1.re, X1.im, X2.re, X2.im, ...]; bins 0 and N/2 are real
    const end = lo + out.length;
    const first = lo > 1 ? lo : 1;
    const last = end < half ? end : half;
    let sum = 0;
    for (let k = first; k < last; k++) {
      const re = heap[base + 2 * k];
      const im = heap[base + 2 * k + 1];
      const p = Math.fround(re * re + im * im) * scale;
      out[k - lo] = p;
      sum += p;
    }
    if (lo === 0) sum += this.realBin(heap[base], 0, out, scale);
    if (half >= lo && half < end) sum += this.realBin(heap[base + 1], half - lo, out, scale);
    return sum;
  }

  private realBin(x: number, i: number, out: Float32Array, scale: number): number {
    const p = Math.fround(x * x) * scale;
    out[i] = p;
    return p;
  }
}

class FftJsPower implements PowerSpectrum {
  private readonly fft: FFT;
  private readonly in32: Float32Array;
  private readonly input64: Float64Array;
  private readonly output: Float64Array;

  constructor(readonly size: number) {
    this.fft = new FFT(size);
    this.in32 = new Float32Array(size);
    this.input64 = new Float64Array(size);
    this.output = new Float64Array(2 * size);
  }

  input(): Float32Array {
    return this.in32;
  }

  scaledPower(lo: number, out: Float32Array, scale: number): number {
    this.input64.set(this.in32);
    this.fft.realTransform(this.output, this.input64);
    const o = this.output;
    let sum = 0;
    for (let i = 0; i < out.length; i++) {
      const k = 2 * (lo + i);
      const p = Math.fround(o[k] * o[k] + o[k + 1] * o[k + 1]) * scale;
      out[i] = p;
      sum += p;
    }
    return sum;
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
