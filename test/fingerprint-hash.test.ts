import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HASH,
  HASH_SPACE,
  packAux,
  queryHashes,
  tripletHash,
  unpackAux,
  type Peak,
} from '../src/fingerprint/index.js';

const TU = 8;
const FU = 1024;

const triplet = fc
  .record({
    tA: fc.integer({ min: 0, max: 100_000 }),
    fA: fc.integer({ min: 200, max: 4000 }),
    dt1: fc.integer({ min: 4 * TU, max: 60 * TU }),
    dt2extra: fc.integer({ min: 0, max: 14 * TU }),
    df1: fc.integer({ min: -1400, max: 1400 }),
    df2: fc.integer({ min: -1400, max: 1400 }),
  })
  .map(({ tA, fA, dt1, dt2extra, df1, df2 }) => {
    const A: Peak = { t: tA, f: fA };
    const P1: Peak = { t: tA + dt1, f: Math.max(0, fA + df1) };
    const P2: Peak = { t: tA + dt1 + dt2extra, f: Math.max(0, fA + df2) };
    return [A, P1, P2] as const;
  });

function transform(p: Peak, origin: number, timeScale: number, pitchOctaves: number): Peak {
  return { t: Math.round(origin + (p.t - origin) * timeScale), f: Math.round(p.f + pitchOctaves * FU) };
}

describe('triplet hashes', () => {
  it('fit the hash space', () => {
    fc.assert(
      fc.property(triplet, ([A, P1, P2]) => {
        const h = tripletHash(A, P1, P2);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(HASH_SPACE);
      }),
    );
  });

  it('a query made faster or slower (pitch and tempo together) still looks up the reference hash', () => {
    fc.assert(
      fc.property(triplet, fc.double({ min: 0.95, max: 1.05, noNaN: true }), ([A, P1, P2], speed) => {
        const ref = tripletHash(A, P1, P2);
        // played at `speed`: times shrink by 1/speed, frequencies rise by log2(speed) octaves
        const q = [A, P1, P2].map((p) => transform(p, A.t, 1 / speed, Math.log2(speed)));
        const out: number[] = [];
        queryHashes(q[0], q[1], q[2], out);
        expect(out).toContain(ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('a tempo-only stretch (pitch kept) still looks up the reference hash', () => {
    fc.assert(
      fc.property(triplet, fc.double({ min: 0.95, max: 1.05, noNaN: true }), ([A, P1, P2], tempo) => {
        const ref = tripletHash(A, P1, P2);
        const q = [A, P1, P2].map((p) => transform(p, A.t, 1 / tempo, 0));
        const out: number[] = [];
        queryHashes(q[0], q[1], q[2], out);
        expect(out).toContain(ref);
      }),
      { numRuns: 2000 },
    );
  });

  it('different triplets mostly give different hashes', () => {
    const seen = new Set<number>();
    let n = 0;
    fc.assert(
      fc.property(triplet, ([A, P1, P2]) => {
        seen.add(tripletHash(A, P1, P2));
        n++;
      }),
      { numRuns: 3000 },
    );
    expect(seen.size / n).toBeGreaterThan(0.85);
  });

  it('aux keeps the anchor frequency and triplet length', () => {
    fc.assert(
      fc.property(triplet, ([A, P1, P2]) => {
        const h = tripletHash(A, P1, P2);
        const { anchorF, dtUnits } = unpackAux(h, packAux(P2.t - A.t, A.f));
        expect(Math.abs(anchorF - A.f)).toBeLessThanOrEqual(1);
        expect(Math.abs(dtUnits - (P2.t - A.t))).toBeLessThanOrEqual(2);
      }),
    );
    expect(HASH.maxSpeedChange).toBeGreaterThanOrEqual(0.05);
  });
});
