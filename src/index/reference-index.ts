import { join } from 'node:path';
import type { SoundSpan } from '../audio/index.js';
import { decodePeaks, encodePeaks, type Peak } from '../fingerprint/index.js';
import { LookupIndex, type IndexedRecording } from './lookup.js';
import { FingerprintStore, type RecordingMeta, type StoredRecording } from './store.js';

export interface IndexStats {
  recordings: number;
  referenceSec: number;
  postings: number;
  /** Bytes of the SQLite file (and its WAL) on disk. */
  diskBytes: number;
  /** Bytes of the in-memory lookup structure, the fixed hash table included. */
  memoryBytes: number;
  /** Of memoryBytes, the fixed part that does not grow with the catalogue (the direct hash table). */
  fixedMemoryBytes: number;
  syntheticHours: number;
  /** Recordings enrolled before dense reference peaks existed: re-enrol them to verify their short airings as well. */
  withoutDensePeaks: number;
}

const PEAK_CACHE = 256;

/** The default index folder: $TYNDAU_INDEX, else ./fingerprints. */
export function defaultIndexDir(): string {
  return process.env.TYNDAU_INDEX || join(process.cwd(), 'fingerprints');
}

/**
 * The reference index: durable peaks in SQLite plus the in-memory lookup built from them at open.
 * Recordings enrolled by this process go straight into the lookup's delta; `refresh()` picks up
 * those enrolled or removed by other processes without a full rebuild.
 */
export class ReferenceIndex {
  readonly lookup = new LookupIndex();
  private lastRowid = 0;
  private generation: number;

  private readonly peakCache = new Map<string, Peak[] | null>();
  private readonly densePeakCache = new Map<string, Peak[] | null>();

  private constructor(
    readonly store: FingerprintStore,
    readonly dir: string,
  ) {
    this.generation = store.generation();
    this.lookup.referencePeaks = (rec) => this.peaksOf(rec.id);
    this.lookup.denseReferencePeaks = (rec) => this.densePeaksOf(rec.id);
    // read when an airing closes, a point query: not cached
    this.lookup.soundSpan = (rec) => this.store.soundSpanOf(rec.id);
  }

  /** A recording's reference peaks, decoded from the store; the most recently used few are cached. */
  peaksOf(id: string): Peak[] | undefined {
    return cachedPeaks(this.peakCache, id, () => this.store.peaksOf(id));
  }

  /** A recording's dense reference peaks (EnrolmentExtractor), undefined if it was enrolled without them; cached like peaksOf. */
  densePeaksOf(id: string): Peak[] | undefined {
    return cachedPeaks(this.densePeakCache, id, () => this.store.densePeaksOf(id));
  }

  static open(dir: string = defaultIndexDir(), opts: { readonly?: boolean } = {}): ReferenceIndex {
    const index = new ReferenceIndex(new FingerprintStore(dir, opts), dir);
    index.lookup.loadBulk(index.loadRows(0));
    return index;
  }

  private *loadRows(
    after: number,
  ): Generator<{ rowid: number; id: string; durationSec: number; peaks: Peak[] }> {
    for (const row of this.store.iteratePeaks(after)) {
      this.lastRowid = Math.max(this.lastRowid, row.rowid);
      yield { rowid: row.rowid, id: row.id, durationSec: row.durationSec, peaks: decodePeaks(row.peaks) };
    }
  }

  /**
   * Adds a recording from its reference peaks (and, from enrolment, its dense reference peaks, which
   * verify short airings, and its audible span). Throws if the id is taken.
   */
  add(
    meta: RecordingMeta,
    durationSec: number,
    peaks: Peak[],
    contentHash: string,
    densePeaks?: Peak[],
    sound?: SoundSpan | null,
  ): IndexedRecording {
    if (this.store.byId(meta.id))
      throw new Error(`recording "${meta.id}" is already enrolled (use replace to re-enrol it)`);
    const dense = densePeaks ? encodePeaks(densePeaks) : null;
    const rowid = this.store.insert(
      meta,
      durationSec,
      peaks.length,
      contentHash,
      encodePeaks(peaks),
      dense,
      sound ?? null,
    );
    this.peakCache.delete(meta.id);
    this.densePeakCache.delete(meta.id);
    this.lastRowid = Math.max(this.lastRowid, rowid);
    this.generation = this.store.generation();
    return this.lookup.add(rowid, meta.id, durationSec, peaks);
  }

  remove(id: string): boolean {
    this.peakCache.delete(id);
    this.densePeakCache.delete(id);
    const removed = this.store.remove(id);
    this.lookup.kill(id);
    this.generation = this.store.generation();
    return removed;
  }

  /** Picks up recordings enrolled or removed by other processes since open or the last refresh. */
  refresh(): { added: number; removed: number } {
    const gen = this.store.generation();
    if (gen === this.generation) return { added: 0, removed: 0 };
    this.generation = gen;
    // another process may have re-enrolled an id (--replace): its cached peaks would be stale
    this.peakCache.clear();
    this.densePeakCache.clear();
    let added = 0;
    for (const row of this.loadRows(this.lastRowid)) {
      this.lookup.add(row.rowid, row.id, row.durationSec, row.peaks);
      added++;
    }
    const alive = this.store.rowids();
    let removed = 0;
    for (const rec of this.lookup.recordings) {
      if (rec.alive && !alive.has(rec.rowid) && this.lookup.kill(rec.id)) removed++;
    }
    return { added, removed };
  }

  get(id: string): StoredRecording | undefined {
    return this.store.byId(id);
  }

  findByContent(contentHash: string): StoredRecording | undefined {
    return this.store.byContentHash(contentHash);
  }

  list(): StoredRecording[] {
    return this.store.list();
  }

  stats(): IndexStats {
    const list = this.store.list();
    const synthSec = this.lookup.syntheticFrames / 62.5;
    return {
      recordings: list.length,
      referenceSec: list.reduce((s, r) => s + r.durationSec, 0),
      postings: this.lookup.postings,
      diskBytes: this.store.diskBytes(),
      memoryBytes: this.lookup.memoryBytes(),
      fixedMemoryBytes: this.lookup.main.offsets.byteLength,
      syntheticHours: synthSec / 3600,
      withoutDensePeaks: this.store.countWithoutDensePeaks(),
    };
  }

  /** Benchmarks only: in-memory synthetic postings imitating `hours` more reference audio. */
  padSynthetic(hours: number, seed: number): void {
    this.lookup.padSynthetic(hours, seed);
  }

  close(): void {
    this.store.close();
  }
}

/** Decoded peaks from `load`, through a small LRU `cache` that also remembers ids without any (null). */
function cachedPeaks(
  cache: Map<string, Peak[] | null>,
  id: string,
  load: () => Uint8Array | undefined,
): Peak[] | undefined {
  let peaks = cache.get(id);
  if (peaks !== undefined) cache.delete(id);
  else {
    const bytes = load();
    peaks = bytes ? decodePeaks(bytes) : null;
    if (cache.size >= PEAK_CACHE) cache.delete(cache.keys().next().value!);
  }
  cache.set(id, peaks);
  return peaks ?? undefined;
}
