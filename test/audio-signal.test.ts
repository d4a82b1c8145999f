import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FloatChunker, PcmChunker } from '../src/audio/chunker.js';
import {
  concatPcm,
  downmix,
  findSilence,
  isSilent,
  peak,
  peakDb,
  rms,
  rmsDb,
  SoundSpanMeter,
} from '../src/audio/signal.js';

function sine(freqHz: number, rate: number, samples: number, amplitude: number): Float32Array {
  const x = new Float32Array(samples);
  for (let i = 0; i < samples; i++) x[i] = amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate);
  return x;
}

describe('signal helpers', () => {
  it('down-mixes by averaging the channels', () => {
    const l = Float32Array.from([1, 0.5, -1, 0]);
    const r = Float32Array.from([0, 0.5, 1, -0.5]);
    expect(Array.from(downmix([l, r]))).toEqual([0.5, 0.5, 0, -0.25]);
    // Identical channels keep their level (no +3 dB).
    const s = sine(440, 8000, 8000, 0.5);
    expect(rms(downmix([s, s]))).toBeCloseTo(rms(s), 6);
    expect(downmix([l])).toEqual(l);
    expect(() => downmix([])).toThrow(/no channels/);
    expect(() => downmix([l, new Float32Array(3)])).toThrow(/length/);
  });

  it('measures RMS and peak', () => {
    const s = sine(100, 8000, 8000, 0.5); // a whole number of cycles
    expect(rms(s)).toBeCloseTo(0.5 / Math.SQRT2, 5);
    expect(peak(s)).toBeCloseTo(0.5, 3);
    expect(rmsDb(s)).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 3);
    expect(peakDb(Float32Array.from([0.25, -1]))).toBeCloseTo(0, 6);
    expect(rms(new Float32Array(0))).toBe(0);
    expect(rmsDb(new Float32Array(10))).toBe(-Infinity);
  });

  it('calls a buffer silent when its RMS is below the threshold', () => {
    const quiet = sine(440, 8000, 800, 0.001); // about -63 dBFS
    expect(isSilent(quiet, -60)).toBe(true);
    expect(isSilent(quiet, -70)).toBe(false);
    expect(isSilent(new Float32Array(100), -90)).toBe(true);
    expect(isSilent(new Float32Array(0), -60)).toBe(true);
  });

  it('finds silent spans at least minDurationSec long', () => {
    const rate = 1000;
    const x = concatPcm([
      sine(50, rate, 1000, 0.5),
      new Float32Array(2000), // 1.0 - 3.0 s
      sine(50, rate, 500, 0.5),
      new Float32Array(300), // 3.5 - 3.8 s: too short
      sine(50, rate, 500, 0.5),
      new Float32Array(1500), // 4.3 - 5.8 s, to the end
    ]);
    const spans = findSilence(x, rate, { thresholdDb: -50, minDurationSec: 0.5, windowSec: 0.1 });
    expect(spans).toEqual([
      { startSec: 1, endSec: 3 },
      { startSec: 4.3, endSec: 5.8 },
    ]);
  });

  it('finds where a sound is audible, streamed in chunks of any size, as block-by-block RMS over the whole buffer says', () => {
    const rate = 1000;
    // 0.5 s of silence, a tone, a tail 55 dB down (below -50 dBFS), silence
    const x = concatPcm([
      new Float32Array(500),
      sine(50, rate, 2000, 0.5),
      sine(50, rate, 700, 0.5 * 10 ** (-55 / 20)),
      new Float32Array(400),
    ]);
    const opts = { blockSec: 0.05, audibleDbfs: -50 };
    const whole = new SoundSpanMeter(rate, opts);
    whole.push(x);
    expect(whole.result()).toEqual({ startSec: 0.5, endSec: 2.5 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 12 }), (cuts) => {
        const m = new SoundSpanMeter(rate, opts);
        let at = 0;
        for (const n of [...cuts, x.length]) {
          m.push(x.subarray(at, Math.min(x.length, at + n)));
          at = Math.min(x.length, at + n);
        }
        expect(m.result()).toEqual({ startSec: 0.5, endSec: 2.5 });
      }),
    );
    const silent = new SoundSpanMeter(rate, opts);
    silent.push(new Float32Array(3000));
    expect(silent.result()).toBeNull();
  });
});

describe('chunkers', () => {
  it('reassemble f32le bytes cut anywhere into fixed-size chunks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.integer({ min: 1, max: 999 }), { minLength: 1, maxLength: 8 }),
        (samples, chunkSamples, cuts) => {
          const source = Float32Array.from({ length: samples }, (_, i) => Math.sin(i) * (i % 7));
          const bytes = new Uint8Array(source.buffer);
          const c = new PcmChunker(chunkSamples);
          const out: Float32Array[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length];
            out.push(...c.push(bytes.subarray(at, at + n)));
            at += n;
          }
          const last = c.flush();
          if (last) out.push(last);
          for (let i = 0; i < out.length - 1; i++) expect(out[i].length).toBe(chunkSamples);
          expect(concatPcm(out)).toEqual(source);
          expect(c.samplesIn).toBe(samples);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('drop a trailing partial sample', () => {
    const c = new PcmChunker(4);
    c.push(new Uint8Array(new Float32Array([1, 2]).buffer));
    c.push(new Uint8Array([1, 2, 3]));
    expect(Array.from(c.flush()!)).toEqual([1, 2]);
    expect(c.flush()).toBeNull();
  });

  it('regroup float arrays', () => {
    const c = new FloatChunker(3);
    const out = [...c.push(Float32Array.from([1, 2])), ...c.push(Float32Array.from([3, 4, 5, 6, 7]))];
    expect(out.map((a) => Array.from(a))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(Array.from(c.flush()!)).toEqual([7]);
    expect(() => new FloatChunker(0)).toThrow(RangeError);
  });
});
