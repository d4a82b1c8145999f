import { HASH, HASH_SPACE, forEachTriplet, packAux, tripletHash, type Peak } from '../fingerprint/index.js';
import { QUANT } from '../fingerprint/index.js';

/**
 * Postings of a set of recordings: for every reference triplet its hash, the global frame of its
 * anchor (recordings are laid end to end on one time line) and the aux word for cheap rejection.
 */
export interface PostingList {
  count: number;
  hashes: Uint32Array;
  frames: Uint32Array;
  aux: Uint16Array;
}

/** Reference triplets of one recording's (reference-density) peaks, anchored at `startFrame`. */
export function referencePostings(peaks: readonly Peak[], startFrame: number): PostingList {
  let cap = Math.max(16, peaks.length * 3);
  let hashes = new Uint32Array(cap);
  let frames = new Uint32Array(cap);
  let aux = new Uint16Array(cap);
  let count = 0;
  const k = HASH.zonePeaksReference;
  for (let a = 0; a < peaks.length; a++) {
    forEachTriplet(peaks, a, k, true, (ai, i1, i2) => {
      if (count === cap) {
        cap *= 2;
        hashes = grow32(hashes, cap);
        frames = grow32(frames, cap);
        const na = new Uint16Array(cap);
        na.set(aux);
        aux = na;
      }
      const A = peaks[ai];
      const P2 = peaks[i2];
      hashes[count] = tripletHash(A, peaks[i1], P2);
      frames[count] = startFrame + Math.round(A.t / QUANT.timeUnitsPerFrame);
      aux[count] = packAux(P2.t - A.t, A.f);
      count++;
    });
  }
  return {
    count,
    hashes: hashes.subarray(0, count),
    frames: frames.subarray(0, count),
    aux: aux.subarray(0, count),
  };
}

function grow32(a: Uint32Array, cap: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(cap);
  b.set(a);
  return b;
}

const HOT_FACTOR = 12;
const HOT_MIN = 48;

/**
 * The main lookup structure: postings grouped by hash (compressed sparse rows), with an offsets
 * array indexed directly by hash value, so that a lookup is two array reads. 4 bytes of frame plus
 * 2 bytes of aux per posting, plus a fixed 4 bytes per possible hash value. Inside a hash's row the
 * postings are ordered by aux, i.e. by triplet length first: a query jumps to the lengths a speed
 * change can explain (`lowerBound`) instead of scanning the whole row.
 */
export class PostingTable {
  /**
   * Buckets larger than this are skipped at query time: they hold structurally common triplets
   * (octaves, sustained notes) that say little about which recording airs and would otherwise
   * dominate lookup cost as the catalogue grows (a stop list, as text search engines keep one).
   */
  readonly hotLimit: number;

  private constructor(
    readonly offsets: Uint32Array,
    readonly frames: Uint32Array,
    readonly aux: Uint16Array,
  ) {
    let used = 0;
    for (let h = 0; h < HASH_SPACE; h++) if (offsets[h + 1] !== offsets[h]) used++;
    this.hotLimit = Math.max(HOT_MIN, Math.ceil(HOT_FACTOR * (frames.length / Math.max(1, used))));
  }

  static empty(): PostingTable {
    return new PostingTable(new Uint32Array(HASH_SPACE + 1), new Uint32Array(0), new Uint16Array(0));
  }

  /**
   * Groups all lists by hash (a counting sort: postings of one hash keep input order), then orders
   * each row by aux in place (sortRowsByAux): no scratch copy of the whole table, so building costs
   * no more memory than the table it builds plus its inputs.
   */
  static build(lists: readonly PostingList[]): PostingTable {
    const offsets = new Uint32Array(HASH_SPACE + 1);
    let total = 0;
    for (const l of lists) {
      for (let i = 0; i < l.count; i++) offsets[l.hashes[i] + 1]++;
      total += l.count;
    }
    for (let h = 0; h < HASH_SPACE; h++) offsets[h + 1] += offsets[h];
    const frames = new Uint32Array(total);
    const aux = new Uint16Array(total);
    const cursor = offsets.slice(0, HASH_SPACE);
    for (const l of lists) {
      for (let i = 0; i < l.count; i++) {
        const p = cursor[l.hashes[i]]++;
        frames[p] = l.frames[i];
        aux[p] = l.aux[i];
      }
    }
    sortRowsByAux(offsets, frames, aux);
    return new PostingTable(offsets, frames, aux);
  }

  /** First position in [from, to) whose aux is >= `auxMin` (rows are sorted by aux). */
  lowerBound(from: number, to: number, auxMin: number): number {
    const aux = this.aux;
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (aux[mid] < auxMin) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get count(): number {
    return this.frames.length;
  }

  get bytes(): number {
    return this.offsets.byteLength + this.frames.byteLength + this.aux.byteLength;
  }

  /** All postings as a list (for rebuilding with more lists). */
  toList(): PostingList {
    const hashes = new Uint32Array(this.count);
    for (let h = 0; h < HASH_SPACE; h++) hashes.fill(h, this.offsets[h], this.offsets[h + 1]);
    return { count: this.count, hashes, frames: this.frames, aux: this.aux };
  }
}

/** Rows up to this long are sorted by insertion; longer ones by a native numeric sort of packed keys. */
const INSERTION_MAX = 32;
const TWO_32 = 4294967296;

/**
 * Orders every row of a grouped table by aux, moving frames along. Short rows (most of them) by
 * insertion sort, which keeps equal aux in input order; long rows as packed keys aux * 2^32 + frame
 * (exact in a double) through Float64Array.sort, which orders equal aux by frame.
 */
function sortRowsByAux(offsets: Uint32Array, frames: Uint32Array, aux: Uint16Array): void {
  let keys = new Float64Array(1024);
  for (let h = 0; h < HASH_SPACE; h++) {
    const b = offsets[h];
    const e = offsets[h + 1];
    const n = e - b;
    if (n < 2) continue;
    if (n <= INSERTION_MAX) {
      for (let i = b + 1; i < e; i++) {
        const a = aux[i];
        const f = frames[i];
        let j = i - 1;
        while (j >= b && aux[j] > a) {
          aux[j + 1] = aux[j];
          frames[j + 1] = frames[j];
          j--;
        }
        aux[j + 1] = a;
        frames[j + 1] = f;
      }
      continue;
    }
    if (keys.length < n) keys = new Float64Array(2 * n);
    const k = keys.subarray(0, n);
    for (let i = 0; i < n; i++) k[i] = aux[b + i] * TWO_32 + frames[b + i];
    k.sort();
    for (let i = 0; i < n; i++) {
      const a = Math.floor(k[i] / TWO_32);
      aux[b + i] = a;
      frames[b + i] = k[i] - a * TWO_32;
    }
  }
}

/** Postings added since the main table was built (recordings enrolled while running). */
export class DeltaTable {
  readonly map = new Map<number, number[]>();
  count = 0;

  add(list: PostingList): void {
    for (let i = 0; i < list.count; i++) {
      const h = list.hashes[i];
      let arr = this.map.get(h);
      if (!arr) this.map.set(h, (arr = []));
      arr.push(list.frames[i], list.aux[i]);
    }
    this.count += list.count;
  }

  toList(): PostingList {
    const hashes = new Uint32Array(this.count);
    const frames = new Uint32Array(this.count);
    const aux = new Uint16Array(this.count);
    let i = 0;
    for (const [h, arr] of this.map) {
      for (let j = 0; j < arr.length; j += 2) {
        hashes[i] = h;
        frames[i] = arr[j];
        aux[i] = arr[j + 1];
        i++;
      }
    }
    return { count: this.count, hashes, frames, aux };
  }
}
