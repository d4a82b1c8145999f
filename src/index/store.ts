import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SoundSpan } from '../audio/index.js';
import { FINGERPRINT_SCHEME } from '../fingerprint/index.js';

/** What the index keeps about an enrolled recording, besides its peaks. */
export interface RecordingMeta {
  id: string;
  title?: string | null;
  artist?: string | null;
  isrc?: string | null;
  sourcePath?: string | null;
}

export interface StoredRecording extends RecordingMeta {
  rowid: number;
  durationSec: number;
  peakCount: number;
  contentHash: string;
  enrolledAtMs: number;
}

/**
 * The durable side of the reference index: one SQLite file (WAL) holding each recording's metadata,
 * its reference peaks and its dense reference peaks (for verification only), compactly encoded.
 * Hashes are derived from peaks when the index is loaded, so the file stays small (about 0.45 MB per
 * hour of audio) and a scheme change only needs re-enrolment when the peaks themselves change.
 */
export class FingerprintStore {
  readonly db: Database.Database;
  readonly path: string;
  private readonly denseColumn: boolean;
  private readonly soundColumns: boolean;

  constructor(dir: string, opts: { readonly?: boolean } = {}) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'index.db');
    this.db = new Database(this.path, {
      readonly: opts.readonly ?? false,
      fileMustExist: opts.readonly ?? false,
    });
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS recordings (
          rowid INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          title TEXT, artist TEXT, isrc TEXT, source_path TEXT,
          duration_sec REAL NOT NULL,
          peak_count INTEGER NOT NULL,
          content_hash TEXT NOT NULL,
          enrolled_at_ms INTEGER NOT NULL,
          peaks BLOB NOT NULL,
          dense_peaks BLOB,
          sound_start_sec REAL,
          sound_end_sec REAL
        );
        CREATE INDEX IF NOT EXISTS recordings_content ON recordings(content_hash);
      `);
      // indexes made before dense reference peaks existed: the column is added, their rows keep NULL
      if (!this.hasColumn('dense_peaks')) this.db.exec('ALTER TABLE recordings ADD COLUMN dense_peaks BLOB');
      // and before the audible span was measured: their rows keep NULL (the matcher then uses the peaks)
      if (!this.hasColumn('sound_start_sec')) {
        this.db.exec('ALTER TABLE recordings ADD COLUMN sound_start_sec REAL');
        this.db.exec('ALTER TABLE recordings ADD COLUMN sound_end_sec REAL');
      }
      const scheme = this.getMeta('scheme');
      if (scheme === undefined) this.setMeta('scheme', FINGERPRINT_SCHEME);
    }
    this.db.pragma('busy_timeout = 5000');
    // a read-only open of an old index cannot add the columns: they are then read as absent
    this.denseColumn = this.hasColumn('dense_peaks');
    this.soundColumns = this.hasColumn('sound_start_sec');
    const scheme = this.getMeta('scheme');
    if (scheme !== FINGERPRINT_SCHEME) {
      this.db.close();
      throw new Error(
        `reference index at ${dir} was built with fingerprint scheme ${scheme}, this build uses ${FINGERPRINT_SCHEME}: re-enrol into a new index`,
      );
    }
  }

  private hasColumn(name: string): boolean {
    const cols = this.db.prepare('PRAGMA table_info(recordings)').all() as Array<{ name: string }>;
    return cols.some((c) => c.name === name);
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** Bumped on every change, so that other processes can notice and refresh. */
  generation(): number {
    return Number(this.getMeta('generation') ?? 0);
  }

  private bump(): void {
    this.setMeta('generation', String(this.generation() + 1));
  }

  insert(
    meta: RecordingMeta,
    durationSec: number,
    peakCount: number,
    contentHash: string,
    peaks: Uint8Array,
    densePeaks: Uint8Array | null = null,
    sound: SoundSpan | null = null,
  ): number {
    const tx = this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO recordings(id, title, artist, isrc, source_path, duration_sec, peak_count, content_hash, enrolled_at_ms, peaks, dense_peaks, sound_start_sec, sound_end_sec)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          meta.id,
          meta.title ?? null,
          meta.artist ?? null,
          meta.isrc ?? null,
          meta.sourcePath ?? null,
          durationSec,
          peakCount,
          contentHash,
          Date.now(),
          Buffer.from(peaks.buffer, peaks.byteOffset, peaks.byteLength),
          densePeaks && Buffer.from(densePeaks.buffer, densePeaks.byteOffset, densePeaks.byteLength),
          sound?.startSec ?? null,
          sound?.endSec ?? null,
        );
      this.bump();
      return Number(info.lastInsertRowid);
    });
    return tx();
  }

  remove(id: string): boolean {
    const tx = this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM recordings WHERE id = ?').run(id).changes;
      if (n > 0) this.bump();
      return n > 0;
    });
    return tx();
  }

  byId(id: string): StoredRecording | undefined {
    const row = this.db.prepare(`SELECT ${COLS} FROM recordings WHERE id = ?`).get(id) as Row | undefined;
    return row && toStored(row);
  }

  byContentHash(hash: string): StoredRecording | undefined {
    const row = this.db.prepare(`SELECT ${COLS} FROM recordings WHERE content_hash = ?`).get(hash) as
      Row | undefined;
    return row && toStored(row);
  }

  list(): StoredRecording[] {
    return (this.db.prepare(`SELECT ${COLS} FROM recordings ORDER BY rowid`).all() as Row[]).map(toStored);
  }

  /** Recordings with their encoded peaks, in enrolment order, after `afterRowid`. */
  *iteratePeaks(
    afterRowid = 0,
  ): Generator<{ rowid: number; id: string; durationSec: number; peaks: Uint8Array }> {
    const stmt = this.db.prepare(
      'SELECT rowid, id, duration_sec AS durationSec, peaks FROM recordings WHERE rowid > ? ORDER BY rowid',
    );
    for (const row of stmt.iterate(afterRowid) as Iterable<{
      rowid: number;
      id: string;
      durationSec: number;
      peaks: Buffer;
    }>) {
      yield { rowid: row.rowid, id: row.id, durationSec: row.durationSec, peaks: new Uint8Array(row.peaks) };
    }
  }

  peaksOf(id: string): Uint8Array | undefined {
    const row = this.db.prepare('SELECT peaks FROM recordings WHERE id = ?').get(id) as
      { peaks: Buffer } | undefined;
    return row ? new Uint8Array(row.peaks) : undefined;
  }

  /** A recording's dense reference peaks (encoded); undefined if it has none (enrolled before they existed). */
  densePeaksOf(id: string): Uint8Array | undefined {
    if (!this.denseColumn) return undefined;
    const row = this.db.prepare('SELECT dense_peaks AS d FROM recordings WHERE id = ?').get(id) as
      { d: Buffer | null } | undefined;
    return row?.d ? new Uint8Array(row.d) : undefined;
  }

  /** Where a recording is audible (SoundSpanMeter at enrolment); undefined if enrolled before it was measured. */
  soundSpanOf(id: string): SoundSpan | undefined {
    if (!this.soundColumns) return undefined;
    const row = this.db
      .prepare('SELECT sound_start_sec AS startSec, sound_end_sec AS endSec FROM recordings WHERE id = ?')
      .get(id) as { startSec: number | null; endSec: number | null } | undefined;
    return row && row.startSec !== null && row.endSec !== null
      ? { startSec: row.startSec, endSec: row.endSec }
      : undefined;
  }

  /** Recordings enrolled without dense reference peaks (before they existed). */
  countWithoutDensePeaks(): number {
    if (!this.denseColumn) return Number(this.db.prepare('SELECT count(*) FROM recordings').pluck().get());
    return Number(this.db.prepare('SELECT count(*) FROM recordings WHERE dense_peaks IS NULL').pluck().get());
  }

  rowids(): Set<number> {
    return new Set((this.db.prepare('SELECT rowid FROM recordings').pluck().all() as number[]).map(Number));
  }

  diskBytes(): number {
    let total = 0;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        // absent
      }
    }
    return total;
  }

  close(): void {
    if (!this.db.open) return;
    // fold the WAL into the main file so that the index on disk is one compact file
    if (!this.db.readonly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

const COLS = `rowid, id, title, artist, isrc, source_path AS sourcePath, duration_sec AS durationSec,
  peak_count AS peakCount, content_hash AS contentHash, enrolled_at_ms AS enrolledAtMs`;

type Row = Omit<StoredRecording, 'rowid'> & { rowid: number | bigint };

function toStored(row: Row): StoredRecording {
  return { ...row, rowid: Number(row.rowid) };
}
