import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASH_SPACE } from '../src/fingerprint/index.js';
import { PostingTable, type PostingList } from '../src/index/postings.js';
import { halfDbStep } from '../src/match/evidence.js';
import { BinSieve } from '../src/match/tables.js';

describe('level quantisation of the spectrum history', () => {
  const f32 = new Float32Array(1);
  const bits = new Int32Array(f32.buffer);
  const exact = (p: number) => Math.min(255, Math.max(0, Math.round((10 * Math.log10(p) + 120) * 2)));

  it('matches 10*log10 in half-dB steps to within one step, and exactly almost always', () => {
    let differ = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      f32[0] = 10 ** (-14 + (15 * i) / n);
      const d = Math.abs(halfDbStep(bits[0]) - exact(f32[0]));
      expect(d).toBeLessThanOrEqual(1);
      if (d) differ++;
    }
    expect(differ / n).toBeLessThan(0.002);
  });

  it('clamps zero, tiny and huge powers', () => {
    for (const p of [0, 1e-30, 1e-40]) {
      f32[0] = p;
      expect(halfDbStep(bits[0])).toBe(0);
    }
    f32[0] = 1e12;
    expect(halfDbStep(bits[0])).toBe(255);
  });
});

describe('bin sieve', () => {
  /** Brute force: [bin, count(bin) + count(bin + 1)] for every bin with votes whose pair reaches min. */
  function naive(bins: number[], min: number): Array<[number, number]> {
    const c = new Map<number, number>();
    for (const b of bins) c.set(b, (c.get(b) ?? 0) + 1);
    const out: Array<[number, number]> = [];
    for (const [b, n] of c) if (n + (c.get(b + 1) ?? 0) >= min) out.push([b, n + (c.get(b + 1) ?? 0)]);
    return out.sort((x, y) => x[0] - y[0]);
  }

  it('finds exactly the pairs a brute-force count finds, with their votes, despite slot collisions', () => {
    // a tiny table (64 slots) forces many collisions; bins range over negatives and large values
    const sieve = new BinSieve(64);
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -2e9, max: 2e9 })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 8 }),
        (list, min) => {
          const bins = Int32Array.from(list);
          const got = sieve.pairs(bins, 0, bins.length, min).sort((x, y) => x[0] - y[0]);
          expect(got).toEqual(naive(list, min));
          for (const [b] of got) {
            const idx = [...(sieve.votes.get(b) ?? []), ...(sieve.votes.get(b + 1) ?? [])];
            expect(idx.map((i) => bins[i]).every((x) => x === b || x === b + 1)).toBe(true);
            expect(idx.length).toBe(list.filter((x) => x === b || x === b + 1).length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts only the given range and leaves no state behind', () => {
    const sieve = new BinSieve(16);
    const bins = Int32Array.from([7, 7, 7, 8, 8, 1, 1, 1, 1, 1]);
    expect(sieve.pairs(bins, 0, 5, 5)).toEqual([[7, 5]]);
    expect(sieve.pairs(bins, 0, 4, 5)).toEqual([]);
    expect(sieve.pairs(bins, 5, 10, 5)).toEqual([[1, 5]]);
  });
});

describe('posting table', () => {
  it('groups postings by hash, orders each row by aux, and lowerBound finds the first aux >= x', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            h: fc.integer({ min: 0, max: 20 }),
            f: fc.nat({ max: 1e6 }),
            a: fc.integer({ min: 0, max: 0xffff }),
          }),
          { maxLength: 600 },
        ),
        fc.integer({ min: 0, max: 0xffff }),
        (items, probe) => {
          const list: PostingList = {
            count: items.length,
            hashes: Uint32Array.from(items, (x) => x.h * 1000 + 7),
            frames: Uint32Array.from(items, (x) => x.f),
            aux: Uint16Array.from(items, (x) => x.a),
          };
          const t = PostingTable.build([list]);
          expect(t.count).toBe(items.length);
          for (let h = 0; h <= 20; h++) {
            const hash = h * 1000 + 7;
            const b = t.offsets[hash];
            const e = t.offsets[hash + 1];
            const want = items
              .filter((x) => x.h === h)
              .map((x) => [x.a, x.f])
              .sort((x, y) => x[0] - y[0]);
            const row = Array.from({ length: e - b }, (_, i) => [t.aux[b + i], t.frames[b + i]]);
            // same multiset, sorted by aux
            expect(row.map((r) => r[0])).toEqual(want.map((r) => r[0]));
            expect([...row].sort((x, y) => x[0] - y[0] || x[1] - y[1])).toEqual(
              [...want].sort((x, y) => x[0] - y[0] || x[1] - y[1]),
            );
            const lb = t.lowerBound(b, e, probe);
            expect(lb - b).toBe(row.filter((r) => r[0] < probe).length);
          }
          expect(t.offsets[HASH_SPACE]).toBe(items.length);
        },
      ),
      { numRuns: 12 }, // each build allocates the full hash table (19 MB)
    );
  });
});
