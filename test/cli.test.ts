import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeSong, SYNTH_VERSION } from '../scripts/synth/music.js';
import { writeWav } from '../scripts/synth/wav.js';

/** The real CLI in a child process, as a user runs it. */
function tyndau(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CACHE = join(process.cwd(), '.cache', 'cli');
const work = mkdtempSync(join(tmpdir(), 'tyndau-cli-'));
const index = join(work, 'index');
let songA: string;
let songB: string;
let query: string;

function song(seed: number, sec: number): string {
  const p = join(CACHE, `song-v${SYNTH_VERSION}-${seed}-${sec}.wav`);
  if (!existsSync(p)) {
    const s = synthesizeSong(seed, sec, 22050);
    writeWav(p, [s.left, s.right], 22050);
  }
  return p;
}

beforeAll(() => {
  mkdirSync(CACHE, { recursive: true });
  songA = song(31, 30);
  songB = song(32, 30);
  // a query: 12 s of song B encoded as MP3 and played 3 % fast
  query = join(work, 'query.mp3');
  const r = spawnSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-ss',
    '8',
    '-t',
    '12',
    '-i',
    songB,
    '-af',
    'asetrate=22050*1.03,aresample=22050',
    '-b:a',
    '96k',
    query,
  ]);
  expect(r.status).toBe(0);
});

describe('tyndau CLI', () => {
  it('enrols from a CSV manifest, then matches with exact jsonl lines', () => {
    const manifest = join(work, 'manifest.csv');
    writeFileSync(
      manifest,
      `id,title,artist,isrc,path\nrec-a,Song A,Tester,KZ-ABC-26-00001,${songA}\nrec-b,Song B,Tester,KZ-ABC-26-00002,${songB}\n`,
    );
    const en = tyndau(['enroll', '--manifest', manifest, '--index', index]);
    expect(en.code, en.stderr).toBe(0);
    expect(en.stdout).toMatch(/enrolled\s+rec-a/);
    expect(en.stdout).toMatch(/enrolled\s+rec-b/);

    const m = tyndau(['match', query, '--format', 'jsonl'], { TYNDAU_INDEX: index });
    expect(m.code, m.stderr).toBe(0);
    const lines = m.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0])).toEqual([
      'file',
      'recording',
      'start',
      'end',
      'refStart',
      'refEnd',
      'speed',
      'confidence',
    ]);
    expect(lines[0].file).toBe(query);
    expect(lines[0].recording).toBe('rec-b');
    expect(lines[0].speed).toBeCloseTo(1.03, 2);
    expect(lines[0].refStart).toBeGreaterThan(7);
    expect(lines[0].refStart).toBeLessThan(9.5);
    expect(lines[0].confidence).toBeGreaterThan(0.9);
  });

  it('prints csv and table formats, stats and list', () => {
    const csv = tyndau(['match', query, '--format', 'csv', '--index', index]);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('file,recording,start,end,refStart,refEnd,speed,confidence');
    const table = tyndau(['match', query, '--index', index]);
    expect(table.stdout).toMatch(/1 detection/);
    const stats = tyndau(['index', 'stats', '--json', '--index', index]);
    const s = JSON.parse(stats.stdout);
    expect(s.recordings).toBe(2);
    expect(s.hours).toBeCloseTo(60 / 3600, 3);
    expect(s.postings).toBeGreaterThan(0);
    const list = tyndau(['index', 'list', '--format', 'jsonl', '--index', index]);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).isrc),
    ).toEqual(['KZ-ABC-26-00001', 'KZ-ABC-26-00002']);
  });

  it('reports a duplicate enrolment and refuses to reuse an id', () => {
    const dupFile = join(work, 'copy-of-a.mp3');
    spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', songA, '-b:a', '128k', dupFile]);
    const dup = tyndau(['enroll', dupFile, '--index', index]);
    expect(dup.code).toBe(0);
    expect(dup.stdout).toMatch(/duplicate\s+copy-of-a: same audio as enrolled "rec-a"/);
    const again = tyndau(['enroll', songA, '--id', 'rec-a', '--index', index]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already enrolled/);
  });

  it('removes a recording', () => {
    const rm = tyndau(['index', 'remove', 'rec-b', '--index', index]);
    expect(rm.code).toBe(0);
    const m = tyndau(['match', query, '--format', 'jsonl', '--index', index]);
    expect(m.stdout.trim()).toBe('');
    const missing = tyndau(['index', 'remove', 'nope', '--index', index]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not enrolled: nope/);
  });

  it('bad input: clear message, non-zero exit, nothing written', () => {
    const none = tyndau(['match', join(work, 'missing.mp3'), '--index', index]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/missing\.mp3: no such file/);
    const text = join(work, 'notes.mp3');
    writeFileSync(text, 'this is not audio at all\n'.repeat(50));
    const bad = tyndau(['match', text, '--index', index]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not audio/);
    const empty = join(work, 'empty.wav');
    writeFileSync(empty, '');
    const en = tyndau(['enroll', empty, '--index', index]);
    expect(en.code).toBe(1);
    expect(en.stderr).toMatch(/empty\.wav/);
    const silent = join(work, 'silent.wav');
    spawnSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'anullsrc=r=8000:cl=mono',
      '-t',
      '5',
      silent,
    ]);
    const sil = tyndau(['enroll', silent, '--index', index]);
    expect(sil.code).toBe(1);
    expect(sil.stderr).toMatch(/no audible content/);
    const fmt = tyndau(['match', query, '--format', 'xml', '--index', index]);
    expect(fmt.code).not.toBe(0);
    expect(fmt.stderr).toMatch(/Allowed choices are table, csv, jsonl/);
    // the failed enrolments left the index as it was
    const stats = JSON.parse(tyndau(['index', 'stats', '--json', '--index', index]).stdout);
    expect(stats.recordings).toBe(1);
  });

  it('has --help for each command', () => {
    for (const cmd of [['enroll'], ['match'], ['index', 'stats'], ['index', 'list'], ['index', 'remove']]) {
      const h = tyndau([...cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Usage: tyndau/);
    }
  });
});
