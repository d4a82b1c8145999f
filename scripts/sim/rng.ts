import { createHash } from 'node:crypto';
import { Sfc32 } from '../synth/prng.js';

/**
 * A seeded pseudo-random generator (sfc32). Every random choice of the simulator comes from one of
 * these, so a broadcast day is a pure function of its seed: same seed, same timeline, same truth.
 */
export class Rng {
  private readonly core: Sfc32;

  constructor(seed: string | number) {
    const digest = createHash('sha256').update(String(seed)).digest();
    this.core = new Sfc32(
      digest.readUInt32LE(0),
      digest.readUInt32LE(4),
      digest.readUInt32LE(8),
      digest.readUInt32LE(12),
    );
    for (let i = 0; i < 16; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    return this.core.next() / 4294967296;
  }

  /** A float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)];
  }

  /** A standard normal sample (Box-Muller). */
  gaussian(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** An independent generator derived from this one's seed and a label (stable under reordering). */
  static derive(seed: string | number, label: string): Rng {
    return new Rng(`${seed}/${label}`);
  }
}
