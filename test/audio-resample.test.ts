import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { designLowpass, lowpassKernel, resample, resampledLength, Resampler } from '../src/audio/resample.js';
import { rms } from '../src/audio/signal.js';

function tone(freqHz: number, rate: number, samples: number, amplitude = 1): Float32Array {
  const x = new Float32Array(samples);
  for (let i = 0; i < samples; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate);
  return x;
}

/** The resampler's definition evaluated directly: every output is a sum over the kernel at its exact time. */
function directForm(x: Float32Array, inRate: number, outRate: number): Float64Array {
  const d = designLowpass(inRate, outRate);
  const out = new Float64Array(resampledLength(x.length, inRate, outRate));
  for (let n = 0; n < out.length; n++) {
    const t = (n * inRate) / outRate;
    let acc = 0;
    for (let k = Math.ceil(t - d.halfWidth); k <= Math.floor(t + d.halfWidth); k++) {
      if (k >= 0 && k < x.length) acc += x[k] * lowpassKernel(d, t - k);
    }
    out[n] = acc;
  }
  return out;
}

/** What a careless resampler does: linear interpolation, no low-pass. */
function linearInterpolation(x: Float32Array, inRate: number, outRate: number): Float32Array {
  const out = new Float32Array(resampledLength(x.length, inRate, outRate));
  for (let n = 0; n < out.length; n++) {
    const t = (n * inRate) / outRate;
    const i = Math.floor(t);
    const f = t - i;
    out[n] = (x[i] ?? 0) * (1 - f) + (x[i + 1] ?? 0) * f;
  }
  return out;
}

/** Level of the middle half of y relative to a full-scale sine, in dB (edges hold the filter's ramp). */
function levelDb(y: Float32Array): number {
  const mid = y.subarray(Math.floor(y.length / 4), Math.floor((3 * y.length) / 4));
  return 20 * Math.log10(rms(mid) / Math.SQRT1_2);
}

function mixed(samples: number): Float32Array {
  const x = new Float32Array(samples);
  for (let i = 0; i < samples; i++)
    x[i] = Math.sin(i * 0.013) + 0.4 * Math.sin(i * 0.31 + 1) + 0.2 * Math.sin(i * 1.9);
  return x;
}

describe('resampler', () => {
  it.each([
    [44100, 8000],
    [48000, 8000],
    [22050, 11025],
    [8000, 44100],
    [44100, 48000],
  ])('equals the direct evaluation of its filter, %i -> %i Hz', (inRate, outRate) => {
    const x = mixed(3000);
    const y = resample(x, inRate, outRate);
    const ref = directForm(x, inRate, outRate);
    expect(y.length).toBe(ref.length);
    let maxDiff = 0;
    for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i] - ref[i]));
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('interpolates phases closely for ratios with more than 1024 phases (44100 -> 7999 Hz)', () => {
    const x = mixed(2000);
    const y = resample(x, 44100, 7999);
    const ref = directForm(x, 44100, 7999);
    let maxDiff = 0;
    for (let i = 0; i < y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[i] - ref[i]));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('passes tones in the passband at unity gain', () => {
    for (const [inRate, outRate, freq] of [
      [44100, 8000, 1000],
      [44100, 8000, 3500],
      [48000, 8000, 250],
      [8000, 44100, 3500],
    ]) {
      expect(Math.abs(levelDb(resample(tone(freq, inRate, inRate), inRate, outRate)))).toBeLessThan(0.1);
    }
  });

  it('rejects tones above the output Nyquist by more than 60 dB, where linear interpolation aliases them', () => {
    for (const freq of [4300, 5000, 7000, 11000, 15000]) {
      const x = tone(freq, 44100, 44100);
      expect(levelDb(resample(x, 44100, 8000))).toBeLessThan(-60);
      // The same tones leak through a resampler without a low-pass: the test can tell the difference.
      expect(levelDb(linearInterpolation(x, 44100, 8000))).toBeGreaterThan(-30);
    }
  });

  it('gives the same samples whatever the input is cut into', () => {
    const x = mixed(6000);
    const whole = resample(x, 44100, 8000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2500 }), { minLength: 1, maxLength: 12 }), (cuts) => {
        const r = new Resampler(44100, 8000);
        const parts: Float32Array[] = [];
        let at = 0;
        for (let i = 0; at < x.length; i++) {
          const n = cuts[i % cuts.length];
          parts.push(r.process(x.subarray(at, at + n)));
          at += n;
        }
        parts.push(r.flush());
        const joined = Float32Array.from(parts.flatMap((p) => Array.from(p)));
        expect(joined).toEqual(whole);
      }),
      { numRuns: 25 },
    );
  });

  it('makes ceil(n * out / in) samples and keeps time: a click stays where it was', () => {
    expect(resample(new Float32Array(44100), 44100, 8000).length).toBe(8000);
    expect(resample(new Float32Array(44101), 44100, 8000).length).toBe(8001);
    expect(resample(new Float32Array(1), 44100, 8000).length).toBe(1);
    expect(resample(new Float32Array(0), 44100, 8000).length).toBe(0);
    const click = new Float32Array(44100);
    click[22050] = 1; // 0.5 s
    const y = resample(click, 44100, 8000);
    let at = 0;
    for (let i = 1; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[at])) at = i;
    expect(at).toBe(4000);
  });

  it('copies when the rates are equal and rejects impossible rates', () => {
    const x = mixed(100);
    const y = resample(x, 8000, 8000);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    expect(() => resample(x, 0, 8000)).toThrow(RangeError);
    expect(() => resample(x, 44100, 8000.5)).toThrow(/whole number/);
    expect(() => new Resampler(44100, 8000, { stopbandDb: 5 })).toThrow(/stopbandDb/);
  });
});
