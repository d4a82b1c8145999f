// Distributed mode without Redis: the batch format and its validation, the spool on disk, the
// batcher's time line against the embedded matcher's, and the centre's stitcher.
import { appendFileSync, mkdtempSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../src/audio/index.js';
import {
  BatchRejected,
  ChannelSpool,
  DistributedRepository,
  ChannelStitcher,
  PeakBatcher,
  batchPeaks,
  distributedConfig,
  deploymentFromEnv,
  fromWirePeaks,
  matchBatch,
  resultInput,
  toWirePeaks,
  validateBatch,
  type Fragment,
  type PeakBatch,
  type SealedBatch,
} from '../src/distributed/index.js';
import { extractPeaks, type Peak } from '../src/fingerprint/index.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { matchPeaks } from '../src/match/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';
import { ensureSong } from './helpers/catalogue.js';

const RATE = 8000;
const EPOCH = Date.UTC(2025, 2, 14, 9, 0, 0);
const LIMITS = { maxBytes: 256 * 1024, maxPeaks: 40_000 };
const POLICY = {
  finalizeAfterSec: 13,
  joinGapSec: 9,
  recentKeepSec: 300,
  extendGapSec: 30,
  stitchEdgeSec: 20,
  stitchWaitSec: 30,
  stitchOffsetToleranceSec: 3,
};

/** Runs PCM chunks (and skips) through a PeakBatcher the way a ChannelRunner drives a matcher. */
function batchesOf(
  parts: Array<Float32Array | { skipSec: number }>,
  opts: { batchSec?: number; contextSec?: number; chunk?: number } = {},
): PeakBatch[] {
  const sealed: SealedBatch[] = [];
  let positionSec = 0;
  let lastAudioMs: number | null = null;
  const b = new PeakBatcher({
    channelId: 'fm1',
    session: 's1',
    batchSec: opts.batchSec ?? 5,
    contextSec: opts.contextSec ?? 10,
    lastAudioMs: () => lastAudioMs,
    onSealed: (s) => sealed.push(s),
  });
  const chunk = opts.chunk ?? 3001;
  for (const part of parts) {
    if (part instanceof Float32Array) {
      for (let i = 0; i < part.length; i += chunk) {
        const c = part.subarray(i, i + chunk);
        b.push(c);
        positionSec += c.length / RATE;
        lastAudioMs = EPOCH + positionSec * 1000;
      }
    } else {
      b.skip(part.skipSec);
      positionSec += part.skipSec;
    }
  }
  b.sealEnd();
  return sealed.map((s, i) => ({ ...s, nodeId: 'n1', spoolId: 'sp1', seq: i + 1, holdsFrom: 1 }));
}

function stitchAll(index: ReferenceIndex, batches: PeakBatch[]) {
  const st = new ChannelStitcher('fm1', POLICY);
  const finals = [];
  for (const b of batches) {
    const { peaks, skips } = batchPeaks(b);
    const fragments =
      b.epochMs === null ? [] : matchBatch(index, { epochMs: b.epochMs, peaks, skips, toUnits: b.toUnits });
    const { input } = resultInput({ ...b, fragments, rejected: null }, st.positionMs, null);
    finals.push(...st.apply(input).finals);
  }
  return finals;
}

let index: ReferenceIndex;
let songA: Float32Array;
let songB: Float32Array;
let other: Float32Array;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tyndau-dist-units-'));
  index = ReferenceIndex.open(join(dir, 'fp'));
  const a = ensureSong(31, 30);
  const b = ensureSong(32, 30);
  await enrollFile(index, a, { id: 'song-a' });
  await enrollFile(index, b, { id: 'song-b' });
  songA = await decodeAudioFile(a, { sampleRate: RATE });
  songB = await decodeAudioFile(b, { sampleRate: RATE });
  other = await decodeAudioFile(ensureSong(933, 8), { sampleRate: RATE });
});

function concat(...xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of xs) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

describe('batcher and stateless batch matching', () => {
  it("puts exactly the embedded matcher's peaks on the same time line, across skips", () => {
    const silence = new Float32Array(RATE * 2);
    const part1 = concat(other, songA.subarray(0, RATE * 12));
    const part2 = concat(songA.subarray(RATE * 15), silence);
    const batches = batchesOf([part1, { skipSec: 3.2 }, part2]);
    const own = batches.flatMap((b) => fromWirePeaks(b.peaks, 'test'));
    // embedded: a new extractor after the skip, its peaks offset by the segment and the skip
    const seg1 = extractPeaks(part1, 'query');
    const originUnits = Math.round((part1.length / 128) * 8) + Math.round(3.2 * 62.5 * 8);
    const seg2 = extractPeaks(part2, 'query').map((p) => ({ t: p.t + originUnits, f: p.f }));
    const sort = (ps: Peak[]) => [...ps].sort((x, y) => x.t - y.t || x.f - y.f);
    expect(sort(own)).toEqual(sort([...seg1, ...seg2]));
    expect(batches.flatMap((b) => b.skips)).toEqual([
      { atUnits: Math.round((part1.length / 128) * 8), sec: 3.2 },
    ]);
    // every batch but the first starts where the last one ended, and carries earlier audio as context
    for (let i = 1; i < batches.length; i++) expect(batches[i].fromUnits).toBe(batches[i - 1].toUnits);
    expect(batches[0].context).toBeNull();
    expect(batches[3].context!.fromUnits).toBe(batches[3].fromUnits - 5000);
    expect(batches.at(-1)!.end).toBe(true);
    expect(batches.every((b) => b.epochMs === EPOCH)).toBe(true);
  });

  it('matches batches cold and stitches them into the detections one long matcher finds', () => {
    const silence = new Float32Array(RATE * 3);
    const pcm = concat(other, songA, silence, songB.subarray(0, RATE * 22), other, other, other);
    const batches = batchesOf([pcm]);
    const finals = stitchAll(index, batches);
    const embedded = matchPeaks(index, extractPeaks(pcm, 'query'));
    expect(finals.map((d) => d.recordingId)).toEqual(embedded.map((d) => d.recording));
    expect(finals.map((d) => d.recordingId)).toEqual(['song-a', 'song-b']);
    for (const [i, d] of finals.entries()) {
      expect(Math.abs((d.startMs - EPOCH) / 1000 - embedded[i].start)).toBeLessThan(0.5);
      expect(Math.abs((d.endMs - EPOCH) / 1000 - embedded[i].end)).toBeLessThan(0.5);
      expect(Math.abs(d.refStartSec - embedded[i].refStart)).toBeLessThan(0.5);
    }
    // the same batches with another chunking of the PCM give the same peaks, hence the same detections
    const again = stitchAll(index, batchesOf([pcm], { chunk: 8192 }));
    expect(again.map((d) => [d.id, d.recordingId])).toEqual(finals.map((d) => [d.id, d.recordingId]));
  });

  it('gives the same fragments whichever worker matches a batch, however late in a long session', () => {
    const batches = batchesOf([concat(other, songA)]);
    const b = batches[4];
    const { peaks, skips } = batchPeaks(b);
    const first = matchBatch(index, { epochMs: b.epochMs!, peaks, skips, toUnits: b.toUnits });
    expect(first.map((f) => f.recordingId)).toContain('song-a');
    expect(matchBatch(index, { epochMs: b.epochMs!, peaks, skips, toUnits: b.toUnits })).toEqual(first);
    // the same audio 30 days into a session: same answer (the batch is moved next to time 0)
    const shift = 30 * 86_400 * 500;
    const late = matchBatch(index, {
      epochMs: b.epochMs! - shift * 2,
      peaks: peaks.map((p) => ({ t: p.t + shift, f: p.f })),
      skips,
      toUnits: b.toUnits + shift,
    });
    expect(late).toEqual(first);
  });
});

describe('batch validation', () => {
  const good = () => batchesOf([concat(other, songA.subarray(0, RATE * 12))])[2];

  it('accepts what the batcher seals', () => {
    const b = good();
    expect(validateBatch(JSON.parse(JSON.stringify(b)), LIMITS)).toEqual(b);
  });

  it.each([
    ['not an object', () => 'hello', 'malformed', /batch: must be an object/],
    ['another version', () => ({ ...good(), v: 99 }), 'version', /batch version 99/],
    [
      'a bad channel id',
      () => ({ ...good(), channelId: 'a b' }),
      'malformed',
      /channelId is missing or not a valid id/,
    ],
    ['seq 0', () => ({ ...good(), seq: 0 }), 'malformed', /seq must be an integer >= 1/],
    ['a backwards span', () => ({ ...good(), toUnits: 1 }), 'malformed', /toUnits is before fromUnits/],
    [
      'broken base64',
      () => ({ ...good(), peaks: { base: 0, count: 3, data: '!!' } }),
      'malformed',
      /data must be base64/,
    ],
    [
      'too many peaks',
      () => ({ ...good(), peaks: { base: 0, count: 50_000, data: '' } }),
      'oversized',
      /50000 peaks/,
    ],
    [
      'a gap of another channel',
      () => ({
        ...good(),
        gaps: [
          {
            type: 'open',
            gap: { id: 'g', channelId: 'x', startMs: 1, endMs: null, reason: 'silence', detail: null },
          },
        ],
      }),
      'malformed',
      /belongs to channel "x"/,
    ],
  ])('rejects %s, naming the problem', (_what, make, reason, message) => {
    try {
      validateBatch(make(), LIMITS);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BatchRejected);
      expect((err as BatchRejected).reason).toBe(reason);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('rejects oversized payloads before reading them', () => {
    const b = { ...good(), junk: 'x'.repeat(300_000) };
    expect(() => validateBatch(b, LIMITS)).toThrow(/batch is \d+ bytes, the limit is 262144/);
  });

  it('finds peak data that does not match its count', () => {
    const b = good();
    const bad = { ...b, peaks: { ...b.peaks, count: b.peaks.count + 1 } };
    expect(() => batchPeaks(validateBatch(bad, LIMITS))).toThrow(/peaks decoded, \d+ announced/);
  });

  it('round-trips peaks through the wire form', () => {
    const ps = [
      { t: 1000, f: 5 },
      { t: 1000, f: 900 },
      { t: 1_000_000, f: 65535 },
    ];
    expect(fromWirePeaks(toWirePeaks(ps), 'x')).toEqual(ps);
  });

  it('reads the deployment config with clear errors', () => {
    expect(deploymentFromEnv({}).redisUrl).toBeNull();
    const d = deploymentFromEnv(
      { TYNDAU_REDIS_URL: 'redis://r:6379', TYNDAU_NODE_ID: 'almaty-1' },
      { distributed: { batchSec: 4 } },
    );
    expect(d).toMatchObject({ redisUrl: 'redis://r:6379', nodeId: 'almaty-1', prefix: 'tyndau' });
    expect(d.distributed.batchSec).toBe(4);
    expect(() => deploymentFromEnv({ TYNDAU_REDIS_URL: 'localhost' })).toThrow(
      /must look like redis:\/\/HOST:PORT/,
    );
    expect(() => deploymentFromEnv({}, { distributed: { batchSecs: 4 } }, 'x.json')).toThrow(
      /x.json: unknown distributed setting "batchSecs"/,
    );
    expect(() => deploymentFromEnv({}, { colour: 1 }, 'x.json')).toThrow(/unknown setting "colour"/);
    expect(() => distributedConfig({ contextSec: 20 })).toThrow(
      /finalizeAfterSec \(13\) must be >= contextSec \(20\)/,
    );
  });
});

describe('spool', () => {
  const sealed = (i: number): SealedBatch => ({
    v: 1,
    channelId: 'fm1',
    session: 's',
    epochMs: EPOCH,
    fromUnits: i * 100,
    toUnits: i * 100 + 100,
    audioSec: 0.2,
    peaks: toWirePeaks([{ t: i * 100, f: i }]),
    skips: [],
    context: null,
    end: false,
    gaps: [],
    state: null,
    sealedAtMs: EPOCH,
  });

  it('keeps batches across a restart until acknowledged, then deletes whole segments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-spool-'));
    const opts = { maxBytes: 1_000_000, segmentBytes: 2000 };
    let s = ChannelSpool.open(dir, opts);
    const id = s.spoolId;
    for (let i = 1; i <= 40; i++) expect(s.append(sealed(i))).toBe(i);
    const segments = readdirSync(dir).filter((n) => n.startsWith('seg-')).length;
    expect(segments).toBeGreaterThan(3);
    s.close();
    s = ChannelSpool.open(dir, opts);
    expect([s.spoolId, s.lastSeq, s.firstHeldSeq, s.pending]).toEqual([id, 40, 1, 40]);
    expect(s.read(17)).toMatchObject({ seq: 17, fromUnits: 1700 });
    s.ack(25);
    expect(s.read(25)).toBeNull();
    expect([s.firstHeldSeq, s.pending]).toEqual([26, 15]);
    expect(readdirSync(dir).filter((n) => n.startsWith('seg-')).length).toBeLessThan(segments);
    s.ack(40);
    expect(readdirSync(dir).filter((n) => n.startsWith('seg-'))).toEqual([]);
    s.close();
    // numbering goes on after everything was acknowledged and the node restarted
    s = ChannelSpool.open(dir, opts);
    expect(s.append(sealed(41))).toBe(41);
    s.close();
  });

  it('cuts off a torn last record (power lost mid-write) and goes on from there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-spool-'));
    const warnings: string[] = [];
    const opts = { maxBytes: 1_000_000, segmentBytes: 1_000_000, onWarning: (m: string) => warnings.push(m) };
    const s = ChannelSpool.open(dir, opts);
    for (let i = 1; i <= 5; i++) s.append(sealed(i));
    s.close();
    const seg = join(
      dir,
      readdirSync(dir).find((n) => n.startsWith('seg-'))!,
    );
    const size = statSync(seg).size;
    truncateSync(seg, size - 7);
    appendFileSync(seg, Buffer.from([1, 2, 3]));
    const again = ChannelSpool.open(dir, opts);
    expect(again.lastSeq).toBe(4);
    expect(warnings.join()).toMatch(/torn or corrupt record/);
    expect(again.append(sealed(5))).toBe(5);
    expect(again.read(5)).toMatchObject({ seq: 5, fromUnits: 500 });
    again.close();
  });

  it('is bounded: when full the oldest batches go, and firstHeldSeq tells the centre', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-spool-'));
    const warnings: string[] = [];
    const s = ChannelSpool.open(dir, {
      maxBytes: 4000,
      segmentBytes: 1000,
      onWarning: (m) => warnings.push(m),
    });
    for (let i = 1; i <= 60; i++) s.append(sealed(i));
    expect(s.bytes).toBeLessThanOrEqual(4000);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.firstHeldSeq).toBe(s.dropped + 1);
    expect(s.read(1)).toBeNull();
    expect(s.read(60)).toMatchObject({ seq: 60 });
    expect(warnings[0]).toMatch(/is full \(4000 bytes\): batches 1-\d+ dropped unsent/);
    s.close();
  });
});

describe('channel stitcher', () => {
  const frag = (
    rec: string,
    startSec: number,
    endSec: number,
    refStart: number,
    confidence = 1,
  ): Fragment => ({
    recordingId: rec,
    startMs: EPOCH + startSec * 1000,
    endMs: EPOCH + endSec * 1000,
    refStartSec: refStart,
    refEndSec: refStart + (endSec - startSec),
    speed: 1,
    confidence,
  });
  const step = (
    fragments: Fragment[],
    endSec: number,
    extra: Partial<Parameters<ChannelStitcher['apply']>[0]> = {},
  ) => ({
    fragments,
    audioMs: 5000,
    endMs: EPOCH + endSec * 1000,
    discontinuities: [],
    end: false,
    ...extra,
  });

  it('joins overlapping fragments of one airing into one detection, final once the audio is past it', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    expect(st.apply(step([frag('a', 10, 14, 0)], 15)).pending).toHaveLength(1);
    st.apply(step([frag('a', 10, 19.5, 0)], 20));
    st.apply(step([frag('a', 11, 24.8, 1)], 25));
    expect(st.apply(step([frag('a', 16, 30, 6)], 30)).finals).toEqual([]);
    expect(st.apply(step([], 40)).finals).toEqual([]);
    const out = st.apply(step([], 45));
    expect(out.finals).toHaveLength(1);
    expect(out.finals[0]).toMatchObject({
      recordingId: 'a',
      startMs: EPOCH + 10_000,
      endMs: EPOCH + 30_000,
      refStartSec: 0,
      refEndSec: 20,
    });
    expect(out.pending).toEqual([]);
    // a late fragment of it (a resent batch) is absorbed, not a second detection
    const late = st.apply(step([frag('a', 20, 30, 10)], 50));
    expect([late.finals, late.absorbed]).toEqual([[], 1]);
  });

  it('keeps a looping recording one airing, aligned by the best supported offset', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    // the loop repeats every 20 s of the recording: cold batches sometimes lock onto the wrong pass
    const outs = [
      step([frag('a', 10, 14, 0)], 15),
      step([frag('a', 10, 19, 0)], 20),
      step([frag('a', 12, 25, 22)], 25),
      step([frag('a', 16, 30, 6)], 30),
      step([frag('a', 20, 35, 30)], 35),
      step([frag('a', 26, 40, 16)], 40),
      step([], 60),
    ].map((x) => st.apply(x));
    const finals = outs.flatMap((o) => o.finals);
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({
      startMs: EPOCH + 10_000,
      endMs: EPOCH + 40_000,
      refStartSec: 0,
      refEndSec: 30,
    });
  });

  it('extends a final detection, same id, when its airing resumes on its line after a weak stretch', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    const first = [step([frag('a', 10, 30, 0)], 30), step([], 45)].flatMap((x) => st.apply(x).finals);
    expect(first).toHaveLength(1);
    // speech over the song for 14 s, then it is heard again where the recording has got to
    const later = [step([frag('a', 44, 60, 34)], 60), step([], 80)].map((x) => st.apply(x));
    expect(later.flatMap((o) => o.finals)).toEqual([]);
    const corrected = later.flatMap((o) => o.corrected);
    expect(corrected).toHaveLength(1);
    expect(corrected[0]).toMatchObject({
      id: first[0].id,
      startMs: EPOCH + 10_000,
      endMs: EPOCH + 60_000,
      refEndSec: 50,
    });
    // the same song from its beginning again is another airing
    const again = [step([frag('a', 82, 100, 0)], 100), step([], 120)].flatMap((x) => st.apply(x).finals);
    expect(again.map((d) => d.startMs)).toEqual([EPOCH + 82_000]);
  });

  it('takes the alignment of a longer fragment when a short one matched a repeated section', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    st.apply(step([frag('a', 10, 13, 60)], 15));
    st.apply(step([frag('a', 10, 19, 5)], 20));
    const out = st.apply(step([], 40));
    expect(out.finals).toHaveLength(1);
    expect(out.finals[0]).toMatchObject({ startMs: EPOCH + 10_000, refStartSec: 5 });
  });

  it('holds an airing that ends at a gap and joins its continuation, keeping its id', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    st.apply(step([frag('a', 10, 30, 0)], 30));
    // the stream drops at 30 and is back at 38
    const gap = { startMs: EPOCH + 30_000, endMs: EPOCH + 38_000 };
    let out = st.apply(step([], 50, { discontinuities: [gap] }));
    expect(out.finals).toEqual([]);
    expect(out.pending.map((p) => p.state)).toEqual(['held']);
    const heldId = out.pending[0].id;
    st.apply(step([frag('a', 38, 55, 28)], 55));
    out = st.apply(step([], 80));
    expect(out.finals).toHaveLength(1);
    expect(out.finals[0]).toMatchObject({
      id: heldId,
      startMs: EPOCH + 10_000,
      endMs: EPOCH + 55_000,
      refEndSec: 45,
    });
  });

  it('gives up waiting for a continuation after stitchWaitSec of heard audio', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    st.apply(
      step([frag('a', 10, 30, 0)], 30, { discontinuities: [{ startMs: EPOCH + 31_000, endMs: null }] }),
    );
    const out = [45, 50, 55, 60, 65, 70, 75].flatMap((t) => st.apply(step([], t)).finals);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ recordingId: 'a', endMs: EPOCH + 30_000 });
  });

  it('drops a weak match buried inside a dense airing of another recording', () => {
    const st = new ChannelStitcher('fm1', POLICY);
    // an airing's density is its densest fragment's (fragments carry a confidence, not a point count)
    const outs = [
      step([frag('a', 10, 17, 0)], 20),
      step([frag('a', 12, 35, 2), frag('b', 20, 30, 3, 0.55)], 35),
      step([frag('a', 25, 45, 15)], 45),
      step([], 60),
    ].map((s) => st.apply(s));
    expect(outs.flatMap((o) => o.finals).map((d) => d.recordingId)).toEqual(['a']);
    expect(outs.reduce((n, o) => n + o.buried, 0)).toBe(1);
  });

  it('records the time of lost and unmatched batches as monitoring gaps that say why', () => {
    const base = {
      channelId: 'fm1',
      seq: 7,
      epochMs: EPOCH,
      fromUnits: 10_000,
      toUnits: 12_500,
      audioSec: 5,
      skips: [],
      gaps: [],
      fragments: [],
      end: false,
    };
    // batches before this one were lost: from where the channel was stitched to where this one starts
    const lost = resultInput(
      { ...base, rejected: null },
      EPOCH + 12_000,
      '2 batches lost at the capture node',
    );
    expect(lost.gaps).toEqual([
      {
        type: 'close',
        gap: {
          id: `gap:fm1:${EPOCH + 12_000}`,
          channelId: 'fm1',
          startMs: EPOCH + 12_000,
          endMs: EPOCH + 20_000,
          reason: 'discontinuity',
          detail: '2 batches lost at the capture node',
        },
      },
    ]);
    expect(lost.input.discontinuities).toEqual([{ startMs: EPOCH + 12_000, endMs: EPOCH + 20_000 }]);
    // a batch no worker could match: its own span, and no audio counted as heard
    const failed = resultInput({ ...base, rejected: 'failed: boom' }, EPOCH + 20_000, null);
    expect(failed.gaps.map((g) => [g.gap.startMs, g.gap.endMs, g.gap.detail])).toEqual([
      [EPOCH + 20_000, EPOCH + 25_000, 'batch #7 not matched: failed: boom'],
    ]);
    expect(failed.input.audioMs).toBe(0);
  });

  it('resumes from a checkpoint with exactly the same outcome', () => {
    const steps = [
      step([frag('a', 10, 14, 0)], 15),
      step([frag('a', 10, 19.5, 0), frag('b', 18, 19.5, 2, 0.8)], 20),
      step([frag('a', 11, 24.8, 1), frag('b', 18, 24.8, 2)], 25),
      step([frag('b', 18, 29.9, 2)], 30, {
        discontinuities: [{ startMs: EPOCH + 30_000, endMs: EPOCH + 31_000 }],
      }),
      step([frag('b', 31, 44, 15)], 45),
      ...[65, 70, 75, 80, 85, 90].map((t) => step([], t)),
    ];
    const whole = new ChannelStitcher('fm1', POLICY);
    const all = steps.flatMap((s) => whole.apply(s).finals);
    const first = new ChannelStitcher('fm1', POLICY);
    const before = steps.slice(0, 3).flatMap((s) => first.apply(s).finals);
    const resumed = new ChannelStitcher('fm1', POLICY, JSON.parse(JSON.stringify(first.snapshot())));
    const after = steps.slice(3).flatMap((s) => resumed.apply(s).finals);
    expect([...before, ...after]).toEqual(all);
    expect(all.map((d) => d.recordingId).sort()).toEqual(['a', 'b']);
  });
});

// The centre's own tables, on both stores the system of record can live in.
for (const kind of ['SQLite', 'PostgreSQL'] as const) {
  describe(`centre cursors and rejections on ${kind}`, () => {
    let store: Store;
    let done: () => Promise<void>;

    beforeAll(async () => {
      if (kind === 'SQLite') {
        store = openStore({
          url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'tyndau-dist-db-')), 'tyndau.db')}`,
        });
        done = () => store.close();
      } else {
        const dbName = `tyndau_dist_${process.pid}_${Date.now()}`;
        const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
        await admin.connect();
        await admin.query(`create database ${dbName}`);
        store = openStore({ url: `postgres://postgres@127.0.0.1:5432/${dbName}` });
        done = async () => {
          await store.close();
          await admin.query(`drop database if exists ${dbName} with (force)`);
          await admin.end();
        };
      }
      await migrateToLatest(store);
    });

    afterAll(async () => done());

    it("keeps each channel's cursor with its stitcher checkpoint, and counts rejections by reason", async () => {
      const repo = new DistributedRepository(store.db);
      const st = new ChannelStitcher('fm1', POLICY);
      st.apply({
        fragments: [
          {
            recordingId: 'a',
            startMs: EPOCH,
            endMs: EPOCH + 9000,
            refStartSec: 0,
            refEndSec: 9,
            speed: 1,
            confidence: 1,
          },
        ],
        audioMs: 5000,
        endMs: EPOCH + 10_000,
        discontinuities: [],
        end: false,
      });
      const cursor = {
        channelId: 'fm1',
        spoolId: 'sp1',
        nextSeq: 42,
        session: 's1',
        nodeId: 'almaty-1',
        positionMs: EPOCH + 10_000,
        state: st.snapshot(),
        batchesApplied: 41,
        batchesLost: 0,
        lastSealedAtMs: EPOCH + 11_000,
        updatedAtMs: EPOCH + 12_000,
      };
      await repo.saveCursor(cursor);
      await repo.saveCursor({ ...cursor, nextSeq: 43, batchesApplied: 42 });
      expect(await repo.cursors()).toEqual([{ ...cursor, nextSeq: 43, batchesApplied: 42 }]);
      // the checkpoint resumes the stitcher exactly
      const resumed = new ChannelStitcher('fm1', POLICY, (await repo.cursors())[0].state);
      expect(resumed.snapshot()).toEqual(st.snapshot());
      for (const reason of ['malformed', 'malformed', 'oversized']) {
        await repo.addRejection({
          channelId: null,
          nodeId: 'x',
          seq: null,
          reason,
          detail: 'why',
          atMs: EPOCH,
        });
      }
      expect(await repo.rejectionCounts()).toEqual({ malformed: 2, oversized: 1 });
      expect((await repo.rejections(1))[0]).toMatchObject({ reason: expect.any(String), detail: 'why' });
    });
  });
}
