import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildConditionTimeline,
  CONDITION_IDS,
  renderBroadcast,
  Rng,
  SourceCache,
  synthesizeSpeech,
  type CatalogueTrack,
  type Timeline,
} from '../scripts/sim/index.js';

const RATE = 22050;
let dir: string;
let songA: string;
let songB: string;

/** A generated "song": a seeded melody of harmonic notes over a soft pulse, written as a wav by ffmpeg. */
function writeSong(path: string, seconds: number, seed: number): void {
  const rng = new Rng(seed);
  const pcm = new Float32Array(seconds * RATE);
  const noteLen = Math.round(RATE * 0.25);
  for (let start = 0; start < pcm.length; start += noteLen) {
    const f = 220 * Math.pow(2, rng.int(0, 24) / 12);
    for (let i = 0; i < noteLen && start + i < pcm.length; i++) {
      const t = i / RATE;
      const env = Math.exp(-6 * t);
      pcm[start + i] = 0.25 * env * (Math.sin(2 * Math.PI * f * t) + 0.4 * Math.sin(4 * Math.PI * f * t));
    }
  }
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-y', '-f', 'f32le', '-ar', String(RATE), '-ac', '1', '-i', '-', path],
    {
      input: Buffer.from(pcm.buffer),
    },
  );
}

function decode(path: string): Float32Array {
  const out = execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-ac', '1', '-ar', String(RATE), '-f', 'f32le', '-'],
    {
      maxBuffer: 1 << 28,
    },
  );
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
}

function rmsDb(pcm: Float32Array, fromSec: number, toSec: number): number {
  let sum = 0;
  const a = Math.round(fromSec * RATE);
  const b = Math.round(toSec * RATE);
  for (let i = a; i < b; i++) sum += pcm[i] * pcm[i];
  return 10 * Math.log10(sum / (b - a) + 1e-20);
}

/** Normalised correlation of `x` at offset `atSec` with `y` (from `ySec`), over `lenSec`. */
function correlationAt(
  x: Float32Array,
  atSec: number,
  y: Float32Array,
  ySec: number,
  lenSec: number,
): number {
  const n = Math.round(lenSec * RATE);
  const a = Math.round(atSec * RATE);
  const b = Math.round(ySec * RATE);
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < n; i++) {
    xy += x[a + i] * y[b + i];
    xx += x[a + i] ** 2;
    yy += y[b + i] ** 2;
  }
  return xy / Math.sqrt(xx * yy);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tyndau-sim-'));
  songA = join(dir, 'song-a.wav');
  songB = join(dir, 'song-b.wav');
  writeSong(songA, 60, 1);
  writeSong(songB, 60, 2);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('renderBroadcast', () => {
  it('renders a 2-minute broadcast whose audio is where its ground truth says', async () => {
    const timeline: Timeline = {
      durationSec: 120,
      condition: 'test',
      segments: [
        {
          kind: 'music',
          source: songA,
          recording: 'A',
          registered: true,
          atSec: 2,
          refStartSec: 5,
          refEndSec: 45,
          fadeOutSec: 3,
        },
        {
          kind: 'music',
          source: songB,
          recording: 'B',
          registered: true,
          atSec: 39,
          refStartSec: 0,
          refEndSec: 41.2,
          speed: 1.03,
          fadeInSec: 3,
          tags: ['crossfade-in'],
        },
        { kind: 'speech', text: 'Добрый вечер, с вами радио Тыңдау.', voice: 'ru+m3', atSec: 50, snrDb: 0 },
        { kind: 'jingle', atSec: 100, durationSec: 4, seed: 7 },
      ],
      chain: { codec: 'mp3', bitrateKbps: 128, outputSampleRate: 44100, channels: 2 },
    };
    const out = join(dir, 'day.mp3');
    const r = await renderBroadcast(timeline, out, { speechCacheDir: join(dir, 'speech') });

    expect(r.durationSec).toBe(120);
    expect(r.truth.map((t) => t.recording)).toEqual(['A', 'B']);
    const [a, b] = r.truth;
    expect(a).toMatchObject({
      start: 2,
      end: 42,
      refStart: 5,
      refEnd: 45,
      speed: 1,
      tempo: 1,
      snrDb: null,
      condition: 'test',
    });
    expect(b.start).toBe(39);
    expect(b.end).toBeCloseTo(39 + 41.2 / 1.03, 1);
    expect(b.snrDb).toBeCloseTo(0, 1); // the speech was scaled to 0 dB against song B
    expect(b.tags).toEqual(['crossfade-in']);

    const pcm = decode(out);
    expect(pcm.length / RATE).toBeCloseTo(120, 1);
    const src = decode(songA);
    // Song A's reference second 15 plays at broadcast second 12, sample-aligned (MP3 delay is trimmed).
    expect(correlationAt(pcm, 12, src, 15, 5)).toBeGreaterThan(0.9);
    expect(Math.abs(correlationAt(pcm, 12.05, src, 15, 5))).toBeLessThan(0.5);
    // Silence before the first airing, music inside, silence between the end of B and the jingle.
    expect(rmsDb(pcm, 0.2, 1.8)).toBeLessThan(-70);
    expect(rmsDb(pcm, b.end - 3, b.end - 0.5)).toBeGreaterThan(-40);
    expect(rmsDb(pcm, b.end + 0.3, 99.5)).toBeLessThan(-70);
    expect(rmsDb(pcm, 100.5, 103.5)).toBeGreaterThan(-40);
  });

  it('accounts for tempo-only stretching in the truth (played length = reference length / tempo)', async () => {
    const out = join(dir, 'tempo.wav');
    const r = await renderBroadcast(
      {
        segments: [
          {
            kind: 'music',
            source: songA,
            recording: 'A',
            registered: true,
            atSec: 1,
            refStartSec: 0,
            refEndSec: 21,
            tempo: 1.05,
          },
        ],
      },
      out,
    );
    const t = r.truth[0];
    expect(t.end - t.start).toBeCloseTo(20, 1);
    expect(t.tempo).toBe(1.05);
    const pcm = decode(out);
    expect(rmsDb(pcm, 18, 20.8)).toBeGreaterThan(-40);
    expect(rmsDb(pcm, 21.2, pcm.length / RATE)).toBeLessThan(-70);
  });

  it('rejects bad timelines with a clear message', async () => {
    const seg = {
      kind: 'music' as const,
      source: songA,
      recording: 'A',
      registered: true,
      atSec: 0,
      refStartSec: 0,
      refEndSec: 10,
    };
    await expect(
      renderBroadcast({ segments: [{ ...seg, refEndSec: -1 }] }, join(dir, 'x.wav')),
    ).rejects.toThrow(/segment 0 \(music\): needs 0 <= refStartSec < refEndSec/);
    await expect(renderBroadcast({ segments: [{ ...seg, speed: 3 }] }, join(dir, 'x.wav'))).rejects.toThrow(
      /speed must be in 0.5..2/,
    );
    await expect(
      renderBroadcast({ segments: [{ ...seg, refEndSec: 75 }] }, join(dir, 'x.wav')),
    ).rejects.toThrow(/plays to 75.00 s but .*song-a.wav lasts 60.00 s/);
    await expect(
      renderBroadcast({ segments: [{ ...seg, source: join(dir, 'missing.ogg') }] }, join(dir, 'x.wav')),
    ).rejects.toThrow(/source audio not found/);
    await expect(
      renderBroadcast({ segments: [seg], chain: { codec: 'mp3' } }, join(dir, 'x.wav')),
    ).rejects.toThrow(/mp3 output needs a \.mp3 file name/);
  });
});

describe('condition timelines', () => {
  const tracks = (): CatalogueTrack[] => [
    { id: 'A', path: songA, durationSec: 60, audibleStartSec: 0, audibleEndSec: 60, registered: true },
    { id: 'B', path: songB, durationSec: 60, audibleStartSec: 0, audibleEndSec: 60, registered: true },
    { id: 'U', path: songB, durationSec: 60, audibleStartSec: 0.5, audibleEndSec: 59, registered: false },
  ];
  const sources = new SourceCache(RATE);
  const speechSec = async (req: Parameters<typeof synthesizeSpeech>[0]): Promise<number> =>
    (await synthesizeSpeech(req, RATE, join(dir, 'speech'))).length / RATE;

  it('are a pure function of the seed', async () => {
    const ctx = { condition: 'radio' as const, fileIndex: 0, durationSec: 400, tracks: tracks(), speechSec };
    const one = await buildConditionTimeline({ ...ctx, seed: 's1' });
    const again = await buildConditionTimeline({ ...ctx, seed: 's1' });
    const other = await buildConditionTimeline({ ...ctx, seed: 's2' });
    expect(again).toEqual(one);
    expect(other).not.toEqual(one);
  });

  it('keep every airing inside its source and the file, for every condition', async () => {
    for (const condition of CONDITION_IDS) {
      const t = await buildConditionTimeline({
        condition,
        seed: `c/${condition}`,
        fileIndex: 1,
        durationSec: 180,
        tracks: tracks(),
        speechSec,
      });
      const music = t.segments.filter((s) => s.kind === 'music');
      if (condition === 'speech') expect(music).toHaveLength(0);
      else expect(music.length, condition).toBeGreaterThan(0);
      if (condition === 'unregistered') expect(music.every((m) => !m.registered)).toBe(true);
      for (const m of music) {
        const track = tracks().find((x) => x.id === m.recording)!;
        expect(m.refStartSec, condition).toBeGreaterThanOrEqual(track.audibleStartSec - 1e-3);
        expect(m.refEndSec, condition).toBeLessThanOrEqual(track.audibleEndSec + 1e-3);
        expect(m.atSec, condition).toBeLessThan(180);
        if (condition === 'speed') expect(Math.abs((m.speed ?? 1) - 1)).toBeGreaterThanOrEqual(0.01 - 1e-9);
        if (condition === 'tempo') expect(Math.abs((m.tempo ?? 1) - 1)).toBeGreaterThanOrEqual(0.02 - 1e-9);
        if (condition.startsWith('short-'))
          expect(m.refEndSec - m.refStartSec).toBeCloseTo(Number(condition.slice(6, -1)), 2);
      }
    }
  });

  it('render a condition end to end with crossfades inside 2..6 s', async () => {
    const t = await buildConditionTimeline({
      condition: 'speed',
      seed: 'e2e',
      fileIndex: 0,
      durationSec: 150,
      tracks: tracks(),
      speechSec,
    });
    const r = await renderBroadcast(t, join(dir, 'speed.mp3'), {
      sources,
      speechCacheDir: join(dir, 'speech'),
    });
    expect(r.truth.length).toBeGreaterThanOrEqual(2);
    for (const [i, x] of r.truth.entries()) {
      expect(x.condition).toBe('speed');
      expect(x.end - x.start).toBeCloseTo((x.refEnd - x.refStart) / x.speed, 1);
      const next = r.truth[i + 1];
      if (next && next.tags.includes('crossfade-in')) {
        const overlap = x.end - next.start;
        expect(overlap).toBeGreaterThan(0);
        expect(overlap).toBeLessThanOrEqual(6.01);
      }
    }
  });
});
