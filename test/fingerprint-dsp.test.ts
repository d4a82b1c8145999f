import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPowerSpectrum } from '../src/fingerprint/fft.js';
import { decodePeaks, encodePeaks, extractPeaks, PeakExtractor, STFT } from '../src/fingerprint/index.js';
import { PeakPicker, parabolicOffset } from '../src/fingerprint/peaks.js';
import { MIN_BIN, NUM_BINS, Stft, type SpectrumFrame } from '../src/fingerprint/stft.js';

/** Deterministic test signal: a few drifting tones with envelopes plus a little noise (no Math.random). */
function testSignal(seconds: number, seed = 1): Float32Array {
  const sr = 8000;
  const out = new Float32Array(Math.round(seconds * sr));
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 2 - 1;
  for (let n = 0; n < out.length; n++) {
    const t = n / sr;
    const note = Math.floor(t * 4);
    const f1 = 220 * 2 ** (((note * 7) % 12) / 12);
    const f2 = 660 * 2 ** (((note * 5) % 12) / 12);
    const env = 0.5 + 0.5 * Math.cos(2 * Math.PI * 4 * t);
    out[n] = 0.3 * env * Math.sin(2 * Math.PI * f1 * t) + 0.2 * Math.sin(2 * Math.PI * f2 * t) + 0.01 * rnd();
  }
  return out;
}

function naiveDftPower(x: Float32Array, k: number): number {
  let re = 0;
  let im = 0;
  for (let n = 0; n < x.length; n++) {
    const ph = (-2 * Math.PI * k * n) / x.length;
    re += x[n] * Math.cos(ph);
    im += x[n] * Math.sin(ph);
  }
  return re * re + im * im;
}

describe('FFT power spectrum', () => {
  it.each(['pffft', 'fft.js'] as const)('%s matches a direct DFT', (backend) => {
    const x = testSignal(0.2).subarray(0, 1024);
    const ps = createPowerSpectrum(1024, backend);
    const out = new Float32Array(513);
    ps.input().set(x);
    const sum = ps.scaledPower(0, out, 1);
    const total = out.reduce((a, b) => a + b, 0);
    expect(Math.abs(sum - total)).toBeLessThanOrEqual(1e-9 * total);
    for (const k of [0, 1, 7, 28, 85, 256, 400, 511, 512]) {
      const ref = naiveDftPower(x, k);
      expect(Math.abs(out[k] - ref)).toBeLessThanOrEqual(1e-3 * Math.max(1, ref));
    }
  });
});

/**
 * Brute-force 2-D local maxima (+-7 frames, +-9 bins) of loud frames above twice their frame's mean:
 * strictly the largest within its own frame's window, and larger than every bin of the other frames'.
 */
function bruteForcePeakCount(frames: Float32Array[], loud: boolean[]): number {
  const tr = 7;
  const fr = 9;
  let count = 0;
  for (let t = 0; t < frames.length; t++) {
    if (!loud[t]) continue;
    const mean = frames[t].reduce((a, b) => a + b, 0) / NUM_BINS;
    for (let k = 1; k < NUM_BINS - 1; k++) {
      const v = frames[t][k];
      if (!(v > mean * 2)) continue;
      let isMax = true;
      for (let dt = -tr; dt <= tr && isMax; dt++) {
        const u = t + dt;
        if (u < 0 || u >= frames.length) continue;
        for (let dk = -fr; dk <= fr; dk++) {
          const q = k + dk;
          if (q < 0 || q >= NUM_BINS || (dt === 0 && dk === 0)) continue;
          if (dt === 0 ? frames[u][q] > v : frames[u][q] >= v) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) count++;
    }
  }
  return count;
}

describe('peak neighbourhoods', () => {
  it('equal the brute force on random frames full of ties', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 2, max: 6 }),
        (nFrames, seed, levels) => {
          let s = seed;
          const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
          const frames: Float32Array[] = [];
          const loud: boolean[] = [];
          const picker = new PeakPicker(1e9);
          let got = 0;
          for (let t = 0; t < nFrames; t++) {
            // few distinct levels, mostly low: equal neighbours everywhere, peaks rare
            const power = Float32Array.from({ length: NUM_BINS }, () => Math.floor(rnd() ** 4 * levels));
            frames.push(Float32Array.from(power));
            loud.push(rnd() < 0.9);
            got += picker.push({ index: t, power, totalDb: loud[t] ? 0 : -100 }).length;
          }
          got += picker.flush().length;
          expect(got).toBe(bruteForcePeakCount(frames, loud));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parabolic interpolation finds the vertex', () => {
    // y = -(x - 0.3)^2 sampled at -1, 0, 1
    expect(parabolicOffset(-(1.3 ** 2), -(0.3 ** 2), -(0.7 ** 2))).toBeCloseTo(0.3, 10);
    expect(parabolicOffset(1, 1, 1)).toBe(0);
  });
});

describe('peak picking', () => {
  it('finds exactly the brute-force 2-D local maxima before thinning', () => {
    const pcm = testSignal(3, 7);
    const frames: Float32Array[] = [];
    const loud: boolean[] = [];
    const stft = new Stft();
    const picker = new PeakPicker(1e9); // no thinning
    const got: { t: number; f: number }[] = [];
    stft.push(pcm, (fr: SpectrumFrame) => {
      frames.push(Float32Array.from(fr.power));
      loud.push(fr.totalDb > -66);
      got.push(...picker.push(fr));
    });
    got.push(...picker.flush());
    const expected = bruteForcePeakCount(frames, loud);
    expect(expected).toBeGreaterThan(20);
    expect(got.length).toBe(expected);
  });

  it('is deterministic and independent of how the audio is chunked', () => {
    const pcm = testSignal(6, 3);
    const whole = extractPeaks(pcm, 'query');
    const ex = new PeakExtractor('query');
    const parts: { t: number; f: number }[] = [];
    for (let i = 0; i < pcm.length; i += 777) ex.push(pcm.subarray(i, i + 777), parts);
    ex.flush(parts);
    expect(parts.sort((a, b) => a.t - b.t || a.f - b.f)).toEqual(whole);
    expect(extractPeaks(pcm, 'query')).toEqual(whole);
  });

  it('shifts by whole frames when the audio is delayed by whole hops', () => {
    const pcm = testSignal(5, 11);
    const hops = 40;
    const delayed = new Float32Array(pcm.length + hops * STFT.hopSamples);
    delayed.set(pcm, hops * STFT.hopSamples);
    const a = extractPeaks(pcm, 'query').filter((p) => p.t > 200 && p.t < 4 * 500);
    const b = new Set(extractPeaks(delayed, 'query').map((p) => `${p.t - hops * 8}:${p.f}`));
    // away from the edges (block thinning can differ there) the same peaks come back shifted
    const kept = a.filter((p) => b.has(`${p.t}:${p.f}`)).length;
    expect(kept / a.length).toBeGreaterThan(0.9);
  });

  it('gives no peaks for silence and fewer for the reference than for a query', () => {
    expect(extractPeaks(new Float32Array(8000 * 3))).toEqual([]);
    const pcm = testSignal(10, 5);
    expect(extractPeaks(pcm, 'reference').length).toBeLessThan(extractPeaks(pcm, 'query').length);
    expect(MIN_BIN).toBeGreaterThan(0);
  });

  it('round-trips through the storage codec', () => {
    const peaks = extractPeaks(testSignal(8, 9), 'reference');
    const bytes = encodePeaks(peaks);
    expect(decodePeaks(bytes)).toEqual(peaks);
    expect(bytes.length / peaks.length).toBeLessThan(4);
    expect(() => decodePeaks(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
  });
});
