/**
 * Scores detections against ground truth. Pure: plain lists in, numbers out.
 *
 * Rules (docs/benchmarks.md):
 * - A registered truth airing is FOUND when a detection of the same recording in the same file overlaps
 *   it by at least half of the shorter of the two. Such detections are ASSIGNED to it.
 * - A detection is CORRECT when it is assigned to at least one registered truth airing; otherwise it is a
 *   FALSE POSITIVE (subdivided: misattributed = over registered music of another recording,
 *   on-unregistered = over unregistered music, elsewhere = over speech, jingles, silence).
 * - A detection that is not correct but overlaps an airing of a recording known to share audio with the
 *   detected one (a reviewed list of related tracks) is SHARED AUDIO: neither correct nor false positive.
 * - Boundary error of a found airing: |earliest assigned start - truth start| and |latest assigned end -
 *   truth end|.
 * - Airtime: per file and recording, the union of truth intervals against the union of detection
 *   intervals; recall = overlap / truth seconds, precision = overlap / detected seconds.
 */

export interface TruthLine {
  file: string;
  recording: string;
  registered: boolean;
  start: number;
  end: number;
  condition: string;
  tags?: string[];
  snrDb?: number | null;
}

export interface DetectionLine {
  file: string;
  recording: string;
  start: number;
  end: number;
  confidence?: number;
}

export interface FileLine {
  file: string;
  condition: string;
  durationSec: number;
}

export interface Spread {
  n: number;
  median: number | null;
  p90: number | null;
}

export interface Score {
  files: number;
  audioSec: number;
  /** Registered truth airings, and how many were found. */
  airings: number;
  found: number;
  segmentRecall: number | null;
  /** Wilson 95 % interval of the segment recall: how much a few hundred airings can tell. */
  segmentRecallCi95: [number, number] | null;
  detections: number;
  correct: number;
  /** Detections of a related recording over an airing it shares audio with (excluded from precision). */
  sharedAudio: number;
  falsePositives: number;
  falsePositivesPerHour: number;
  falsePositiveKinds: { misattributed: number; onUnregistered: number; elsewhere: number };
  precision: number | null;
  f1: number | null;
  airtime: {
    truthSec: number;
    detectedSec: number;
    overlapSec: number;
    recall: number | null;
    precision: number | null;
  };
  boundary: { start: Spread; end: Spread; all: Spread };
  /** Found airings reported as more than one detection. */
  fragmented: number;
  /** Recall per truth tag (crossfade-in, partial, bed, dj-intro, ...). */
  byTag: Record<string, { airings: number; found: number; recall: number | null }>;
  missed: TruthLine[];
  /** Edges of found airings off by more than EDGE_LIST_SEC, worst first: where the boundary error comes from. */
  worstEdges: EdgeError[];
  falsePositiveList: (DetectionLine & { kind: keyof Score['falsePositiveKinds'] })[];
}

/** One boundary of a found airing: `errorSec` is signed, detected minus truth (negative = early). */
export interface EdgeError {
  file: string;
  recording: string;
  edge: 'start' | 'end';
  truthSec: number;
  detectedSec: number;
  errorSec: number;
  tags: string[];
}

/** Edges further off than this are listed in `worstEdges` (the end-to-end tests' boundary tolerance). */
export const EDGE_LIST_SEC = 1;

export interface Scorecard {
  byCondition: Record<string, Score>;
  overall: Score;
}

/** Overlap in seconds of two intervals (0 when disjoint). */
export function overlapSec(a: { start: number; end: number }, b: { start: number; end: number }): number {
  return Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
}

/** The rule for "the same airing": overlap of at least half of the shorter of the two. */
export function sameAiring(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  const shorter = Math.min(a.end - a.start, b.end - b.start);
  return shorter > 0 && overlapSec(a, b) >= 0.5 * shorter;
}

/** Percentile with linear interpolation between closest ranks (p in 0..100). */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = values.slice().sort((x, y) => x - y);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

function spread(values: number[]): Spread {
  return { n: values.length, median: percentile(values, 50), p90: percentile(values, 90) };
}

/** Merges intervals into a sorted, disjoint union. */
export function union(
  intervals: readonly { start: number; end: number }[],
): { start: number; end: number }[] {
  const s = intervals.filter((i) => i.end > i.start).map((i) => ({ start: i.start, end: i.end }));
  s.sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const i of s) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
    else out.push(i);
  }
  return out;
}

function totalSec(intervals: readonly { start: number; end: number }[]): number {
  return intervals.reduce((sum, i) => sum + (i.end - i.start), 0);
}

/** Overlap in seconds between two unions (each sorted and disjoint). */
function unionOverlapSec(a: { start: number; end: number }[], b: { start: number; end: number }[]): number {
  let i = 0;
  let j = 0;
  let sum = 0;
  while (i < a.length && j < b.length) {
    sum += overlapSec(a[i], b[j]);
    if (a[i].end < b[j].end) i++;
    else j++;
  }
  return sum;
}

/**
 * One-sided 95 % upper bound of a Poisson rate from `k` events in `exposure` units (exact: the rate at
 * which seeing <= k events has probability 5 %). With k = 0 it is the "rule of three": 3.0 / exposure.
 */
export function poissonUpper95(k: number, exposure: number): number | null {
  if (!(exposure > 0)) return null;
  const cdf = (lambda: number): number => {
    let term = Math.exp(-lambda);
    let sum = term;
    for (let i = 1; i <= k; i++) {
      term *= lambda / i;
      sum += term;
    }
    return sum;
  };
  let lo = 0;
  let hi = k + 10 + 10 * Math.sqrt(k + 1);
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2 / exposure;
}

/** Wilson score interval for a proportion k/n at 95 %. */
export function wilson95(k: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const z = 1.959964;
  const p = k / n;
  const den = 1 + (z * z) / n;
  const mid = (p + (z * z) / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / den;
  return [Math.max(0, mid - half), Math.min(1, mid + half)];
}

function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/** Recordings known to share audio, both ways: related.get(a)?.has(b). */
export type Related = ReadonlyMap<string, ReadonlySet<string>>;

export function relatedFromPairs(pairs: readonly (readonly [string, string])[]): Related {
  const m = new Map<string, Set<string>>();
  for (const [a, b] of pairs) {
    if (!m.has(a)) m.set(a, new Set());
    if (!m.has(b)) m.set(b, new Set());
    m.get(a)!.add(b);
    m.get(b)!.add(a);
  }
  return m;
}

/** Scores one group of files (one condition, or all of them). */
export function scoreGroup(
  files: readonly FileLine[],
  truth: readonly TruthLine[],
  detections: readonly DetectionLine[],
  related: Related = new Map(),
): Score {
  const fileSet = new Set(files.map((f) => f.file));
  const T = truth.filter((t) => fileSet.has(t.file));
  const D = detections.filter((d) => fileSet.has(d.file));
  const audioSec = files.reduce((s, f) => s + f.durationSec, 0);

  const registered = T.filter((t) => t.registered);
  const correct = new Set<DetectionLine>();
  let found = 0;
  let fragmented = 0;
  const startErrors: number[] = [];
  const endErrors: number[] = [];
  const missed: TruthLine[] = [];
  const worstEdges: EdgeError[] = [];
  const byTag: Score['byTag'] = {};
  for (const t of registered) {
    const assigned = D.filter((d) => d.file === t.file && d.recording === t.recording && sameAiring(d, t));
    const isFound = assigned.length > 0;
    for (const tag of t.tags ?? []) {
      const e = (byTag[tag] ??= { airings: 0, found: 0, recall: null });
      e.airings++;
      if (isFound) e.found++;
    }
    if (!isFound) {
      missed.push(t);
      continue;
    }
    found++;
    if (assigned.length > 1) fragmented++;
    for (const d of assigned) correct.add(d);
    const start = Math.min(...assigned.map((d) => d.start));
    const end = Math.max(...assigned.map((d) => d.end));
    startErrors.push(Math.abs(start - t.start));
    endErrors.push(Math.abs(end - t.end));
    for (const [edge, truthSec, detectedSec] of [
      ['start', t.start, start],
      ['end', t.end, end],
    ] as const) {
      const errorSec = detectedSec - truthSec;
      if (Math.abs(errorSec) > EDGE_LIST_SEC) {
        worstEdges.push({
          file: t.file,
          recording: t.recording,
          edge,
          truthSec,
          detectedSec,
          errorSec,
          tags: t.tags ?? [],
        });
      }
    }
  }
  for (const e of Object.values(byTag)) e.recall = ratio(e.found, e.airings);
  worstEdges.sort((a, b) => Math.abs(b.errorSec) - Math.abs(a.errorSec));

  const kinds = { misattributed: 0, onUnregistered: 0, elsewhere: 0 };
  const falsePositiveList: Score['falsePositiveList'] = [];
  let sharedAudio = 0;
  for (const d of D) {
    if (correct.has(d)) continue;
    const under = T.filter((t) => t.file === d.file && overlapSec(t, d) > 0);
    if (under.some((t) => related.get(t.recording)?.has(d.recording))) {
      sharedAudio++;
      continue;
    }
    const kind: keyof typeof kinds = under.some((t) => t.registered && t.recording !== d.recording)
      ? 'misattributed'
      : under.some((t) => !t.registered)
        ? 'onUnregistered'
        : 'elsewhere';
    kinds[kind]++;
    falsePositiveList.push({ ...d, kind });
  }
  const falsePositives = D.length - correct.size - sharedAudio;

  // Airtime, per file and recording.
  let truthSec = 0;
  let detectedSec = 0;
  let overlap = 0;
  const keys = new Set([
    ...registered.map((t) => `${t.file}\u0000${t.recording}`),
    ...D.map((d) => `${d.file}\u0000${d.recording}`),
  ]);
  for (const key of keys) {
    const [file, recording] = key.split('\u0000');
    const tu = union(registered.filter((t) => t.file === file && t.recording === recording));
    const du = union(D.filter((d) => d.file === file && d.recording === recording));
    truthSec += totalSec(tu);
    detectedSec += totalSec(du);
    overlap += unionOverlapSec(tu, du);
  }

  const segmentRecall = ratio(found, registered.length);
  const precision = ratio(correct.size, D.length - sharedAudio);
  const f1 =
    segmentRecall !== null && precision !== null && segmentRecall + precision > 0
      ? (2 * segmentRecall * precision) / (segmentRecall + precision)
      : null;
  return {
    files: files.length,
    audioSec,
    airings: registered.length,
    found,
    segmentRecall,
    segmentRecallCi95: wilson95(found, registered.length),
    detections: D.length,
    correct: correct.size,
    sharedAudio,
    falsePositives,
    falsePositivesPerHour: audioSec > 0 ? falsePositives / (audioSec / 3600) : 0,
    falsePositiveKinds: kinds,
    precision,
    f1,
    airtime: {
      truthSec,
      detectedSec,
      overlapSec: overlap,
      recall: ratio(overlap, truthSec),
      precision: ratio(overlap, detectedSec),
    },
    boundary: {
      start: spread(startErrors),
      end: spread(endErrors),
      all: spread([...startErrors, ...endErrors]),
    },
    fragmented,
    byTag,
    missed,
    worstEdges,
    falsePositiveList,
  };
}

/** Scores every condition and all files together. */
export function scoreAll(
  files: readonly FileLine[],
  truth: readonly TruthLine[],
  detections: readonly DetectionLine[],
  related: Related = new Map(),
): Scorecard {
  const known = new Set(files.map((f) => f.file));
  for (const d of detections) {
    if (!known.has(d.file)) throw new Error(`score: detection in unknown file ${d.file}`);
  }
  for (const t of truth) {
    if (!known.has(t.file)) throw new Error(`score: truth airing in unknown file ${t.file}`);
  }
  const conditions = [...new Set(files.map((f) => f.condition))];
  const byCondition: Record<string, Score> = {};
  for (const c of conditions)
    byCondition[c] = scoreGroup(
      files.filter((f) => f.condition === c),
      truth,
      detections,
      related,
    );
  return { byCondition, overall: scoreGroup(files, truth, detections, related) };
}
