/**
 * Small open-addressing hash structures over integer keys, for the matcher's hot loops: a JS Map
 * or Set costs 5-10x more per operation there.
 */
const EMPTY = -0x80000000;

/** Counts per int32 key; `clear()` costs only the keys used since the last clear. */
export class IntCounter {
  private keys: Int32Array;
  private counts: Int32Array;
  private mask: number;
  private used: number[] = [];

  constructor(capacityPow2 = 1 << 12) {
    this.keys = new Int32Array(capacityPow2).fill(EMPTY);
    this.counts = new Int32Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  add(key: number): void {
    if (this.used.length * 2 >= this.keys.length) this.grow();
    let i = Math.imul(key, 0x9e3779b1) & this.mask;
    const keys = this.keys;
    while (keys[i] !== EMPTY && keys[i] !== key) i = (i + 1) & this.mask;
    if (keys[i] === EMPTY) {
      keys[i] = key;
      this.used.push(i);
    }
    this.counts[i]++;
  }

  get(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) & this.mask;
    const keys = this.keys;
    while (keys[i] !== EMPTY) {
      if (keys[i] === key) return this.counts[i];
      i = (i + 1) & this.mask;
    }
    return 0;
  }

  /** Calls cb(key, count) for every key counted since the last clear. */
  forEach(cb: (key: number, count: number) => void): void {
    for (const i of this.used) cb(this.keys[i], this.counts[i]);
  }

  clear(): void {
    for (const i of this.used) {
      this.keys[i] = EMPTY;
      this.counts[i] = 0;
    }
    this.used.length = 0;
  }

  private grow(): void {
    const entries: Array<[number, number]> = [];
    this.forEach((k, c) => entries.push([k, c]));
    const cap = this.keys.length * 2;
    this.keys = new Int32Array(cap).fill(EMPTY);
    this.counts = new Int32Array(cap);
    this.mask = cap - 1;
    this.used = [];
    for (const [k, c] of entries) {
      this.add(k);
      this.counts[this.used[this.used.length - 1]] = c;
    }
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
