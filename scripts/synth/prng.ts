/**
 * A small deterministic PRNG (sfc32, seeded through splitmix32): the same seed gives the same
 * numbers on every machine and Node version, unlike Math.random.
 */

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** The sfc32 generator itself (Chris Doty-Humphrey's Small Fast Counting RNG), seeded with four words. */
export class Sfc32 {
  constructor(
    private a: number,
    private b: number,
    private c: number,
    private d: number,
  ) {}

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
}

export class Rng extends Sfc32 {
  /** seed: any safe integer; label: an extra integer to derive an independent stream. */
  constructor(seed: number, label = 0) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const high = Math.floor(seed / 2 ** 32);
    const mix = splitmix32((seed >>> 0) ^ Math.imul(high, 0x27d4eb2d) ^ Math.imul(label + 1, 0x165667b1));
    super(mix(), mix(), mix(), mix());
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.float() * items.length)];
  }

  /** Picks an index with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i];
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A symmetric triangular value in (-1, 1): cheap humanisation. */
  bipolar(): number {
    return this.float() - this.float();
  }

  /** An independent generator for a sub-part, so changing one part leaves the others' numbers alone. */
  fork(label: number): Rng {
    return new Rng(this.next() * 4096 + (label & 4095));
  }
}
