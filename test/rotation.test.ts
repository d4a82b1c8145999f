import { describe, expect, it } from 'vitest';
import { QUANT, ROTATION, type Peak } from '../src/fingerprint/index.js';
import { Rotation } from '../src/match/rotation.js';

const TU = QUANT.timeUnitsPerFrame;
const FU = QUANT.freqUnitsPerOctave;

/** sfc32: a seeded generator, so every run draws the same constellations. */
function rng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed;
  return () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** A reference constellation: ~14 peaks a second over `frames`, frequencies over ~4.5 octaves. */
function constellation(r: () => number, frames: number, perSec = 14): Peak[] {
  const n = Math.round((frames / 62.5) * perSec);
  const peaks = Array.from({ length: n }, () => ({
    t: Math.floor(r() * frames * TU),
    f: Math.floor(r() * 4.5 * FU),
  }));
  return peaks.sort((x, y) => x.t - y.t || x.f - y.f);
}

/**
 * The reference aired at `b` query frames per reference frame from query frame `a`, over reference
 * frames [r0, r1), with a share `keep` of its peaks surviving (the rest lost under a voice) and
 * `noise` extra peaks a second (the voice's own), all sorted by time.
 */
function airing(
  r: () => number,
  ref: Peak[],
  opts: { a: number; b: number; pitchUnits: number; r0: number; r1: number; keep: number; noise: number },
): Peak[] {
  const out: Peak[] = [];
  for (const p of ref) {
    const fr = p.t / TU;
    if (fr < opts.r0 || fr >= opts.r1 || r() > opts.keep) continue;
    // peak positions jitter by up to a quarter frame and a few freq units between analyses
    out.push({
      t: Math.round((opts.a + opts.b * fr + (r() - 0.5) * 0.5) * TU),
      f: Math.round(p.f + opts.pitchUnits + (r() - 0.5) * 6),
    });
  }
  const q0 = opts.a + opts.b * opts.r0;
  const q1 = opts.a + opts.b * opts.r1;
  const extra = Math.round(((q1 - q0) / 62.5) * opts.noise);
  for (let i = 0; i < extra; i++)
    out.push({ t: Math.floor((q0 + r() * (q1 - q0)) * TU), f: Math.floor(r() * 4.5 * FU) });
  return out.sort((x, y) => x.t - y.t || x.f - y.f);
}

describe('rotation search', () => {
  const frames = 180 * 62.5; // a 3-minute recording

  it('finds a recording it aired, from a third of its peaks under as many others, at the right alignment', () => {
    const r = rng(1);
    const ref = constellation(r, frames);
    const rot = new Rotation<string>();
    rot.note('A', ref, frames, 1, 0, 0);
    // 4 s of it, from reference second 60, at query second 300; 30 % of its peaks survive
    const a = 300 * 62.5 - 60 * 62.5;
    const q = airing(r, ref, { a, b: 1, pitchUnits: 0, r0: 60 * 62.5, r1: 64 * 62.5, keep: 0.3, noise: 25 });
    const found = rot.search(q, 300 * 62.5, 304 * 62.5);
    expect(found).toHaveLength(1);
    expect(found[0].key).toBe('A');
    expect(Math.abs(found[0].a - a)).toBeLessThanOrEqual(ROTATION.offsetBinFrames * 2);
    expect(found[0].votes).toBeGreaterThanOrEqual(12);
    expect(found[0].votes).toBeGreaterThan(found[0].expected * 4);
    // every point it returns lies on that alignment
    for (const p of found[0].points) expect(Math.abs(p.tq / TU - (a + p.tr))).toBeLessThanOrEqual(5);
  });

  it('follows the speed and pitch a recording aired at (a station playing it 3 % fast)', () => {
    const r = rng(2);
    const ref = constellation(r, frames);
    const b = 1 / 1.03;
    const pitchUnits = Math.log2(1.03) * FU;
    const a = 1000 - 30 * 62.5 * b;
    const q = airing(r, ref, { a, b, pitchUnits, r0: 30 * 62.5, r1: 35 * 62.5, keep: 0.35, noise: 25 });
    const from = a + 30 * 62.5 * b;
    const to = from + 4 * 62.5;
    const atSpeed = new Rotation<string>();
    atSpeed.note('A', ref, frames, b, pitchUnits, 0);
    const found = atSpeed.search(q, from, to);
    expect(found.map((c) => c.key)).toEqual(['A']);
    expect(Math.abs(found[0].a - a)).toBeLessThanOrEqual(4);
    // noted at the nominal speed, the same airing drifts over the window and its pitch is off by half a semitone
    const nominal = new Rotation<string>();
    nominal.note('A', ref, frames, 1, 0, 0);
    const off = nominal.search(q, from, to);
    expect(off.length === 0 || off[0].votes < found[0].votes / 2).toBe(true);
  });

  it('proposes nothing for audio of other recordings or for peaks of no music', () => {
    const r = rng(3);
    const rot = new Rotation<string>();
    for (const k of ['A', 'B', 'C', 'D']) rot.note(k, constellation(r, frames), frames, 1, 0, 0);
    let proposed = 0;
    for (let w = 0; w < 200; w++) {
      const other = constellation(r, frames);
      const q = airing(r, other, { a: w * 250, b: 1, pitchUnits: 0, r0: 0, r1: 250, keep: 1, noise: 10 });
      const cs = rot.search(q, w * 250, w * 250 + 250);
      if (process.env.DBG) for (const c of cs) console.log(c.votes, c.expected.toFixed(2), q.length);
      proposed += cs.length;
    }
    // 800 searches of 4 s against recordings that are not there: a handful of candidates at most,
    // which the spectrum then judges
    expect(proposed).toBeLessThanOrEqual(8);
  });

  it('keeps the most recently heard recordings, forgets those not heard within the horizon, and skips what it is told to', () => {
    const r = rng(4);
    const rot = new Rotation<string>(3, 1000);
    const refs = new Map(['A', 'B', 'C', 'D'].map((k) => [k, constellation(r, frames)] as const));
    rot.note('A', refs.get('A')!, frames, 1, 0, 0);
    rot.note('B', refs.get('B')!, frames, 1, 0, 100);
    rot.note('C', refs.get('C')!, frames, 1, 0, 200);
    rot.note('A', refs.get('A')!, frames, 1, 0, 300); // heard again: moves to the front
    rot.note('D', refs.get('D')!, frames, 1, 0, 400); // over capacity: B, the least recent, goes
    expect(['A', 'B', 'C', 'D'].filter((k) => rot.has(k))).toEqual(['A', 'C', 'D']);
    rot.expire(1250); // C was last heard at 200
    expect(['A', 'C', 'D'].filter((k) => rot.has(k))).toEqual(['A', 'D']);
    const q = airing(r, refs.get('D')!, {
      a: 2000,
      b: 1,
      pitchUnits: 0,
      r0: 0,
      r1: 250,
      keep: 0.4,
      noise: 20,
    });
    expect(rot.search(q, 2000, 2250).map((c) => c.key)).toEqual(['D']);
    expect(rot.search(q, 2000, 2250, (k) => k === 'D')).toEqual([]);
  });
});
