import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderBroadcast, type Timeline, type TruthAiring } from '../scripts/sim/index.js';
import type { MusicSegment } from '../scripts/sim/types.js';
import { synthesizeSong, SYNTH_VERSION } from '../scripts/synth/music.js';
import { writeWav } from '../scripts/synth/wav.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { decodeAudio } from '../src/audio/index.js';
import { ANALYSIS_SAMPLE_RATE } from '../src/fingerprint/index.js';
import { StreamMatcher, matchFile, type Detection } from '../src/match/index.js';

/**
 * End to end through the real decoder (ffmpeg), on audio the project generates: songs from the seeded
 * synthesiser, broadcasts rendered by the simulator with codecs, processing, speed and tempo changes,
 * speech over music (espeak-ng), crossfades and unregistered music.
 */
const CACHE = join(process.cwd(), '.cache', 'e2e');
const work = mkdtempSync(join(tmpdir(), 'tyndau-e2e-'));
const SONG_SEC = 40;
const REGISTERED = [11, 12, 13, 14, 15];
const UNREGISTERED = [91, 92];

function songPath(seed: number): string {
  const p = join(CACHE, `song-v${SYNTH_VERSION}-${seed}-${SONG_SEC}.wav`);
  if (!existsSync(p)) {
    const s = synthesizeSong(seed, SONG_SEC, 22050);
    writeWav(p, [s.left, s.right], 22050);
  }
  return p;
}

const id = (seed: number) => `song-${seed}`;
let index: ReferenceIndex;

function music(
  seed: number,
  atSec: number,
  refStartSec: number,
  refEndSec: number,
  extra: Partial<MusicSegment> = {},
): MusicSegment {
  return {
    kind: 'music' as const,
    source: songPath(seed),
    recording: id(seed),
    registered: REGISTERED.includes(seed),
    atSec,
    refStartSec,
    refEndSec,
    ...extra,
  };
}

const DJ_LINES = [
  'Новости спорта, погода и музыка на нашей волне.',
  'Сегодня у нас в гостях известные артисты.',
  'Оставайтесь с нами, впереди много интересного.',
  'Прогноз погоды на завтра: солнечно и тепло.',
];

/**
 * `count` beds of 3 s, 9 s apart from `firstAt`, of the registered songs in turn (from reference second
 * 3 + (i * refStep) % 30), each under its own DJ line as loud as the music, in voices[i % 2].
 */
function beds(
  count: number,
  firstAt: number,
  refStep: number,
  voices: [string, string],
): Timeline['segments'] {
  const segments: Timeline['segments'] = [];
  for (let i = 0; i < count; i++) {
    const at = firstAt + i * 9;
    const ref = 3 + ((i * refStep) % 30);
    segments.push(music(REGISTERED[i % 5], at, ref, ref + 3, { fadeInSec: 0.2, fadeOutSec: 0.2 }));
    segments.push({ kind: 'speech', text: DJ_LINES[i % 4], voice: voices[i % 2], atSec: at + 0.2, snrDb: 0 });
  }
  return segments;
}

/** A detection of the airing's recording that overlaps it. */
const hit = (t: TruthAiring, d: Detection) =>
  d.recording === t.recording && d.end > t.start && d.start < t.end;

async function run(name: string, timeline: Timeline): Promise<{ truth: TruthAiring[]; found: Detection[] }> {
  const out = join(
    work,
    `${name}.${timeline.chain?.codec === 'aac' ? 'm4a' : (timeline.chain?.codec ?? 'wav')}`,
  );
  const rendered = await renderBroadcast(timeline, out, { speechCacheDir: join(CACHE, 'speech') });
  const found = await matchFile(index, rendered.path);
  return { truth: rendered.truth, found };
}

/** Every registered airing found once, with boundaries within `tolSec`; nothing else reported. */
function expectExact(truth: TruthAiring[], found: Detection[], tolSec = 1) {
  const registered = truth.filter((t) => t.registered);
  for (const t of registered) {
    const hits = found.filter((d) => hit(t, d));
    expect(hits, `${t.recording} at ${t.start}-${t.end}`).toHaveLength(1);
    expect(
      Math.abs(hits[0].start - t.start),
      `start of ${t.recording}: ${hits[0].start} vs ${t.start}`,
    ).toBeLessThanOrEqual(tolSec);
    expect(
      Math.abs(hits[0].end - t.end),
      `end of ${t.recording}: ${hits[0].end} vs ${t.end}`,
    ).toBeLessThanOrEqual(tolSec);
    expect(hits[0].speed).toBeCloseTo(t.speed * t.tempo, 2);
  }
  const unexplained = found.filter(
    (d) => !registered.some((t) => t.recording === d.recording && d.end > t.start && d.start < t.end),
  );
  expect(unexplained, 'false detections').toEqual([]);
}

beforeAll(async () => {
  mkdirSync(CACHE, { recursive: true });
  index = ReferenceIndex.open(join(work, 'index'));
  for (const seed of REGISTERED) {
    const r = await enrollFile(index, songPath(seed), { id: id(seed) });
    expect(r.status).toBe('enrolled');
  }
  for (const seed of UNREGISTERED) songPath(seed);
});

describe('recognition end to end', () => {
  it('radio chain: MP3 64 kbps, compression, EQ, crossfades, DJ speech over an intro, a jingle, unregistered music', async () => {
    const { truth, found } = await run('radio', {
      condition: 'radio',
      segments: [
        music(11, 0, 0, 30, { fadeOutSec: 3 }),
        music(12, 27, 5, 33, { fadeInSec: 3, fadeOutSec: 3 }),
        {
          kind: 'speech',
          text: 'Good evening, you are listening to Tyndau radio, and here is the next song.',
          voice: 'en',
          atSec: 30.5,
          snrDb: 0,
        },
        { kind: 'jingle', atSec: 54.5, durationSec: 4, seed: 3 },
        music(91, 59, 0, 25, { fadeOutSec: 2 }),
        music(13, 84, 10, 34),
      ],
      chain: {
        codec: 'mp3',
        bitrateKbps: 64,
        compress: true,
        limit: true,
        eq: { bassDb: 4, midDb: -3, trebleDb: 2 },
      },
    });
    expectExact(truth, found);
  });

  it("whole plays under 5-6 s crossfades run from the recording's own start to its end; excerpts after talk or silence keep their start", async () => {
    const timeline: Timeline = {
      condition: 'radio',
      segments: [
        music(11, 0, 0, 30, { fadeOutSec: 5 }),
        music(12, 25, 0, SONG_SEC, { fadeInSec: 5, fadeOutSec: 6 }),
        music(13, 25 + SONG_SEC - 6, 0, 30, { fadeInSec: 6 }),
        { kind: 'speech', text: DJ_LINES[1], voice: 'ru+f2', atSec: 89, snrDb: 0 },
        music(14, 95, 1.5, 31.5),
        music(15, 130, 1.2, 31.2),
      ],
      chain: { codec: 'mp3', bitrateKbps: 128, compress: true, limit: true },
    };
    const out = join(work, 'play-through.mp3');
    const rendered = await renderBroadcast(timeline, out, { speechCacheDir: join(CACHE, 'speech') });
    const withRule = await matchFile(index, rendered.path);
    const without = await matchFile(index, rendered.path, { playThrough: false });
    const edges = (found: Detection[]) =>
      new Map(
        rendered.truth.map((t) => {
          const hits = found.filter((d) => hit(t, d));
          expect(hits, `${t.recording} at ${t.start}`).toHaveLength(1);
          const d = hits[0];
          return [
            t.recording,
            { start: d.start - t.start, end: d.end - t.end, refStart: d.refStart },
          ] as const;
        }),
      );
    const on = edges(withRule);
    const off = edges(without);
    // song 12 aired whole between two crossfades, song 13 from its start: from the first sample of the
    // fade-in (and to the last of the fade-out) within 0.3 s, where the edge searches alone stop short
    for (const rec of [id(12), id(13)]) {
      expect(Math.abs(on.get(rec)!.start), `${rec} start`).toBeLessThanOrEqual(0.3);
      expect(on.get(rec)!.refStart).toBeLessThanOrEqual(0.3);
      expect(off.get(rec)!.start, `${rec} start without the rule`).toBeGreaterThan(0.6);
    }
    expect(Math.abs(on.get(id(12))!.end)).toBeLessThanOrEqual(0.3);
    expect(off.get(id(12))!.end).toBeLessThan(-0.4);
    // a play cut before the recording's end is not taken to it (song 11 stops at 30 s of 40)
    expect(on.get(id(11))!.end).toBeLessThanOrEqual(0.3);
    // excerpts starting 1.5 s (after talk) and 1.2 s (after silence) into the recording keep their start
    expect(Math.abs(on.get(id(14))!.start)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(on.get(id(15))!.start)).toBeLessThanOrEqual(0.3);
    expect(withRule.filter((d) => !rendered.truth.some((t) => hit(t, d)))).toEqual([]);
  });

  it('speed changes of +-4 % (pitch and tempo) and tempo-only stretches of +-4 %', async () => {
    const { truth, found } = await run('speed', {
      condition: 'speed',
      segments: [
        music(11, 0, 2, 32, { speed: 1.04 }),
        music(12, 30, 2, 32, { speed: 0.96 }),
        music(14, 62, 2, 32, { tempo: 1.04 }),
        music(15, 92, 2, 32, { tempo: 0.96 }),
      ],
      chain: { codec: 'aac', bitrateKbps: 64 },
    });
    expectExact(truth, found);
  });

  it('music under dialogue, noise at 5 dB SNR, partial plays of 6 s and the same song twice', async () => {
    const { truth, found } = await run('tv', {
      condition: 'tv',
      segments: [
        music(14, 0, 5, 30),
        {
          kind: 'speech',
          text: 'Мы начинаем вечерний выпуск новостей. Сегодня в студии наши гости.',
          voice: 'ru',
          atSec: 3,
          snrDb: 5,
        },
        { kind: 'speech', text: 'Қайырлы кеш, құрметті көрермендер.', voice: 'kk', atSec: 14, snrDb: 5 },
        music(92, 26, 0, 15),
        music(15, 42, 20, 26),
        music(14, 50, 5, 20),
      ],
      chain: { codec: 'wav', noise: { snrDb: 5, color: 'pink', seed: 2 } },
    });
    expectExact(truth, found);
  });

  it('short plays of 3 s: found when the spectrum confirms them, even with too few matched points', async () => {
    // 3-second cuts of registered songs between unregistered music, some under speech at 0 dB
    const segments: Timeline['segments'] = [music(91, 0, 0, 12)];
    const plays = [
      [11, 6],
      [12, 14],
      [13, 22],
      [14, 9],
      [15, 27],
      [11, 31],
    ] as const;
    plays.forEach(([seed, ref], i) => segments.push(music(seed, 12 + i * 7, ref, ref + 3)));
    segments.push(music(92, 12 + plays.length * 7, 0, 12));
    segments.push({
      kind: 'speech',
      text: 'Новости спорта, погода и музыка. Сегодня у нас в гостях известные артисты, они расскажут о новом альбоме.',
      voice: 'ru',
      atSec: 12,
      snrDb: 0,
    });
    const { truth, found } = await run('short', {
      condition: 'short-3s',
      segments,
      chain: { codec: 'mp3', bitrateKbps: 64, noise: { snrDb: 5, color: 'pink', seed: 4 } },
    });
    const registered = truth.filter((t) => t.registered);
    const hit = (t: TruthAiring, ds: Detection[]) =>
      ds.some((d) => d.recording === t.recording && d.end > t.start && d.start < t.end);
    // nothing that did not air; 5 of the 6 plays found (3 before the check against nearby times), with tight edges
    expect(found.filter((d) => !registered.some((t) => hit(t, [d])))).toEqual([]);
    const foundPlays = registered.filter((t) => hit(t, found));
    expect(foundPlays.length).toBeGreaterThanOrEqual(5);
    for (const t of foundPlays) {
      const d = found.find((x) => hit(t, [x]))!;
      expect(Math.abs(d.start - t.start) + Math.abs(d.end - t.end)).toBeLessThan(1.5);
    }
    // without the spectrum check the same audio gives fewer: the verification found the rest
    const unverified = await matchFile(index, join(work, 'short.mp3'), { verifyShort: false });
    expect(registered.filter((t) => hit(t, unverified)).length).toBeLessThan(foundPlays.length);
  });

  it('beds of 3 s under a voice at 0 dB: a few matched points, found when the spectrum verifies them', async () => {
    // 16 beds, each under its own DJ line as loud as the music; most leave 0-5 consistent triplets
    const segments = beds(16, 1, 7, ['kk', 'ru']);
    const { truth, found } = await run('beds', {
      condition: 'short-3s',
      segments,
      chain: { codec: 'mp3', bitrateKbps: 64 },
    });
    expect(found.filter((d) => !truth.some((t) => hit(t, d)))).toEqual([]);
    const foundBeds = truth.filter((t) => found.some((d) => hit(t, d)));
    // tracks of 4-5 points verified against nearby times over the airing's extent (session 6): 4 of
    // the 16; before, only the one that left 8 points
    expect(foundBeds.length).toBeGreaterThanOrEqual(3);
    for (const t of foundBeds) {
      const d = found.find((x) => hit(t, x))!;
      expect(Math.abs(d.start - t.start) + Math.abs(d.end - t.end)).toBeLessThan(2);
    }
    const unverified = await matchFile(index, join(work, 'beds.mp3'), { verifyShort: false });
    expect(truth.filter((t) => unverified.some((d) => hit(t, d))).length).toBeLessThan(foundBeds.length);
  });

  it('beds of recordings the station aired earlier: the rotation search finds what the triplets miss', async () => {
    // each song airs clean first (a jingle of 8 s), then comes back as 3-s beds under a voice at 0 dB
    const segments: Timeline['segments'] = [
      ...REGISTERED.map((seed, i) => music(seed, 1 + i * 10, 20, 28, { fadeInSec: 0.2, fadeOutSec: 0.2 })),
      ...beds(12, 55, 11, ['ru', 'kk']),
    ];
    const { truth, found } = await run('rotation', {
      condition: 'short-3s',
      segments,
      chain: { codec: 'mp3', bitrateKbps: 64 },
    });
    expect(found.filter((d) => !truth.some((t) => hit(t, d)))).toEqual([]);
    // one detection per airing: a bed found by the rotation is not also a fragment of another track
    for (const t of truth) expect(found.filter((d) => hit(t, d)).length).toBeLessThanOrEqual(1);
    const jingles = truth.filter((t) => t.start < 50);
    const played = truth.filter((t) => t.start >= 50);
    expect(jingles.filter((t) => found.some((d) => hit(t, d)))).toHaveLength(5);
    const foundBeds = played.filter((t) => found.some((d) => hit(t, d)));
    for (const t of foundBeds) {
      const d = found.find((x) => hit(t, x))!;
      expect(Math.abs(d.start - t.start) + Math.abs(d.end - t.end)).toBeLessThan(2);
    }
    const without = await matchFile(index, join(work, 'rotation.mp3'), { rotation: false });
    const foundWithout = played.filter((t) => without.some((d) => hit(t, d)));
    // measured: 9 of the 12 beds with the rotation, none without it
    expect(foundBeds.length).toBeGreaterThanOrEqual(7);
    expect(foundWithout.length).toBeLessThanOrEqual(foundBeds.length - 4);
  });

  it('beds after a restart: recordings remembered from the stored detections are in the rotation from the first second', async () => {
    // only the beds this time: the songs aired before the matcher started (a monitor restart)
    const { truth, found } = await run('rotation-restart', {
      condition: 'short-3s',
      segments: beds(12, 5, 11, ['kk', 'ru']),
      chain: { codec: 'mp3', bitrateKbps: 64 },
    });
    const m = new StreamMatcher(index);
    for (const seed of REGISTERED) expect(m.remember(id(seed), 1, 1800)).toBe(true);
    expect(m.remember('never-enrolled', 1, 60)).toBe(false);
    expect(m.rotationRecordings()).toEqual(REGISTERED.map(id).reverse());
    const remembered: Detection[] = [];
    for await (const chunk of decodeAudio(join(work, 'rotation-restart.mp3'), {
      sampleRate: ANALYSIS_SAMPLE_RATE,
    }))
      remembered.push(...m.push(chunk));
    remembered.push(...m.flush());
    expect(remembered.filter((d) => !truth.some((t) => hit(t, d)))).toEqual([]);
    const withMemory = truth.filter((t) => remembered.some((d) => hit(t, d)));
    const fresh = truth.filter((t) => found.some((d) => hit(t, d)));
    expect(withMemory.length).toBeGreaterThanOrEqual(7);
    expect(fresh.length).toBeLessThanOrEqual(withMemory.length - 4);
  });

  it('a loop (the same 10 s twice in one recording): one detection per airing, never two over the same airtime', async () => {
    // both offsets of the loop match the audio equally well; reporting both would pay the airtime twice
    const s = synthesizeSong(92, SONG_SEC, 22050);
    const part = (ch: Float32Array) => ch.subarray(5 * 22050, 15 * 22050);
    const twice = (ch: Float32Array) => {
      const out = new Float32Array(20 * 22050);
      out.set(part(ch));
      out.set(part(ch), 10 * 22050);
      return out;
    };
    const loopPath = join(work, 'loop-92.wav');
    writeWav(loopPath, [twice(s.left), twice(s.right)], 22050);
    expect((await enrollFile(index, loopPath, { id: 'loop-92' })).status).toBe('enrolled');
    const loop = (atSec: number, refStartSec: number, refEndSec: number): MusicSegment => ({
      kind: 'music',
      source: loopPath,
      recording: 'loop-92',
      registered: true,
      atSec,
      refStartSec,
      refEndSec,
    });
    const { truth, found } = await run('loop', {
      condition: 'radio',
      segments: [
        loop(1, 0, 20),
        music(13, 23, 0, 10),
        loop(35, 4, 18),
        loop(52, 5, 15),
        {
          kind: 'speech',
          text: 'Сегодня у нас в гостях известные артисты, они расскажут о новом альбоме.',
          voice: 'ru',
          atSec: 52.5,
          snrDb: 0,
        },
        loop(66, 2, 12),
      ],
      chain: { codec: 'mp3', bitrateKbps: 128, noise: { snrDb: 15, color: 'pink', seed: 5 } },
    });
    const loops = found.filter((d) => d.recording === 'loop-92');
    for (const a of loops)
      for (const b of loops)
        if (a !== b) expect(Math.min(a.end, b.end) - Math.max(a.start, b.start)).toBeLessThanOrEqual(0);
    for (const t of truth.filter((x) => x.recording === 'loop-92')) {
      const mine = loops.filter((d) => d.end > t.start && d.start < t.end);
      expect(mine, `loop at ${t.start}`).toHaveLength(1);
      expect(Math.abs(mine[0].start - t.start) + Math.abs(mine[0].end - t.end)).toBeLessThan(2);
    }
    index.remove('loop-92');
  });

  it('reports nothing for unregistered music and speech alone', async () => {
    const { found } = await run('nothing', {
      condition: 'unregistered',
      segments: [
        music(91, 0, 0, 40),
        {
          kind: 'speech',
          text: 'This programme contains no registered music at all, only talk and unregistered songs.',
          voice: 'en',
          atSec: 41,
        },
        music(92, 48, 0, 40),
      ],
      chain: { codec: 'mp3', bitrateKbps: 128 },
    });
    expect(found).toEqual([]);
  });
});
