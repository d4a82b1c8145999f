import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import FFT from 'fft.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as makeMusic } from '../scripts/synth/make-music.js';
import { planSong, synthesizeSong, SYNTH_VERSION } from '../scripts/synth/music.js';
import { Rng } from '../scripts/synth/prng.js';
import { encodeWav } from '../scripts/synth/wav.js';
import { decodeAudioFile, downmix, peak, resample, rmsDb } from '../src/audio/index.js';
import { bestCorrelation, ensureSongs } from './helpers/catalogue.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tyndau-synth-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prng', () => {
  it('is reproducible and looks uniform', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 20000 }, () => a.float());
    expect(xs.slice(0, 100)).toEqual(Array.from({ length: 100 }, () => b.float()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const buckets = new Array(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]++;
    for (const n of buckets) expect(Math.abs(n - 2000)).toBeLessThan(200);
    expect(new Rng(43).float()).not.toBe(new Rng(42).float());
    expect(() => new Rng(1.5)).toThrow(/integer/);
  });
});

describe('synthesizeSong', () => {
  it('is deterministic: the same seed gives byte-identical WAVs', async () => {
    const a = synthesizeSong(7, 6);
    const b = synthesizeSong(7, 6);
    expect(Buffer.compare(encodeWav([a.left, a.right], 44100), encodeWav([b.left, b.right], 44100))).toBe(0);
    // And through the CLI, as files.
    expect(await makeMusic(['--seed', '7', '--duration', '3', '--out', join(dir, 'a.wav')])).toBe(0);
    expect(await makeMusic(['--seed', '7', '--duration', '3', '--out', join(dir, 'b.wav')])).toBe(0);
    expect(readFileSync(join(dir, 'a.wav')).equals(readFileSync(join(dir, 'b.wav')))).toBe(true);
  });

  it('gives these exact samples for seed 1 (if the generator changed on purpose, bump SYNTH_VERSION and this hash)', () => {
    // Caches of test songs are keyed by SYNTH_VERSION: a silent change would leave stale files around.
    const s = synthesizeSong(1, 3);
    const digest = createHash('sha256')
      .update(encodeWav([s.left, s.right], 44100))
      .digest('hex');
    expect({ version: SYNTH_VERSION, digest }).toEqual({
      version: 1,
      digest: '0404c370f581f6effcb988b2eaba68ac4e21958ec1bf9dc170dc08336cbc4985',
    });
  });

  it('gives different songs for different seeds', () => {
    const seeds = [1, 2, 3, 4, 5];
    const plans = seeds.map((s) => planSong(s, 30));
    const tunings = new Set(plans.map((p) => p.tuningHz.toFixed(2)));
    expect(tunings.size).toBe(seeds.length);
    const mono = seeds.map((s) => {
      const x = synthesizeSong(s, 10, 22050);
      return resample(downmix([x.left, x.right]), 22050, 8000);
    });
    for (let i = 0; i < mono.length; i++) {
      for (let j = i + 1; j < mono.length; j++) {
        expect(Math.abs(bestCorrelation(mono[i], mono[j], 40).r)).toBeLessThan(0.3);
      }
    }
    for (const p of plans) {
      expect(p.tempoBpm).toBeGreaterThanOrEqual(80);
      expect(p.tempoBpm).toBeLessThanOrEqual(160);
    }
  });

  it('has many spectral peaks across 100-3500 Hz that change over time', () => {
    const rate = 11025;
    const n = 1024;
    const fft = new FFT(n);
    const spectrum = fft.createComplexArray() as number[];
    const frame = new Array<number>(n).fill(0);
    const bandEdges = [100, 200, 400, 800, 1600, 3500];
    for (const seed of [11, 12, 13]) {
      const s = synthesizeSong(seed, 20, 22050);
      const x = resample(downmix([s.left, s.right]), 22050, rate);
      const bandEnergy = new Array<number>(bandEdges.length - 1).fill(0);
      let total = 0;
      let frames = 0;
      let peaksSum = 0;
      let changedFrames = 0;
      let previous = new Set<number>();
      for (let start = 0; start + n <= x.length; start += n / 2) {
        for (let i = 0; i < n; i++) frame[i] = x[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
        fft.realTransform(spectrum, frame);
        const mag = new Float64Array(n / 2);
        let max = 0;
        for (let k = 0; k < n / 2; k++) {
          mag[k] = Math.hypot(spectrum[2 * k], spectrum[2 * k + 1]);
          max = Math.max(max, mag[k]);
          total += mag[k] ** 2;
        }
        for (let b = 0; b < bandEnergy.length; b++) {
          for (let k = Math.ceil((bandEdges[b] * n) / rate); k < (bandEdges[b + 1] * n) / rate; k++)
            bandEnergy[b] += mag[k] ** 2;
        }
        const peaks = new Set<number>();
        for (let k = 2; k < n / 2 - 2; k++) {
          const m = mag[k];
          if (m > max * 0.01 && m > mag[k - 1] && m >= mag[k + 1] && m > mag[k - 2] && m >= mag[k + 2])
            peaks.add(k);
        }
        let kept = 0;
        for (const p of peaks) if (previous.has(p)) kept++;
        if (kept < peaks.size / 2) changedFrames++;
        previous = peaks;
        peaksSum += peaks.size;
        frames++;
      }
      // Every octave band carries real energy, not one tone.
      for (const e of bandEnergy) expect(10 * Math.log10(e / total)).toBeGreaterThan(-30);
      expect(peaksSum / frames).toBeGreaterThan(10);
      expect(changedFrames / frames).toBeGreaterThan(0.1);
    }
  });

  it('never clips and is not quiet', () => {
    for (const [seed, sec] of [
      [21, 15],
      [22, 4],
      [23, 30],
    ]) {
      const s = synthesizeSong(seed, sec);
      expect(Math.max(peak(s.left), peak(s.right))).toBeLessThanOrEqual(1);
      expect(rmsDb(downmix([s.left, s.right]))).toBeGreaterThan(-30);
      // Stereo: the channels differ.
      expect(bestCorrelation(s.left.subarray(0, 20000), s.right.subarray(0, 20000), 0).r).toBeLessThan(0.999);
    }
  });

  it('is exactly as long as asked', () => {
    for (const [sec, rate] of [
      [1, 44100],
      [2.5, 44100],
      [7.3, 22050],
      [0.01, 48000],
      [3, 8000],
    ]) {
      const s = synthesizeSong(5, sec, rate);
      expect(s.left.length).toBe(Math.round(sec * rate));
      expect(s.right.length).toBe(s.left.length);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => synthesizeSong(1, 0)).toThrow(/durationSec/);
    expect(() => synthesizeSong(1, -5)).toThrow(/durationSec/);
    expect(() => synthesizeSong(1.5, 5)).toThrow(/seed/);
    expect(() => synthesizeSong(1, 5, 1000)).toThrow(/sampleRate/);
  });
});

describe('WAV files', () => {
  it('round-trip through ffmpeg to the same samples', async () => {
    const s = synthesizeSong(31, 2);
    const path = join(dir, 'rt.wav');
    expect(await makeMusic(['--seed', '31', '--duration', '2', '--out', path])).toBe(0);
    expect(statSync(path).size).toBe(44 + 2 * 44100 * 2 * 2);
    const decoded = await decodeAudioFile(path, { sampleRate: 44100, decoder: 'ffmpeg' });
    const mono = downmix([s.left, s.right]);
    let maxErr = 0;
    for (let i = 0; i < mono.length; i++) maxErr = Math.max(maxErr, Math.abs(decoded[i] - mono[i]));
    expect(decoded.length).toBe(mono.length);
    expect(maxErr).toBeLessThan(2 / 32767); // 16-bit quantisation
  });

  it('the CLI writes a batch and refuses bad arguments', async () => {
    const out = join(dir, 'batch');
    expect(
      await makeMusic(['--count', '2', '--dir', out, '--prefix', 'x-', '--seed', '40', '--duration', '1']),
    ).toBe(0);
    expect(statSync(join(out, 'x-40.wav')).size).toBe(44 + 44100 * 4);
    expect(statSync(join(out, 'x-41.wav')).size).toBe(44 + 44100 * 4);
    expect(await makeMusic(['--duration', '1'])).toBe(2);
    expect(await makeMusic(['--out', join(dir, 'x.wav'), '--duration', '-1'])).toBe(2);
    expect(await makeMusic(['--out', join(dir, 'x.wav'), '--count', '2', '--dir', out])).toBe(2);
  });

  it('ensureSongs caches by seed, duration and version', async () => {
    const first = await ensureSongs(2, 1.5, 900);
    expect(first.map((p) => p.split('/').at(-1))).toEqual([
      `song-v${SYNTH_VERSION}-s900-d1.5-r44100.wav`,
      `song-v${SYNTH_VERSION}-s901-d1.5-r44100.wav`,
    ]);
    const mtime = statSync(first[0]).mtimeMs;
    const again = await ensureSongs(2, 1.5, 900);
    expect(again).toEqual(first);
    expect(statSync(first[0]).mtimeMs).toBe(mtime);
  });
});
