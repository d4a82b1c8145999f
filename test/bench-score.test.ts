import { describe, expect, it } from 'vitest';
import { chooseUnregistered } from '../scripts/bench/corpus.js';
import {
  percentile,
  poissonUpper95,
  relatedFromPairs,
  sameAiring,
  scoreAll,
  scoreGroup,
  union,
  wilson95,
  type DetectionLine,
  type FileLine,
  type TruthLine,
} from '../scripts/bench/score.js';

const file: FileLine = { file: 'radio-0.mp3', condition: 'radio', durationSec: 1800 };
const song = (recording: string, start: number, end: number, extra: Partial<TruthLine> = {}): TruthLine => ({
  file: 'radio-0.mp3',
  recording,
  registered: true,
  start,
  end,
  condition: 'radio',
  ...extra,
});
const det = (recording: string, start: number, end: number, f = 'radio-0.mp3'): DetectionLine => ({
  file: f,
  recording,
  start,
  end,
});

describe('the benchmark scorer', () => {
  it('gives perfect scores to detections equal to the truth', () => {
    const truth = [song('a', 10, 130), song('b', 127, 300)];
    const s = scoreGroup([file], truth, [det('a', 10, 130), det('b', 127, 300)]);
    expect(s.segmentRecall).toBe(1);
    expect(s.precision).toBe(1);
    expect(s.f1).toBe(1);
    expect(s.falsePositives).toBe(0);
    expect(s.airtime.recall).toBeCloseTo(1, 12);
    expect(s.airtime.precision).toBeCloseTo(1, 12);
    expect(s.boundary.all).toEqual({ n: 4, median: 0, p90: 0 });
  });

  it('counts an airing as found at exactly half of the shorter overlap, not below', () => {
    // truth 0-100, detection 50-150: overlap 50 = half of 100.
    expect(sameAiring({ start: 0, end: 100 }, { start: 50, end: 150 })).toBe(true);
    expect(sameAiring({ start: 0, end: 100 }, { start: 50.5, end: 150 })).toBe(false);
    // A 3 s short play inside a 20 s detection overlaps 100 % of the shorter.
    expect(sameAiring({ start: 10, end: 13 }, { start: 0, end: 20 })).toBe(true);

    const half = scoreGroup([file], [song('a', 0, 100)], [det('a', 50, 150)]);
    expect(half.found).toBe(1);
    expect(half.boundary.start.median).toBe(50);
    expect(half.boundary.end.median).toBe(50);
    const less = scoreGroup([file], [song('a', 0, 100)], [det('a', 60, 150)]);
    expect(less.found).toBe(0);
    expect(less.falsePositives).toBe(1);
    expect(less.missed.map((m) => m.recording)).toEqual(['a']);
  });

  it('classifies false positives and rates them per hour of audio', () => {
    const truth = [song('a', 0, 100), song('u', 200, 300, { registered: false })];
    const dets = [det('b', 10, 90), det('x', 210, 290), det('y', 500, 520)];
    const s = scoreGroup([file], truth, dets);
    expect(s.found).toBe(0);
    expect(s.segmentRecall).toBe(0);
    expect(s.precision).toBe(0);
    expect(s.falsePositives).toBe(3);
    expect(s.falsePositiveKinds).toEqual({ misattributed: 1, onUnregistered: 1, elsewhere: 1 });
    expect(s.falsePositivesPerHour).toBeCloseTo(6, 12); // 3 in half an hour
    expect(s.airings).toBe(1); // unregistered music is not something to find
  });

  it('reports fragmented airings once for recall and counts airtime without double counting', () => {
    const truth = [song('a', 0, 120)];
    const dets = [det('a', 1, 60), det('a', 62, 119), det('a', 30, 50)];
    const s = scoreGroup([file], truth, dets);
    expect(s.found).toBe(1);
    expect(s.fragmented).toBe(1);
    expect(s.correct).toBe(3);
    expect(s.precision).toBe(1);
    expect(s.boundary.start.median).toBe(1);
    expect(s.boundary.end.median).toBe(1);
    expect(s.airtime.truthSec).toBe(120);
    expect(s.airtime.detectedSec).toBe(59 + 57);
    expect(s.airtime.overlapSec).toBe(116);
    expect(s.airtime.recall).toBeCloseTo(116 / 120, 12);
    expect(s.airtime.precision).toBe(1);
  });

  it('measures airtime precision when a detection runs past the airing', () => {
    const s = scoreGroup([file], [song('a', 100, 200)], [det('a', 90, 230)]);
    expect(s.found).toBe(1);
    expect(s.airtime.recall).toBe(1);
    expect(s.airtime.precision).toBeCloseTo(100 / 140, 12);
    expect(s.boundary.start.median).toBe(10);
    expect(s.boundary.end.median).toBe(30);
  });

  it('lists the edges off by more than a second, signed and worst first, with the airing tags', () => {
    const truth = [song('a', 100, 200, { tags: ['crossfade-in'] }), song('b', 300, 400)];
    const s = scoreGroup([file], truth, [det('a', 102.5, 199.2), det('b', 299.5, 398.5)]);
    expect(s.worstEdges).toEqual([
      {
        file: 'radio-0.mp3',
        recording: 'a',
        edge: 'start',
        truthSec: 100,
        detectedSec: 102.5,
        errorSec: 2.5,
        tags: ['crossfade-in'],
      },
      {
        file: 'radio-0.mp3',
        recording: 'b',
        edge: 'end',
        truthSec: 400,
        detectedSec: 398.5,
        errorSec: -1.5,
        tags: [],
      },
    ]);
  });

  it('never matches across files, and splits scores by condition', () => {
    const files: FileLine[] = [file, { file: 'tv.aac', condition: 'tv-snr0', durationSec: 3600 }];
    const truth = [song('a', 0, 100), { ...song('a', 0, 100), file: 'tv.aac', condition: 'tv-snr0' }];
    const dets = [det('a', 0, 100, 'tv.aac')];
    const card = scoreAll(files, truth, dets);
    expect(card.byCondition.radio.found).toBe(0);
    expect(card.byCondition.radio.detections).toBe(0);
    expect(card.byCondition['tv-snr0'].found).toBe(1);
    expect(card.overall.found).toBe(1);
    expect(card.overall.airings).toBe(2);
    expect(card.overall.segmentRecall).toBe(0.5);
    expect(card.overall.audioSec).toBe(5400);
  });

  it('keeps recall per tag and leaves recall undefined where there is nothing to find', () => {
    const truth = [
      song('a', 0, 100, { tags: ['crossfade-in'] }),
      song('b', 97, 200, { tags: ['crossfade-in', 'partial'] }),
    ];
    const s = scoreGroup([file], truth, [det('a', 0, 99)]);
    expect(s.byTag['crossfade-in']).toEqual({ airings: 2, found: 1, recall: 0.5 });
    expect(s.byTag.partial).toEqual({ airings: 1, found: 0, recall: 0 });
    const empty = scoreGroup([{ file: 'speech.mp3', condition: 'speech', durationSec: 900 }], [], []);
    expect(empty.segmentRecall).toBeNull();
    expect(empty.precision).toBeNull();
    expect(empty.falsePositivesPerHour).toBe(0);
  });

  it('rejects detections for files it was not told about', () => {
    expect(() => scoreAll([file], [], [det('a', 0, 1, 'nope.mp3')])).toThrow(/unknown file nope\.mp3/);
  });

  it('computes percentiles by linear interpolation and merges intervals', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 90)).toBeCloseTo(3.7, 12);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(
      union([
        { start: 5, end: 8 },
        { start: 0, end: 2 },
        { start: 1, end: 3 },
        { start: 8, end: 9 },
      ]),
    ).toEqual([
      { start: 0, end: 3 },
      { start: 5, end: 9 },
    ]);
  });

  it('counts a related recording over an airing it shares audio with as shared audio, not a false positive', () => {
    const related = relatedFromPairs([['theme', 'christmas']]);
    const truth = [song('christmas', 0, 130, { registered: false }), song('a', 130, 250)];
    const dets = [det('theme', 1, 12), det('b', 140, 150), det('a', 130, 250)];
    const s = scoreGroup([file], truth, dets, related);
    expect(s.sharedAudio).toBe(1);
    expect(s.falsePositives).toBe(1);
    expect(s.falsePositiveList.map((d) => d.recording)).toEqual(['b']);
    expect(s.precision).toBe(0.5); // 1 correct of the 2 detections that are not shared audio
    const without = scoreGroup([file], truth, dets);
    expect(without.sharedAudio).toBe(0);
    expect(without.falsePositives).toBe(2);
  });
});

describe('the registered/unregistered split', () => {
  const ids = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);

  it('holds out 20 % by a seeded shuffle', () => {
    const a = chooseUnregistered(ids, [], '1');
    expect(a.size).toBe(10);
    expect([...chooseUnregistered(ids, [], '1')]).toEqual([...a]);
    expect([...chooseUnregistered(ids, [], '2')].sort()).not.toEqual([...a].sort());
  });

  it('keeps related tracks on the same side for every seed', () => {
    const related: [string, string][] = [
      ['t01', 't02'],
      ['t02', 't03'],
      ['t10', 't40'],
    ];
    let together = 0;
    for (let seed = 0; seed < 40; seed++) {
      const out = chooseUnregistered(ids, related, String(seed));
      expect(out.size).toBe(10);
      const side = (id: string): boolean => out.has(id);
      expect(side('t01')).toBe(side('t02'));
      expect(side('t02')).toBe(side('t03'));
      expect(side('t10')).toBe(side('t40'));
      if (side('t01')) together++;
    }
    expect(together).toBeGreaterThan(0); // the group can still be held out as a whole
  });
});

describe('recall intervals', () => {
  it('gives the Wilson 95 % interval of a proportion', () => {
    // All found: the lower bound has the closed form n / (n + z^2).
    const z = 1.959964;
    const [lo, hi] = wilson95(28, 28)!;
    expect(lo).toBeCloseTo(28 / (28 + z * z), 10);
    expect(hi).toBe(1);
    // Both bounds x solve (k/n - x)^2 = z^2 x (1 - x) / n, one either side of k/n.
    const [a, b] = wilson95(19, 39)!;
    for (const x of [a, b]) expect((19 / 39 - x) ** 2).toBeCloseTo((z * z * x * (1 - x)) / 39, 10);
    expect(a).toBeLessThan(19 / 39);
    expect(b).toBeGreaterThan(19 / 39);
    expect(wilson95(0, 0)).toBeNull();
  });
});

describe('false-positive rate bounds', () => {
  it('gives the exact one-sided 95 % Poisson upper bound', () => {
    // k = 0: P(0; λ) = e^-λ = 0.05 -> λ = ln 20 (the rule of three).
    expect(poissonUpper95(0, 1)).toBeCloseTo(Math.log(20), 6);
    expect(poissonUpper95(0, 30)).toBeCloseTo(Math.log(20) / 30, 6);
    // k = 1: (1 + λ) e^-λ = 0.05 at the bound.
    const l1 = poissonUpper95(1, 1)!;
    expect((1 + l1) * Math.exp(-l1)).toBeCloseTo(0.05, 8);
    expect(poissonUpper95(3, 0)).toBeNull();
  });
});
