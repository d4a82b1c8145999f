import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EnrolmentExtractor, extractPeaks } from '../src/fingerprint/index.js';
import { writeWav } from '../scripts/synth/wav.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { matchPcm } from '../src/match/index.js';

/** A deterministic "song": a seeded sequence of chords with harmonics (no audio files needed here). */
function song(seconds: number, seed: number): Float32Array {
  const sr = 8000;
  const out = new Float32Array(Math.round(seconds * sr));
  let s = seed >>> 0 || 1;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 4294967296;
  const noteLen = Math.round(sr * (0.18 + 0.2 * rnd()));
  let freqs: number[] = [];
  for (let n = 0; n < out.length; n++) {
    if (n % noteLen === 0) freqs = [0, 1, 2].map(() => 160 * 2 ** (Math.floor(rnd() * 36) / 12));
    const t = n / sr;
    const env = Math.exp(-((n % noteLen) / noteLen) * 3);
    let v = 0;
    for (const f of freqs) v += Math.sin(2 * Math.PI * f * t) + 0.4 * Math.sin(4 * Math.PI * f * t);
    out[n] = 0.15 * env * v;
  }
  return out;
}

function tmpIndexDir(): string {
  return mkdtempSync(join(tmpdir(), 'tyndau-index-'));
}

describe('reference index', () => {
  it('persists recordings in SQLite and finds them again after reopening', () => {
    const dir = tmpIndexDir();
    const a = song(40, 1);
    const b = song(40, 2);
    const idx = ReferenceIndex.open(dir);
    idx.add({ id: 'song-a', title: 'A' }, 40, extractPeaks(a, 'reference'), 'ha');
    idx.add({ id: 'song-b' }, 40, extractPeaks(b, 'reference'), 'hb');
    expect(() => idx.add({ id: 'song-a' }, 40, extractPeaks(a, 'reference'), 'hx')).toThrow(
      /already enrolled/,
    );
    idx.close();

    const again = ReferenceIndex.open(dir);
    const s = again.stats();
    expect(s.recordings).toBe(2);
    expect(s.referenceSec).toBe(80);
    expect(s.postings).toBeGreaterThan(1000);
    expect(s.diskBytes).toBeGreaterThan(0);
    expect(again.list().map((r) => r.id)).toEqual(['song-a', 'song-b']);
    const ds = matchPcm(again, b.subarray(8000 * 10, 8000 * 30));
    expect(ds).toHaveLength(1);
    expect(ds[0].recording).toBe('song-b');
    expect(ds[0].refStart).toBeGreaterThan(9);
    expect(ds[0].refStart).toBeLessThan(11);
    again.close();
  });

  it('removes a recording: it is no longer detected, in this process and after reopening', () => {
    const dir = tmpIndexDir();
    const a = song(30, 3);
    const idx = ReferenceIndex.open(dir);
    idx.add({ id: 'x' }, 30, extractPeaks(a, 'reference'), 'hx');
    expect(matchPcm(idx, a)).toHaveLength(1);
    expect(idx.remove('x')).toBe(true);
    expect(idx.remove('x')).toBe(false);
    expect(matchPcm(idx, a)).toHaveLength(0);
    idx.close();
    const again = ReferenceIndex.open(dir);
    expect(again.stats().recordings).toBe(0);
    expect(matchPcm(again, a)).toHaveLength(0);
    again.close();
  });

  it('a running matcher picks up recordings another process enrolled, without a rebuild', () => {
    const dir = tmpIndexDir();
    const running = ReferenceIndex.open(dir);
    const writer = ReferenceIndex.open(dir);
    const c = song(30, 4);
    expect(matchPcm(running, c)).toHaveLength(0);
    writer.add({ id: 'late' }, 30, extractPeaks(c, 'reference'), 'hl');
    expect(running.refresh()).toEqual({ added: 1, removed: 0 });
    expect(running.lookup.delta.count).toBeGreaterThan(0); // went to the delta, main table untouched
    expect(matchPcm(running, c).map((d) => d.recording)).toEqual(['late']);
    writer.remove('late');
    expect(running.refresh()).toEqual({ added: 0, removed: 1 });
    expect(matchPcm(running, c)).toHaveLength(0);
    running.close();
    writer.close();
  });

  it('refuses an index built with another fingerprint scheme', () => {
    const dir = tmpIndexDir();
    ReferenceIndex.open(dir).close();
    const db = new Database(join(dir, 'index.db'));
    db.prepare("UPDATE meta SET value = 'old-scheme' WHERE key = 'scheme'").run();
    db.close();
    expect(() => ReferenceIndex.open(dir)).toThrow(/scheme old-scheme/);
  });

  it('stores dense reference peaks beside the hashed ones, and opens an index made before them', () => {
    const dir = tmpIndexDir();
    const ex = new EnrolmentExtractor();
    ex.push(song(30, 7));
    const { peaks, densePeaks } = ex.flush();
    // the same STFT at query density: about twice as many, holding nearly all the hashed ones
    expect(densePeaks.length).toBeGreaterThan(1.5 * peaks.length);
    expect(peaks).toEqual(extractPeaks(song(30, 7), 'reference'));
    const dense = new Set(densePeaks.map((p) => `${p.t}:${p.f}`));
    expect(peaks.filter((p) => dense.has(`${p.t}:${p.f}`)).length).toBeGreaterThan(0.95 * peaks.length);

    const idx = ReferenceIndex.open(dir);
    idx.add({ id: 'old' }, 30, peaks, 'h-old', densePeaks);
    idx.close();
    // make it an index of the previous layout: no dense_peaks column
    const db = new Database(join(dir, 'index.db'));
    db.exec('ALTER TABLE recordings DROP COLUMN dense_peaks');
    db.close();

    const ro = ReferenceIndex.open(dir, { readonly: true });
    expect(ro.densePeaksOf('old')).toBeUndefined();
    expect(ro.stats().withoutDensePeaks).toBe(1);
    expect(matchPcm(ro, song(30, 7).subarray(8000 * 5, 8000 * 25)).map((d) => d.recording)).toEqual(['old']);
    ro.close();

    const rw = ReferenceIndex.open(dir);
    rw.add({ id: 'new' }, 30, extractPeaks(song(30, 8), 'reference'), 'h-new', densePeaks);
    expect(rw.densePeaksOf('old')).toBeUndefined();
    expect(rw.densePeaksOf('new')).toEqual(densePeaks);
    expect(rw.stats().withoutDensePeaks).toBe(1);
    rw.close();
    const reopened = ReferenceIndex.open(dir);
    expect(reopened.densePeaksOf('new')).toHaveLength(densePeaks.length);
    reopened.close();
  });

  it('measures at enrolment where a recording is audible, through the decoder, and opens an index made before that', async () => {
    const dir = tmpIndexDir();
    // 1.5 s of silence, 20 s of music, a 2-s tail 60 dB down (below -50 dBFS), 1 s of silence
    const sr = 8000;
    const music = song(20, 11);
    const pcm = new Float32Array(Math.round(24.5 * sr));
    pcm.set(music, 1.5 * sr);
    const tail = song(2, 12).map((v) => v * 10 ** (-60 / 20));
    pcm.set(tail, 21.5 * sr);
    const path = join(dir, 'quiet-ends.wav');
    writeWav(path, [pcm], sr);
    const idx = ReferenceIndex.open(dir);
    await enrollFile(idx, path);
    const span = idx.store.soundSpanOf('quiet-ends')!;
    expect(span.startSec).toBeCloseTo(1.5, 1);
    // the music's last note decays within its block; the tail is not audible
    expect(span.endSec).toBeGreaterThan(21.3);
    expect(span.endSec).toBeLessThanOrEqual(21.55);
    expect(idx.lookup.soundSpan!(idx.lookup.recordings[0])).toEqual(span);
    idx.close();

    // an index of the previous layout: no sound span columns; read-only it reads none, opened for
    // writing it gains the columns and keeps NULL for what was enrolled before
    const db = new Database(join(dir, 'index.db'));
    db.exec('ALTER TABLE recordings DROP COLUMN sound_start_sec');
    db.exec('ALTER TABLE recordings DROP COLUMN sound_end_sec');
    db.close();
    const ro = ReferenceIndex.open(dir, { readonly: true });
    expect(ro.store.soundSpanOf('quiet-ends')).toBeUndefined();
    ro.close();
    const rw = ReferenceIndex.open(dir);
    expect(rw.store.soundSpanOf('quiet-ends')).toBeUndefined();
    rw.add({ id: 'new' }, 30, extractPeaks(song(30, 8), 'reference'), 'h-new', undefined, {
      startSec: 0.2,
      endSec: 29.5,
    });
    expect(rw.store.soundSpanOf('new')).toEqual({ startSec: 0.2, endSec: 29.5 });
    rw.close();
  });

  it('synthetic padding grows the postings without creating detections', () => {
    const dir = tmpIndexDir();
    const a = song(30, 6);
    const idx = ReferenceIndex.open(dir);
    idx.add({ id: 'real' }, 30, extractPeaks(a, 'reference'), 'hr');
    const before = idx.stats().postings;
    idx.padSynthetic(1, 42);
    expect(idx.stats().postings).toBeGreaterThan(before * 50);
    expect(idx.stats().syntheticHours).toBeCloseTo(1, 1);
    // padding again adds the same amount again: it draws on real postings only
    const once = idx.stats().postings - before;
    idx.padSynthetic(1, 43);
    expect(idx.stats().postings - before).toBeGreaterThan(1.9 * once);
    expect(idx.stats().postings - before).toBeLessThan(2.1 * once);
    expect(matchPcm(idx, song(30, 99))).toHaveLength(0);
    expect(matchPcm(idx, a).map((d) => d.recording)).toEqual(['real']);
    idx.close();
  });
});
