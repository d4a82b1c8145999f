// The monitor's pure parts: backoff, failover, clock, timeline, silence, gaps, stitching, retention,
// uptime and local days, MP3 framing, sources and channel validation, HLS playlists and their runs.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConnectionClock,
  DetectionStitcher,
  EvidenceRing,
  GapTracker,
  Mp3FrameSplitter,
  SilenceDetector,
  SourceSelector,
  Timeline,
  backoffDelayMs,
  channelsFromConfig,
  clipsToDelete,
  detectionId,
  ffmpegInputArgs,
  localDayBounds,
  loggerFileStartMs,
  monitorConfig,
  parseDateTime,
  parsePlaylist,
  parseSource,
  runFrom,
  advanceRun,
  continuesRun,
  seededRandom,
  uptimeRatio,
  validateChannel,
  zonedTimeToUtcMs,
  type UtcDetection,
} from '../src/monitor/index.js';

const policy = { backoffBaseMs: 1000, backoffMaxMs: 60_000, backoffFactor: 2, backoffJitter: 0.5 };

describe('backoff', () => {
  it('grows exponentially up to the cap, with the jitter share random and seeded', () => {
    const a = Array.from({ length: 10 }, (_, i) => backoffDelayMs(i + 1, policy, seededRandom(7)));
    const b = Array.from({ length: 10 }, (_, i) => backoffDelayMs(i + 1, policy, seededRandom(7)));
    expect(a).toEqual(b);
    const c = Array.from({ length: 10 }, (_, i) => backoffDelayMs(i + 1, policy, seededRandom(8)));
    expect(c).not.toEqual(a);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer(), (attempt, seed) => {
        const exp = Math.min(60_000, 1000 * 2 ** (attempt - 1));
        const d = backoffDelayMs(attempt, policy, seededRandom(seed));
        return d >= Math.floor(exp / 2) && d <= exp;
      }),
    );
    // many channels failing together spread out
    const r = seededRandom(1);
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(5, policy, r)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('rejects a bad attempt number and bad settings', () => {
    expect(() => backoffDelayMs(0, policy, Math.random)).toThrow(/attempt/);
    expect(() => monitorConfig({ backoffJitter: 2 })).toThrow(/backoffJitter/);
    expect(() => monitorConfig({ stallTimeoutMs: Number.NaN })).toThrow(/stallTimeoutMs/);
  });
});

describe('failover', () => {
  it('moves to the next source when one fails and probes the preferred one again after its delay', () => {
    const s = new SourceSelector(3, { ...policy, backoffJitter: 0 }, seededRandom(1));
    expect(s.pick(0)).toEqual({ index: 0, waitMs: 0 });
    expect(s.failed(0, 0)).toBe(1000);
    expect(s.pick(10)).toEqual({ index: 1, waitMs: 0 });
    expect(s.recoveryCandidate(1, 500)).toBeNull();
    expect(s.recoveryCandidate(1, 1000)).toBe(0);
    expect(s.failed(0, 1000)).toBe(2000);
    s.failed(1, 1000);
    s.failed(2, 1000);
    // all down: wait for the one that is ready first
    expect(s.pick(1100)).toEqual({ index: 1, waitMs: 900 });
    expect(s.allFailing(1)).toBe(true);
    expect(s.allFailing(2)).toBe(false);
    s.healthy(0);
    expect(s.pick(1100)).toEqual({ index: 0, waitMs: 0 });
    expect(() => new SourceSelector(0, policy, Math.random)).toThrow(/at least one source/);
  });
});

describe('connection clock', () => {
  const clockPolicy = { driftWindowSec: 60, driftToleranceMs: 500 };

  it('anchors at the chunk that arrived with the least delay', () => {
    const c = new ConnectionClock(8000, clockPolicy);
    const origin = 1_000_000;
    const r = seededRandom(3);
    // 0.5 s chunks arriving 20-300 ms after they aired, one of them promptly (5 ms)
    for (let i = 1; i <= 40; i++) {
      const delay = i === 17 ? 5 : 20 + 280 * r();
      c.onChunk(4000, origin + i * 500 + delay);
    }
    expect(c.anchorMs).toBeCloseTo(origin + 5, 6);
    expect(c.timeOfSample(8000)).toBeCloseTo(origin + 1005, 6);
  });

  it('discounts a burst of buffered audio at connect', () => {
    const c = new ConnectionClock(8000, clockPolicy);
    const connect = 5_000_000;
    // the server sends 10 s of past audio at once, then live audio in real time
    for (let i = 1; i <= 20; i++) c.onChunk(4000, connect + i);
    for (let i = 1; i <= 20; i++) c.onChunk(4000, connect + i * 500 + 30);
    // the burst ended at the live edge (aired at the connection): sample 0 aired 10 s before it;
    // the estimate is off by the 20 ms the burst took to arrive
    expect(c.anchorMs).toBeCloseTo(connect - 10_000 + 20, 6);
  });

  it('corrects a source clock running slow in bounded steps, so drift never accumulates', () => {
    const c = new ConnectionClock(8000, clockPolicy);
    const origin = 0;
    // the source delivers 0.1 % fewer samples than real time: 3.6 s per hour
    let maxError = 0;
    for (let i = 1; i <= 7200; i++) {
      const aired = origin + i * 500;
      c.onChunk(Math.round(4000 * 0.999), aired + 10);
      // the true air time of the chunk's last sample is `aired`
      maxError = Math.max(maxError, Math.abs(c.timeOfSample(c.samples) - aired));
    }
    expect(c.driftCorrectedMs).toBeGreaterThan(3000);
    expect(maxError).toBeLessThan(clockPolicy.driftToleranceMs + 200);
  });

  it('takes a known latency off the arrival anchor', () => {
    const plain = new ConnectionClock(8000, clockPolicy);
    const late = new ConnectionClock(8000, clockPolicy, null, 3000);
    for (let i = 1; i <= 10; i++) {
      plain.onChunk(4000, 1_000_000 + i * 500 + 40);
      late.onChunk(4000, 1_000_000 + i * 500 + 40);
    }
    expect(plain.anchorMs).toBeCloseTo(1_000_040, 6);
    expect(late.anchorMs).toBeCloseTo(997_040, 6);
    // a fixed anchor (a file, an HLS run with its PDT) has no arrival to correct
    const fixed = new ConnectionClock(8000, clockPolicy, 42_000, 3000);
    fixed.onChunk(8000, 99_999);
    expect(fixed.anchorMs).toBe(42_000);
  });

  it('keeps a fixed anchor for recorded files', () => {
    const c = new ConnectionClock(8000, clockPolicy, 42_000);
    c.onChunk(8000, 1);
    c.onChunk(8000, 99_999_999);
    expect(c.timeOfSample(16000)).toBe(44_000);
  });
});

describe('timeline', () => {
  it('skips unheard time, trims audio heard twice, absorbs small jitter', () => {
    const t = new Timeline(8000, 750);
    expect(t.place(10_000, 8000)).toEqual({ skipSec: 0, trimSamples: 0 });
    expect(t.endMs).toBe(11_000);
    expect(t.place(11_300, 8000)).toEqual({ skipSec: 0, trimSamples: 0 }); // within tolerance
    expect(t.endMs).toBe(12_000);
    expect(t.place(20_000, 8000)).toEqual({ skipSec: 8, trimSamples: 0 });
    expect(t.endMs).toBe(21_000);
    expect(t.utcAt(10)).toBe(20_000);
    expect(t.place(19_500, 16000)).toEqual({ skipSec: 0, trimSamples: 12000 });
    expect(t.endMs).toBe(21_500);
  });

  it("re-times a connection's piece as a whole, never before the audio heard before it", () => {
    const t = new Timeline(8000, 750);
    // the first connection's first audio arrived 4 s late: it was placed 4 s after it aired
    t.place(14_000, 16000, true);
    t.place(16_000, 16000);
    expect(t.utcAt(1)).toBe(15_000);
    // a chunk that came sooner shows it: the whole piece moves, no audio is trimmed
    expect(t.retime(-4000)).toEqual({ appliedMs: -4000, fromMs: 14_000 });
    expect(t.utcAt(1)).toBe(11_000);
    expect(t.place(14_000, 8000)).toEqual({ skipSec: 0, trimSamples: 0 });
    expect(t.endMs).toBe(15_000);
    // the connection drops; the next one is heard 10 s later and placed 3 s late
    expect(t.place(28_000, 8000, true)).toEqual({ skipSec: 13, trimSamples: 0 });
    expect(t.utcAt(19)).toBe(29_000);
    // it moves back as far as the end of the first connection's audio, not further
    expect(t.retime(-3000)).toEqual({ appliedMs: -3000, fromMs: 28_000 });
    expect(t.retime(-20_000)).toEqual({ appliedMs: -10_000, fromMs: 25_000 });
    expect(t.utcAt(18)).toBe(15_000);
    // the first connection's times stay where they were; a time inside the unheard stretch belongs to it
    expect(t.utcAt(1)).toBe(11_000);
    expect(t.utcAt(4.5)).toBe(14_500);
    expect(t.endMs).toBe(16_000);
    expect(t.retime(500).appliedMs).toBe(0);
  });

  it('stays one straight line whatever the chunks do', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            jumpMs: fc.integer({ min: -5000, max: 20_000 }),
            n: fc.integer({ min: 1, max: 16000 }),
          }),
          {
            maxLength: 60,
          },
        ),
        (chunks) => {
          const t = new Timeline(8000, 750);
          let utc = 1_000_000;
          let pushedSec = 0;
          let skippedSec = 0;
          for (const c of chunks) {
            utc += c.jumpMs;
            const p = t.place(utc, c.n);
            skippedSec += p.skipSec;
            pushedSec += (c.n - p.trimSamples) / 8000;
            utc += (c.n * 1000) / 8000;
            // the timeline's end is never further than the tolerance from the audio's own time
            if (Math.abs(t.endMs! - utc) > 750 + 1e-6 && p.trimSamples < c.n) return false;
          }
          return Math.abs(t.positionSec - (pushedSec + skippedSec)) < 1e-6;
        },
      ),
    );
  });
});

describe('silence', () => {
  const tone = (sec: number, amp = 0.3) =>
    Float32Array.from({ length: sec * 8000 }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / 8000));

  it('reports dead air longer than the minimum, from where it began to where sound returned', () => {
    const d = new SilenceDetector(8000, { silenceThresholdDb: -55, silenceMinSec: 10 });
    const events = [
      ...d.push(tone(5), 0),
      ...d.push(new Float32Array(12 * 8000), 5000),
      ...d.push(tone(3), 17_000),
      ...d.push(new Float32Array(6 * 8000), 20_000), // too short
      ...d.push(tone(3), 26_000),
    ];
    expect(events).toEqual([
      { type: 'silence-start', atMs: 5000 },
      { type: 'silence-end', atMs: 17_000 },
    ]);
  });

  it('treats quiet noise below the threshold as silence but music as sound, and ends silence at a dropout', () => {
    const d = new SilenceDetector(8000, { silenceThresholdDb: -55, silenceMinSec: 2 });
    const hiss = Float32Array.from({ length: 4 * 8000 }, (_, i) => 0.0005 * Math.sin(i));
    expect(d.push(hiss, 0)).toEqual([{ type: 'silence-start', atMs: 0 }]);
    expect(d.silent).toBe(true);
    expect(d.interrupt(4000)).toEqual([{ type: 'silence-end', atMs: 4000 }]);
    expect(d.push(tone(4, 0.01), 9000)).toEqual([]);
  });
});

describe('gaps', () => {
  it('opens, closes, drops the too short, keeps the first cause, and takes over a stored open gap', () => {
    const g = new GapTracker('fm1', 500);
    expect(g.begin(1000, 'source_down', 'refused')).toEqual([
      {
        type: 'open',
        gap: {
          id: 'gap:fm1:1000',
          channelId: 'fm1',
          startMs: 1000,
          endMs: null,
          reason: 'source_down',
          detail: 'refused',
        },
      },
    ]);
    expect(g.begin(2000, 'silence')).toEqual([]);
    expect(g.end(9000)).toEqual([
      {
        type: 'close',
        gap: {
          id: 'gap:fm1:1000',
          channelId: 'fm1',
          startMs: 1000,
          endMs: 9000,
          reason: 'source_down',
          detail: 'refused',
        },
      },
    ]);
    expect(g.open).toBeNull();
    g.begin(10_000, 'source_down');
    expect(g.end(10_200)[0].type).toBe('discard');
    expect(g.record(20_000, 20_100, 'discontinuity')).toEqual([]);
    expect(g.record(20_000, 23_000, 'discontinuity')[0]).toMatchObject({
      type: 'close',
      gap: { startMs: 20_000, endMs: 23_000 },
    });
    g.restore({
      id: 'x',
      channelId: 'fm1',
      startMs: 30_000,
      endMs: null,
      reason: 'monitor_stopped',
      detail: null,
    });
    expect(g.end(40_000)[0]).toMatchObject({ type: 'close', gap: { id: 'x', endMs: 40_000 } });
    expect(() =>
      g.restore({ id: 'y', channelId: 'fm1', startMs: 1, endMs: 2, reason: 'silence', detail: null }),
    ).toThrow(/closed/);
  });
});

describe('detection stitching', () => {
  const cfg = { stitchEdgeSec: 20, stitchWaitSec: 30, stitchOffsetToleranceSec: 3 };
  const det = (
    rec: string,
    startMs: number,
    endMs: number,
    refStartSec: number,
    speed = 1,
  ): UtcDetection => ({
    recordingId: rec,
    startMs,
    endMs,
    refStartSec,
    refEndSec: refStartSec + ((endMs - startMs) / 1000) * speed,
    speed,
    confidence: 0.9,
  });

  it('joins the two parts of an airing broken by a gap into one detection with the first part id', () => {
    const s = new DetectionStitcher('fm1', cfg);
    s.discontinuity(60_000, 72_000);
    s.closed(det('song', 20_000, 59_000, 0));
    expect(s.takeFinal()).toEqual([]);
    expect(s.pending()).toMatchObject([{ state: 'held', recordingId: 'song' }]);
    s.heard(10_000);
    // after the gap the same song continues 13 s further into the reference
    s.setOpen([det('song', 74_000, 80_000, 54)]);
    expect(s.pending()).toMatchObject([
      { state: 'open', startMs: 20_000, id: detectionId('fm1', 'song', 20_000) },
    ]);
    s.heard(60_000);
    expect(s.takeFinal()).toEqual([]);
    s.closed(det('song', 74_000, 100_000, 54));
    const [one, ...rest] = s.takeFinal();
    expect(rest).toEqual([]);
    expect(one).toMatchObject({
      id: detectionId('fm1', 'song', 20_000),
      startMs: 20_000,
      endMs: 100_000,
      refStartSec: 0,
      refEndSec: 80,
    });
  });

  it('does not join a replay of the song from its start, nor a different recording', () => {
    const s = new DetectionStitcher('fm1', cfg);
    s.discontinuity(60_000, 70_000);
    s.closed(det('song', 20_000, 59_000, 0));
    s.closed(det('song', 71_000, 100_000, 0));
    s.closed(det('other', 100_000, 130_000, 30));
    s.heard(40_000);
    const finals = s.takeFinal();
    expect(finals.map((d) => [d.recordingId, d.startMs])).toEqual([
      ['song', 71_000],
      ['other', 100_000],
      ['song', 20_000],
    ]);
  });

  it('finalises a detection that ended far from any gap at once, and a held one after the wait', () => {
    const s = new DetectionStitcher('fm1', cfg);
    s.closed(det('a', 0, 30_000, 0));
    expect(s.takeFinal()).toHaveLength(1);
    s.discontinuity(45_000, 50_000);
    s.closed(det('b', 31_000, 44_000, 0));
    s.heard(29_000);
    expect(s.takeFinal()).toEqual([]);
    s.heard(1000);
    expect(s.takeFinal()).toMatchObject([{ recordingId: 'b', endMs: 44_000 }]);
  });

  it('resumes detections a previous run left pending', () => {
    const s = new DetectionStitcher('fm1', cfg);
    const id = detectionId('fm1', 'song', 10_000);
    s.restore([{ ...det('song', 10_000, 40_000, 5), id, channelId: 'fm1', state: 'open' }]);
    s.closed(det('song', 55_000, 90_000, 50));
    expect(s.takeFinal()).toMatchObject([{ id, startMs: 10_000, endMs: 90_000, refStartSec: 5 }]);
  });
});

describe('retention', () => {
  const day = 86_400_000;
  const clips = [
    { path: 'a', sizeBytes: 100, writtenAtMs: 0 },
    { path: 'b', sizeBytes: 100, writtenAtMs: 5 * day },
    { path: 'c', sizeBytes: 100, writtenAtMs: 6 * day },
    { path: 'd', sizeBytes: 100, writtenAtMs: 7 * day },
  ];

  it('deletes clips past the age limit, then the oldest until the total fits', () => {
    expect(clipsToDelete(clips, { maxAgeMs: 3 * day, maxBytes: 1000 }, 8 * day + 1)).toEqual(['a', 'b']);
    expect(clipsToDelete(clips, { maxAgeMs: 30 * day, maxBytes: 250 }, 8 * day)).toEqual(['a', 'b']);
    expect(clipsToDelete(clips, { maxAgeMs: 30 * day, maxBytes: 1000 }, 8 * day)).toEqual([]);
    expect(clipsToDelete([...clips].reverse(), { maxAgeMs: 30 * day, maxBytes: 0 }, 8 * day)).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('never deletes a protected clip (a disputed detection), nor counts it against the size limit', () => {
    const disputed = (p: string) => p === 'a' || p === 'c';
    expect(clipsToDelete(clips, { maxAgeMs: 3 * day, maxBytes: 1000 }, 8 * day + 1, disputed)).toEqual(['b']);
    expect(clipsToDelete(clips, { maxAgeMs: 30 * day, maxBytes: 100 }, 8 * day, disputed)).toEqual(['b']);
    expect(clipsToDelete(clips, { maxAgeMs: 30 * day, maxBytes: 200 }, 8 * day, disputed)).toEqual([]);
    expect(clipsToDelete(clips, { maxAgeMs: 0, maxBytes: 0 }, 8 * day, () => true)).toEqual([]);
  });
});

describe('uptime and local days', () => {
  it('measures the union of gaps inside the window against brute force', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            a: fc.integer({ min: -50, max: 150 }),
            len: fc.integer({ min: 0, max: 60 }),
            open: fc.boolean(),
          }),
          {
            maxLength: 8,
          },
        ),
        fc.option(fc.integer({ min: -20, max: 90 }), { nil: null }),
        (raw, since) => {
          const gaps = raw.map((g) => ({ startMs: g.a, endMs: g.open ? null : g.a + g.len }));
          const got = uptimeRatio(gaps, 0, 100, since);
          const from = since === null ? 0 : Math.max(0, since);
          let down = 0;
          for (let t = from; t < 100; t++) {
            if (gaps.some((g) => t >= g.startMs && t < (g.endMs ?? 100))) down++;
          }
          return Math.abs(got! - (1 - down / (100 - from))) < 1e-9;
        },
      ),
    );
    expect(uptimeRatio([], 0, 100, 200)).toBeNull();
  });

  it('knows Almaty midnight and reads logger file names in the channel zone', () => {
    // Asia/Almaty is UTC+5 since March 2024
    const noon = Date.UTC(2025, 2, 14, 7, 0, 0); // 12:00 local
    expect(localDayBounds('Asia/Almaty', noon)).toEqual([
      Date.UTC(2025, 2, 13, 19),
      Date.UTC(2025, 2, 14, 19),
    ]);
    // Berlin's day of the spring clock change has 23 hours
    const [a, b] = localDayBounds('Europe/Berlin', Date.UTC(2025, 2, 30, 12));
    expect(b - a).toBe(23 * 3600_000);
    expect(zonedTimeToUtcMs('UTC', 2025, 1, 2, 3, 4, 5)).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
    const at = Date.UTC(2025, 2, 14, 10, 30, 0);
    for (const name of [
      '20250314-153000.mp3',
      'logger_2025-03-14_15-30-00.wav',
      '2025-03-14T15:30:00.flac',
      'x-20250314_1530.mp3',
    ]) {
      expect(loggerFileStartMs(name, 'Asia/Almaty'), name).toBe(at);
    }
    expect(loggerFileStartMs('no-date-here.mp3', 'Asia/Almaty')).toBeNull();
    expect(loggerFileStartMs('20251399-999999.mp3', 'Asia/Almaty')).toBeNull();
  });
});

describe('MP3 frames and the evidence ring', () => {
  it('splits real ffmpeg MP3 into whole frames, across chunk edges and through garbage', () => {
    const mp3 = execFileSync('ffmpeg', [
      ...[
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:duration=3:sample_rate=16000',
      ],
      ...[
        '-c:a',
        'libmp3lame',
        '-b:a',
        '32k',
        '-f',
        'mp3',
        '-write_xing',
        '0',
        '-id3v2_version',
        '0',
        'pipe:1',
      ],
    ]);
    const s = new Mp3FrameSplitter();
    const frames = [];
    const junk = Buffer.from([0xff, 0x00, 0x12, 0xff, 0xfb, 0x00, 0x44]);
    const stream = Buffer.concat([mp3.subarray(0, 1000), junk, mp3.subarray(1000 - (1000 % 144))]);
    for (let i = 0; i < stream.length; i += 77) frames.push(...s.push(stream.subarray(i, i + 77)));
    expect(
      frames.every(
        (f) => f.header.sampleRate === 16000 && f.header.samplesPerFrame === 576 && f.frame.length === 144,
      ),
    ).toBe(true);
    // 3 s of 36 ms frames (+ the encoder's padding), one frame lost to the garbage at most
    expect(frames.length).toBeGreaterThanOrEqual(Math.floor(3 / 0.036));
    expect(s.skippedBytes).toBeGreaterThanOrEqual(junk.length);
  });

  it('keeps a bounded, ordered ring and cuts by time', () => {
    const ring = new EvidenceRing(1000);
    for (let i = 0; i < 100; i++) ring.push({ utcMs: i * 36, durationMs: 36, data: Buffer.alloc(144) });
    expect(ring.oldestMs).toBeGreaterThanOrEqual(99 * 36 - 1000);
    expect(ring.push({ utcMs: 50 * 36, durationMs: 36, data: Buffer.alloc(144) })).toBe(false);
    expect(ring.between(3000, 3200).map((f) => f.utcMs)).toEqual([3024, 3060, 3096, 3132, 3168]);
    expect(ring.newestEndMs).toBe(100 * 36);
  });

  it('re-times the frames of a connection with it, keeping the ring ordered', () => {
    const ring = new EvidenceRing(10_000);
    for (let i = 0; i < 10; i++) ring.push({ utcMs: i * 36, durationMs: 36, data: Buffer.alloc(144) });
    // a second connection, stamped too late, then re-timed by -130 ms onto the first one's tail: the
    // older frame it now overlaps by more than half a frame goes, as when frames are pushed
    for (let i = 0; i < 5; i++) ring.push({ utcMs: 460 + i * 36, durationMs: 36, data: Buffer.alloc(144) });
    ring.shift(460, -130);
    const times = ring.between(-1, 10_000).map((f) => f.utcMs);
    expect(times).toEqual([0, 36, 72, 108, 144, 180, 216, 252, 288, 330, 366, 402, 438, 474]);
    expect(ring.newestEndMs).toBe(510);
    expect(ring.push({ utcMs: 480, durationMs: 36, data: Buffer.alloc(144) })).toBe(false);
  });
});

describe('sources and channels', () => {
  it('reads every kind of source and builds its ffmpeg input', () => {
    expect(parseSource('http://radio.kz:8000/live')).toEqual({
      kind: 'http',
      url: 'http://radio.kz:8000/live',
    });
    expect(parseSource('https://cdn.kz/tv/index.m3u8?token=1')).toEqual({
      kind: 'hls',
      url: 'https://cdn.kz/tv/index.m3u8?token=1',
    });
    expect(parseSource('hls+https://cdn.kz/tv/master')).toEqual({
      kind: 'hls',
      url: 'https://cdn.kz/tv/master',
    });
    expect(parseSource('icy://radio.kz:8000/')).toEqual({ kind: 'http', url: 'http://radio.kz:8000/' });
    expect(parseSource('rtmp://tv.kz/live/1').kind).toBe('rtmp');
    expect(parseSource('udp://239.1.1.1:1234').kind).toBe('udp');
    expect(parseSource('rtp://239.1.1.1:5004').kind).toBe('rtp');
    expect(parseSource('srt://10.0.0.1:9000?mode=caller').kind).toBe('srt');
    expect(parseSource('alsa:hw:1,0')).toEqual({ kind: 'alsa', url: 'hw:1,0' });
    expect(parseSource('/srv/logger/fm1/')).toEqual({ kind: 'folder', url: '/srv/logger/fm1/' });
    expect(parseSource('dir:/srv/logger')).toEqual({ kind: 'folder', url: '/srv/logger' });
    expect(parseSource('air.mp3')).toEqual({ kind: 'file', url: 'air.mp3' });
    expect(() => parseSource('ftp://x/y')).toThrow(/unsupported scheme/);
    expect(() => parseSource('http://')).toThrow(/names nothing/);
    expect(() => parseSource('  ')).toThrow(/empty/);
    expect(ffmpegInputArgs(parseSource('alsa:hw:1,0'), 1000)).toEqual(['-f', 'alsa', '-i', 'hw:1,0']);
    expect(ffmpegInputArgs(parseSource('http://r.kz/a'), 10_000)).toContain('10000000');
  });

  it('validates channels field by field and reads a config file', () => {
    const ch = validateChannel({ id: 'fm1', sources: ['http://r.kz/a', 'http://r2.kz/a'] }, 5);
    expect(ch).toMatchObject({
      id: 'fm1',
      name: 'fm1',
      kind: 'radio',
      timeZone: 'Asia/Almaty',
      enabled: true,
      createdAtMs: 5,
    });
    expect(() => validateChannel({ id: 'a b', sources: ['http://r.kz'] }, 0)).toThrow(/id must be/);
    expect(() => validateChannel({ id: 'x', sources: [] }, 0)).toThrow(/at least one source/);
    expect(() => validateChannel({ id: 'x', kind: 'web', sources: ['http://r.kz'] }, 0)).toThrow(
      /kind must be one of tv, radio, cable/,
    );
    expect(() => validateChannel({ id: 'x', timeZone: 'Asia/Nowhere', sources: ['http://r.kz'] }, 0)).toThrow(
      /unknown time zone/,
    );
    expect(() => validateChannel({ id: 'x', sources: ['http://r.kz', 'file:/a.mp3'] }, 0)).toThrow(
      /only source/,
    );
    expect(() => validateChannel({ id: 'x', sources: [{ kind: 'tape', url: 'http://r.kz' }] }, 0)).toThrow(
      /source 1: unknown source kind/,
    );
    const list = channelsFromConfig(
      {
        channels: [
          { id: 'tv1', kind: 'tv', sources: ['udp://239.0.0.1:1234'] },
          { id: 'fm2', enabled: false, sources: ['http://a.kz'] },
        ],
      },
      1,
      'seed.json',
    );
    expect(list.map((c) => [c.id, c.kind, c.enabled])).toEqual([
      ['tv1', 'tv', true],
      ['fm2', 'radio', false],
    ]);
    expect(() =>
      channelsFromConfig(
        {
          channels: [
            { id: 'a', sources: ['http://a.kz'] },
            { id: 'a', sources: ['http://b.kz'] },
          ],
        },
        1,
        'seed.json',
      ),
    ).toThrow(/seed.json: channel id a appears twice/);
    expect(() => channelsFromConfig({ nope: 1 }, 1, 'seed.json')).toThrow(/expected/);
  });
});

describe('HLS playlists', () => {
  const base = 'https://cdn.kz/tv/live/index.m3u8';

  it('reads segments with their program date-time, derived where the tag is missing', () => {
    const p = parsePlaylist(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:6',
        '#EXT-X-MEDIA-SEQUENCE:100',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-29T07:00:00.000Z',
        '#EXTINF:6.000,',
        'seg100.ts',
        '#EXTINF:5.5,',
        'seg101.ts',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-29T12:00:11.500+05:00',
        '#EXTINF:6,title',
        'https://other.kz/seg102.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXTINF:6,',
        '/abs/seg103.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXT-X-PROGRAM-DATE-TIME:2026-11-29T07:01:00.250000+0000',
        '#EXTINF:4,',
        'seg104.ts',
      ].join('\r\n'),
      base,
    );
    if (p.kind !== 'media') throw new Error('a media playlist');
    const t0 = Date.UTC(2026, 10, 29, 7, 0, 0);
    expect(p).toMatchObject({ targetDurationSec: 6, ended: false, unsupported: null });
    expect(
      p.segments.map((s) => [s.sequence, s.url, s.durationSec, s.programDateTimeMs, s.discontinuity]),
    ).toEqual([
      [100, 'https://cdn.kz/tv/live/seg100.ts', 6, t0, false],
      [101, 'https://cdn.kz/tv/live/seg101.ts', 5.5, t0 + 6000, false],
      [102, 'https://other.kz/seg102.ts', 6, t0 + 11_500, false],
      // after a discontinuity without a tag the time is unknown
      [103, 'https://cdn.kz/abs/seg103.ts', 6, null, true],
      [104, 'https://cdn.kz/tv/live/seg104.ts', 4, t0 + 60_250, true],
    ]);
    expect(parseDateTime('2026-11-29T07:00:00.0005Z')).toBeCloseTo(t0 + 0.5, 6);
    expect(parseDateTime('2026-11-29T01:00:00-06:00')).toBe(t0);
    expect(() => parseDateTime('29/11/2026 07:00')).toThrow(/PROGRAM-DATE-TIME/);
  });

  it("follows a master playlist to its first variant (or that variant's audio), and names what it cannot fetch", () => {
    const master = parsePlaylist(
      [
        '#EXTM3U',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="kk",DEFAULT=NO,URI="audio/kk.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="ru",DEFAULT=YES,URI="audio/ru.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aud"',
        'video/720.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=400000',
        'video/360.m3u8',
      ].join('\n'),
      base,
    );
    expect(master).toEqual({ kind: 'master', mediaUrl: 'https://cdn.kz/tv/live/audio/ru.m3u8' });
    expect(parsePlaylist('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv1/a.m3u8\n', base)).toEqual({
      kind: 'master',
      mediaUrl: 'https://cdn.kz/tv/live/v1/a.m3u8',
    });
    const enc = parsePlaylist(
      '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k.bin"\n#EXTINF:6,\na.ts\n#EXT-X-ENDLIST\n',
      base,
    );
    expect(enc).toMatchObject({ kind: 'media', ended: true, unsupported: 'encrypted segments (AES-128)' });
    const fmp4 = parsePlaylist('#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6,\na.m4s\n', base);
    expect(fmp4.kind === 'media' && fmp4.segments[0].mapUrl).toBe('https://cdn.kz/tv/live/init.mp4');
    expect(() => parsePlaylist('<html></html>', base)).toThrow(/not an HLS playlist/);
    expect(() => parsePlaylist('#EXTM3U\na.ts\n', base)).toThrow(/no #EXTINF/);
  });

  it('breaks a run at a discontinuity, a missed segment or a jump of the program date-time', () => {
    const seg = (sequence: number, pdt: number | null, more: { discontinuity?: boolean } = {}) => ({
      sequence,
      url: `https://cdn.kz/${sequence}.ts`,
      durationSec: 2,
      programDateTimeMs: pdt,
      discontinuity: more.discontinuity ?? false,
      mapUrl: null,
    });
    let run = runFrom(seg(10, 100_000));
    expect(run).toEqual({ lastSequence: 10, anchored: true, nextPdtMs: 102_000 });
    // within the tolerance: the PDT's own jitter (and rounded durations) do not break it
    expect(continuesRun(run, seg(11, 102_300), 750)).toEqual({ continues: true });
    run = advanceRun(run, seg(11, 102_300));
    expect(continuesRun(run, seg(12, 105_400), 750)).toEqual({
      continues: false,
      why: 'program date-time jumps by 1100 ms',
    });
    expect(continuesRun(run, seg(12, 103_000), 750)).toEqual({
      continues: false,
      why: 'program date-time jumps by -1300 ms',
    });
    expect(continuesRun(run, seg(14, 108_300), 750)).toEqual({
      continues: false,
      why: 'segments 12..13 missed',
    });
    expect(continuesRun(run, seg(12, 104_300, { discontinuity: true }), 750)).toMatchObject({
      continues: false,
    });
    // a segment without PDT in a PDT run: sample counts carry on
    expect(continuesRun(run, seg(12, null), 750)).toEqual({ continues: true });
    // a run begun without PDT is anchored afresh when PDT appears
    const bare = runFrom(seg(20, null));
    expect(bare.anchored).toBe(false);
    expect(continuesRun(bare, seg(21, null), 750)).toEqual({ continues: true });
    expect(continuesRun(bare, seg(21, 5000), 750)).toEqual({
      continues: false,
      why: 'program date-time appears',
    });
    // a playlist served k times faster: durations are wall seconds, PDT is on the scaled clock
    const fast = runFrom({ ...seg(1, 0), durationSec: 0.25 }, 8);
    expect(continuesRun(fast, seg(2, 2000), 750)).toEqual({ continues: true });
  });

  it("validates a channel's latency", () => {
    expect(validateChannel({ id: 'fm1', sources: ['http://r.kz/a'] }, 0).latencySec).toBe(0);
    expect(validateChannel({ id: 'fm1', sources: ['http://r.kz/a'], latencySec: 12.5 }, 0).latencySec).toBe(
      12.5,
    );
    for (const bad of [-1, 601, Number.NaN, '3']) {
      expect(() => validateChannel({ id: 'fm1', sources: ['http://r.kz/a'], latencySec: bad }, 0)).toThrow(
        /channel fm1: latencySec must be a number of seconds from 0 to 600/,
      );
    }
  });
});
