/**
 * Small integer structures for the matcher's hot loops: a JS Map or Set costs 5-10x more per
 * operation there.
 */

/**
 * Finds the offset bins of a window's votes that, together with their right-hand neighbour, hold at
 * least `min` votes, without a hash map operation per vote: votes are first counted in a
 * direct-mapped table (bins sharing a slot add up, which can only over-count), slots whose pair
 * reaches `min` name candidate bins, and only the candidates' votes are then collected exactly.
 * Counts are 16-bit and saturate: at the 1,000-hour catalogue's ~32,000 votes per window the 256-KB
 * table stays in cache better than a 32-bit one, and matching ran 13 % faster (docs/benchmarks.md).
 */
export class BinSieve {
  private readonly counts: Uint16Array;
  private readonly tracked: Uint8Array;
  private readonly mask: number;
  /** Vote indices of the candidate bins (and their right-hand neighbours) of the last call. */
  readonly votes = new Map<number, number[]>();

  constructor(slotsPow2 = 1 << 17) {
    this.counts = new Uint16Array(slotsPow2);
    this.tracked = new Uint8Array(slotsPow2);
    this.mask = slotsPow2 - 1;
  }

  /**
   * [bin, votes in bin and bin + 1] for every bin of bins[from..to) whose pair holds >= min votes;
   * afterwards `votes` holds the indices of the votes in those bins and their neighbours.
   */
  pairs(bins: Int32Array, from: number, to: number, min: number): Array<[number, number]> {
    const { counts, tracked, mask, votes } = this;
    for (let i = from; i < to; i++) {
      const slot = bins[i] & mask;
      const c = counts[slot];
      if (c !== 0xffff) counts[slot] = c + 1;
    }
    votes.clear();
    for (let i = from; i < to; i++) {
      const b = bins[i];
      if (counts[b & mask] + counts[(b + 1) & mask] < min) continue;
      // b may already be there as the right-hand neighbour of b - 1: its own neighbour is still needed
      if (!votes.has(b)) votes.set(b, []);
      if (!votes.has(b + 1)) votes.set(b + 1, []);
      tracked[b & mask] = 1;
      tracked[(b + 1) & mask] = 1;
    }
    const out: Array<[number, number]> = [];
    if (votes.size > 0) {
      for (let i = from; i < to; i++) {
        const b = bins[i];
        if (tracked[b & mask] !== 0) votes.get(b)?.push(i);
      }
      for (const [b, idx] of votes) {
        const sum = idx.length + (votes.get(b + 1)?.length ?? 0);
        if (idx.length > 0 && sum >= min) out.push([b, sum]);
      }
      for (const b of votes.keys()) tracked[b & mask] = 0;
    }
    for (let i = from; i < to; i++) counts[bins[i] & mask] = 0;
    return out;
  }
}

/** A set of uint32 values cleared in O(1) by bumping a generation stamp. */
export class StampSet {
  private keys: Uint32Array;
  private stamps: Uint32Array;
  private mask: number;
  private stamp = 1;
  private size = 0;

  constructor(capacityPow2 = 1 << 12) {
    this.keys = new Uint32Array(capacityPow2);
    this.stamps = new Uint32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  /** Adds the key; returns false if it was already there. */
  add(key: number): boolean {
    if (this.size * 2 >= this.keys.length) this.grow();
    let i = Math.imul(key, 0x9e3779b1) & this.mask;
    const { keys, stamps, stamp } = this;
    while (stamps[i] === stamp) {
      if (keys[i] === key) return false;
      i = (i + 1) & this.mask;
    }
    stamps[i] = stamp;
    keys[i] = key;
    this.size++;
    return true;
  }

  clear(): void {
    this.size = 0;
    this.stamp++;
    if (this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
  }

  private grow(): void {
    const live: number[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.stamps[i] === this.stamp) live.push(this.keys[i]);
    const cap = this.keys.length * 2;
    this.keys = new Uint32Array(cap);
    this.stamps = new Uint32Array(cap);
    this.mask = cap - 1;
    this.stamp = 1;
    this.size = 0;
    for (const k of live) this.add(k);
  }
}
