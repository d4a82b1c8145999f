import { FRAMES_PER_SEC, HASH_SPACE, type Peak } from '../fingerprint/index.js';
import { HASH_BAND_DIVISOR, N_DT, N_RATIO } from '../fingerprint/hashes.js';
import { DeltaTable, PostingTable, referencePostings, type PostingList } from './postings.js';

/** A recording as the matcher sees it: where it lies on the global frame line. */
export interface IndexedRecording {
  slot: number;
  rowid: number;
  id: string;
  startFrame: number;
  frames: number;
  durationSec: number;
  alive: boolean;
}

/** Empty frames between recordings on the global line, so that offsets of neighbours never share a vote bin. */
const GAP_FRAMES = 256;
/** Merge the delta into the main table when it grows past this share of the main table. */
const DELTA_MERGE_SHARE = 0.25;
const DELTA_MERGE_MIN = 2_000_000;

/**
 * The in-memory lookup side of the reference index (pure: no I/O). Recordings are laid end to end
 * on one global frame line; a posting's frame therefore names both the recording and the position
 * in it, and a vote key (frame - query frame) needs no recording lookup.
 */
export class LookupIndex {
  main: PostingTable = PostingTable.empty();
  readonly delta = new DeltaTable();
  readonly recordings: IndexedRecording[] = [];
  private readonly bySlotStart: number[] = [];
  private readonly byId = new Map<string, IndexedRecording>();
  private nextFrame = 0;
  /** Frames of synthetic padding (benchmarks only), laid on the line like recordings without ids. */
  syntheticFrames = 0;
  syntheticPostings = 0;
  /** Where the matcher gets a recording's reference peaks to check an airing's edges (set by the store adapter). */
  referencePeaks?: (rec: IndexedRecording) => Peak[] | undefined;
  /** The same recording's peaks at query density, for verifying short airings; undefined where not stored. */
  denseReferencePeaks?: (rec: IndexedRecording) => Peak[] | undefined;
  /** Where the recording is audible (seconds of reference), measured at enrolment; undefined where not stored. */
  soundSpan?: (rec: IndexedRecording) => { startSec: number; endSec: number } | undefined;

  /** Adds recordings in bulk and rebuilds the main table once (used when loading). */
  loadBulk(
    items: Iterable<{ rowid: number; id: string; durationSec: number; peaks: readonly Peak[] }>,
  ): void {
    const lists: PostingList[] = [];
    if (this.main.count > 0) lists.push(this.main.toList());
    if (this.delta.count > 0) lists.push(this.delta.toList());
    this.delta.map.clear();
    this.delta.count = 0;
    for (const item of items) {
      const rec = this.place(item.rowid, item.id, item.durationSec);
      lists.push(referencePostings(item.peaks, rec.startFrame));
    }
    this.main = PostingTable.build(lists);
  }

  /** Adds one recording to the delta (enrolment while running); merges the delta when it is large. */
  add(rowid: number, id: string, durationSec: number, peaks: readonly Peak[]): IndexedRecording {
    const rec = this.place(rowid, id, durationSec);
    this.delta.add(referencePostings(peaks, rec.startFrame));
    if (this.delta.count > Math.max(DELTA_MERGE_MIN, DELTA_MERGE_SHARE * this.main.count)) this.mergeDelta();
    return rec;
  }

  mergeDelta(): void {
    if (this.delta.count === 0) return;
    this.main = PostingTable.build([this.main.toList(), this.delta.toList()]);
    this.delta.map.clear();
    this.delta.count = 0;
  }

  private place(rowid: number, id: string, durationSec: number): IndexedRecording {
    if (this.byId.get(id)?.alive) throw new Error(`recording ${id} is already in the lookup index`);
    const frames = Math.ceil(durationSec * FRAMES_PER_SEC) + 1;
    const rec: IndexedRecording = {
      slot: this.recordings.length,
      rowid,
      id,
      startFrame: this.nextFrame,
      frames,
      durationSec,
      alive: true,
    };
    this.nextFrame += frames + GAP_FRAMES;
    this.recordings.push(rec);
    this.bySlotStart.push(rec.startFrame);
    this.byId.set(id, rec);
    return rec;
  }

  /** Marks a recording removed: its postings stay until the next rebuild but never produce detections. */
  kill(id: string): boolean {
    const rec = this.byId.get(id);
    if (!rec || !rec.alive) return false;
    rec.alive = false;
    this.byId.delete(id);
    return true;
  }

  get(id: string): IndexedRecording | undefined {
    return this.byId.get(id);
  }

  /** The recording whose span holds this global frame, or undefined (gap or synthetic padding). */
  locate(frame: number): IndexedRecording | undefined {
    const starts = this.bySlotStart;
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || frame < starts[0]) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= frame) lo = mid;
      else hi = mid - 1;
    }
    const rec = this.recordings[lo];
    return frame < rec.startFrame + rec.frames ? rec : undefined;
  }

  /** Size of the global frame line, real and synthetic. */
  get totalFrames(): number {
    return this.nextFrame;
  }

  get postings(): number {
    return this.main.count + this.delta.count;
  }

  get liveRecordings(): number {
    return this.byId.size;
  }

  memoryBytes(): number {
    // delta: a Map entry and a JS array of doubles, roughly 16 bytes a posting plus 80 per hash
    return this.main.bytes + this.delta.count * 16 + this.delta.map.size * 80 + this.recordings.length * 120;
  }

  /**
   * Benchmarks only: appends postings that imitate `hours` of further reference audio (frames spread
   * uniformly on new, recording-less frames). Each hash is assembled from parts of independently drawn
   * real postings (anchor band, frequency differences, time ratio, length), so that a larger catalogue
   * fills the hash space the way more music would instead of repeating the enrolled hashes,
   * so that lookup and matching cost can be measured at a larger catalogue.
   */
  padSynthetic(hours: number, seed: number): void {
    this.mergeDelta();
    const all = this.main.toList();
    // draw only from real postings: earlier padding must not feed on itself
    const real =
      this.syntheticPostings === 0 ? all : onlyRecordings(all, (f) => this.locate(f) !== undefined);
    if (real.count === 0) throw new Error('cannot pad an empty index: enrol real recordings first');
    const realSec = this.recordings.reduce((s, r) => s + (r.alive ? r.durationSec : 0), 0) || 1;
    const perSec = real.count / realSec;
    const n = Math.round(hours * 3600 * perSec);
    const frames = Math.ceil(hours * 3600 * FRAMES_PER_SEC);
    const base = this.nextFrame;
    let s = seed >>> 0 || 1;
    const rand = () => {
      // xorshift32: deterministic
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 4294967296;
    };
    const list: PostingList = {
      count: n,
      hashes: new Uint32Array(n),
      frames: new Uint32Array(n),
      aux: new Uint16Array(n),
    };
    const pick = () => Math.floor(rand() * real.count);
    for (let i = 0; i < n; i++) {
      const a = pick(); // band and position in it
      const b = pick(); // frequency differences
      const c = pick(); // time ratio
      const d = pick(); // length
      const ha = real.hashes[a];
      const band = Math.floor(ha / HASH_BAND_DIVISOR);
      const diffs = Math.floor((real.hashes[b] % HASH_BAND_DIVISOR) / (N_RATIO * N_DT));
      const ratio = Math.floor((real.hashes[c] % (N_RATIO * N_DT)) / N_DT);
      const dt = real.hashes[d] % N_DT;
      list.hashes[i] =
        ((band * (HASH_BAND_DIVISOR / (N_RATIO * N_DT)) + diffs) * N_RATIO + ratio) * N_DT + dt;
      list.aux[i] = (real.aux[d] & 0xff00) | (real.aux[a] & 0xff);
      list.frames[i] = base + Math.floor(rand() * frames);
    }
    this.main = PostingTable.build([all, list]);
    this.nextFrame += frames + GAP_FRAMES;
    this.syntheticFrames += frames;
    this.syntheticPostings += n;
  }
}

export { HASH_SPACE };

function onlyRecordings(list: PostingList, keep: (frame: number) => boolean): PostingList {
  const idx: number[] = [];
  for (let i = 0; i < list.count; i++) if (keep(list.frames[i])) idx.push(i);
  return {
    count: idx.length,
    hashes: Uint32Array.from(idx, (i) => list.hashes[i]),
    frames: Uint32Array.from(idx, (i) => list.frames[i]),
    aux: Uint16Array.from(idx, (i) => list.aux[i]),
  };
}
