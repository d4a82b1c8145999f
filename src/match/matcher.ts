import {
  FRAMES_PER_SEC,
  HASH,
  MATCH,
  PLAY_THROUGH,
  PeakExtractor,
  QUANT,
  ROTATION,
  STFT,
  ANALYSIS_SAMPLE_RATE,
  forEachTriplet,
  queryHashes,
  type Peak,
} from '../fingerprint/index.js';
import { HASH_BAND_DIVISOR, BAND_FREQ_UNITS } from '../fingerprint/hashes.js';
import type { IndexedRecording, LookupIndex } from '../index/lookup.js';
import { BinSieve, StampSet } from './tables.js';
import {
  NO_RANKS,
  SpectrumHistory,
  addRanks,
  extendEdge,
  nearTotals,
  rankedEdge,
  rankTotals,
  referencePeaksIn,
  rankVerdict,
  type Alignment,
  type RankEvidence,
} from './evidence.js';
import { denseMatters, spectrumMatters, spectrumVerdict } from './verdict.js';
import {
  confidenceOf,
  evidencePoints,
  finaliseTrack,
  fitTrack,
  median,
  newTrack,
  pointKey,
  round3,
  type Track,
  type TrackFit,
} from './track.js';
import { Rotation } from './rotation.js';
import type { Detection } from './types.js';

const TU = QUANT.timeUnitsPerFrame;
const FU = QUANT.freqUnitsPerOctave;
const M = HASH.maxSpeedChange;
/** Frequency tolerance of the pitch consistency check (freq units), beyond the speed itself. */
const PITCH_TOL = 14;
const MAX_PITCH_UNITS = Math.log2(1 + M) * FU;
const WINDOW = MATCH.windowFrames * TU;
const HOP = WINDOW / 2;
const BIN = MATCH.offsetBinFrames;
const HALF_FRAME = TU / 2;
/** Votes are kept this long past their window, so that a new airing can claim its weak beginning. */
const LOOKBACK = 6 * FRAMES_PER_SEC * TU;
/** Largest gap between weak votes chained onto the start of an airing. */
const CHAIN_GAP = 2 * FRAMES_PER_SEC * TU;
/** Consistent votes a window needs to continue an open airing without a hit of its own. */
const CONTINUE_VOTES = 2;
/** A detection inside another recording's airing, by this margin both sides, at a fraction of its density, is dropped. */
const CONTAIN_MARGIN_SEC = 1;
const CONTAIN_DENSITY = 1.5;
/** Open tracks are ranked in stretches of this many query frames (8 s), ... */
const RANKS_STRETCH_FRAMES = Math.round(8 * FRAMES_PER_SEC);
/** ... ending this far behind the newest window, so that the off-alignment places are in the history. */
const RANKS_LAG_FRAMES = 120;
/** Samples processed per step of push(): one second. */
const PUSH_SLICE = ANALYSIS_SAMPLE_RATE;
/** Seconds of query spectrum kept for edge checks; must exceed closeAfterSec plus EDGE_MAX. */
const HISTORY_SEC = 24;
/** An open track's start is searched in ranks (rankStarts) once its points span this (time units: 6 s). */
const RANKED_START_AFTER = 6 * FRAMES_PER_SEC * TU;
/** How far the spectrum check may move an edge beyond the matched points. */
const EDGE_MAX_FRAMES = Math.round(8 * FRAMES_PER_SEC);
/** A frame's time is its window's centre (frameToSec): half a window after the frame's first sample. */
const HALF_WINDOW_FRAMES = STFT.fftSize / 2 / STFT.hopSamples;
/** PLAY_THROUGH in frames of reference audio. */
const PLAY_GAP_FRAMES = PLAY_THROUGH.maxGapSec * FRAMES_PER_SEC;
const PLAY_QUIET_GAP_FRAMES = PLAY_THROUGH.quietMaxGapSec * FRAMES_PER_SEC;
const PLAY_MIN_FRAMES = PLAY_THROUGH.minPlaySec * FRAMES_PER_SEC;

/** Anything that holds a lookup index (the ReferenceIndex adapter, or a bare LookupIndex in tests). */
export interface HasLookup {
  readonly lookup: LookupIndex;
}

export interface MatcherOptions {
  /** Detections below this confidence are not reported. Default MATCH.minConfidence. */
  minConfidence?: number;
  /** Spectrum checks of weak tracks (see checkSpectrum()). Default true; off only to measure their effect. */
  verifyShort?: boolean;
  /**
   * The rotation search (Matching step 7): recordings this stream aired lately are searched for one
   * peak at a time. Default true (it needs the spectrum checks and PCM input); off to measure its effect.
   */
  rotation?: boolean;
  /**
   * Plays taken through to the recording's own audible start and end (PLAY_THROUGH, Matching step 4).
   * Default true (it needs the spectrum: PCM input); off to measure its effect.
   */
  playThrough?: boolean;
}

/** Seconds of the centre of frame `f` (frame f starts at sample f * hop). */
export function frameToSec(f: number): number {
  return f / FRAMES_PER_SEC + STFT.fftSize / 2 / ANALYSIS_SAMPLE_RATE;
}

/** The frame (fractional) whose centre is at `sec`: frameToSec's inverse. */
function secToFrame(sec: number): number {
  return (sec - frameToSec(0)) * FRAMES_PER_SEC;
}

/** How far (frames) one airing's line may wander and still be the same airing (MATCH.continueSlackSec). */
const LINE_SLACK_FRAMES = MATCH.continueSlackSec * FRAMES_PER_SEC;

/**
 * Whether two lines (query frame = a + b * reference frame) put query frame `q` on the same reference
 * frame, within LINE_SLACK_FRAMES: two tracks or detections of one airing, not a repeated section.
 */
function sameLineAt(q: number, x: { a: number; b: number }, y: { a: number; b: number }): boolean {
  return Math.abs((q - x.a) / x.b - (q - y.a) / y.b) <= LINE_SLACK_FRAMES;
}

/**
 * The streaming matcher: push PCM at ANALYSIS_SAMPLE_RATE, receive detections as they close.
 * Memory stays bounded: peaks, votes and tracks older than a few windows are dropped.
 *
 *   PCM -> peaks (query density) -> triplets -> lookups (every hash a speed change could give)
 *       -> votes (query time, reference frame) -> per-window Hough on the offset
 *       -> hits -> tracks (one per airing, following a slowly drifting offset) -> detections.
 */
export class StreamMatcher {
  private readonly source: HasLookup;
  private readonly minConfidence: number;
  private readonly verifyShort: boolean;
  private readonly useRotation: boolean;
  private readonly playThrough: boolean;
  /** The query spectrum of the last HISTORY_SEC, for checking airing edges (PCM input only). */
  private readonly history = new SpectrumHistory(Math.ceil(HISTORY_SEC * FRAMES_PER_SEC));
  private extractor = this.newExtractor();
  /** Absolute time (time units) of the current extractor's frame 0. */
  private originUnits = 0;
  /** Samples pushed into the current extractor. */
  private samplesInSegment = 0;
  private peaks: Peak[] = [];
  private nextAnchor = 0;
  // votes, in anchor time order: [voteStart, voteEnd) of these typed arrays are live
  private vTq = new Uint32Array(1 << 14);
  private vG = new Uint32Array(1 << 14);
  private vEnd = new Uint32Array(1 << 14);
  private vScale = new Float32Array(1 << 14);
  private vPitch = new Float32Array(1 << 14);
  /** Offset bin of each vote: floor((reference frame - query frame) / BIN). */
  private vBin = new Int32Array(1 << 14);
  private voteStart = 0;
  private voteEnd = 0;
  private readonly sieve = new BinSieve();
  private nextWindowStart = 0;
  private readonly tracks: Track[] = [];
  /** Detections reported in the last 120 s, with their alignment (query frame = a + b * reference frame). */
  private readonly recent: Array<{
    slot: number;
    start: number;
    end: number;
    points: number;
    a: number;
    b: number;
  }> = [];
  /** Recordings this stream aired lately, searched for one peak at a time (Matching step 7). */
  private readonly rotation = new Rotation<IndexedRecording>();
  /** End (time units) of the last window evaluated. */
  private searchedUpTo = 0;
  /**
   * Detections held back while a track of the same recording that overlaps them is still open (a
   * loop's other offset): whichever has more points on its line is reported once both have closed,
   * so that one recording never gets two detections over the same airtime (it would be paid twice).
   */
  private readonly held: Reported[] = [];
  private readonly hashBuf: number[] = [];
  private readonly anchorSeen = new StampSet();
  private latestUnits = 0;
  /** PCM was pushed: the spectrum is there to verify tracks of few points (MATCH.minHitVotes). */
  private hasSpectrum = false;

  constructor(source: HasLookup | LookupIndex, opts: MatcherOptions = {}) {
    this.source = 'lookup' in source ? source : { lookup: source };
    this.minConfidence = opts.minConfidence ?? MATCH.minConfidence;
    this.verifyShort = opts.verifyShort ?? true;
    this.useRotation = this.verifyShort && (opts.rotation ?? true);
    this.playThrough = opts.playThrough ?? true;
  }

  private newExtractor(): PeakExtractor {
    // the origin is read when each frame arrives: skip() moves it before making a new extractor
    return new PeakExtractor('query', (frame) =>
      this.history.add(this.originUnits / TU + frame.index, frame.power),
    );
  }

  /** Seconds of audio (and skips) consumed so far. */
  get timeSec(): number {
    return this.originUnits / TU / FRAMES_PER_SEC + this.samplesInSegment / ANALYSIS_SAMPLE_RATE;
  }

  push(pcm: Float32Array): Detection[] {
    const out: Detection[] = [];
    this.hasSpectrum = true;
    // Large inputs go through in slices, so that windows are evaluated while their spectrum is
    // still in the history (the edge and presence checks need it).
    for (let i = 0; i < pcm.length; i += PUSH_SLICE) {
      const slice = pcm.subarray(i, Math.min(pcm.length, i + PUSH_SLICE));
      this.addPeaks(this.extractor.push(slice));
      this.samplesInSegment += slice.length;
      this.processAnchors(false);
      this.evaluateWindows(false, out);
    }
    return out;
  }

  /**
   * Feeds peaks computed elsewhere (query density, times in time units from this matcher's origin,
   * sorted); `untilUnits` is how far the audio behind them reaches.
   */
  pushPeaks(peaks: Peak[], untilUnits: number): Detection[] {
    const out: Detection[] = [];
    // in slices of a second, like push(): votes are counted and dropped as they go, not all held
    const sliceUnits = FRAMES_PER_SEC * TU;
    for (let i = 0; i < peaks.length;) {
      const until = peaks[i].t + sliceUnits;
      let j = i;
      while (j < peaks.length && peaks[j].t < until) j++;
      this.addPeaks(peaks.slice(i, j));
      this.processAnchors(false);
      this.evaluateWindows(false, out);
      i = j;
    }
    this.latestUnits = Math.max(this.latestUnits, untilUnits);
    this.processAnchors(false);
    this.evaluateWindows(false, out);
    return out;
  }

  /** A discontinuity: `seconds` pass without audio (a dropped stream). Open airings may continue after it. */
  skip(seconds: number): Detection[] {
    if (!(seconds >= 0)) throw new Error(`skip: seconds must be >= 0, got ${seconds}`);
    const out: Detection[] = [];
    this.endSegment(out);
    const segUnits = Math.round((this.samplesInSegment / STFT.hopSamples) * TU);
    this.originUnits += segUnits + Math.round(seconds * FRAMES_PER_SEC * TU);
    this.samplesInSegment = 0;
    this.extractor = this.newExtractor();
    return out;
  }

  /** End of the stream: closes every open airing. */
  flush(): Detection[] {
    const out: Detection[] = [];
    this.endSegment(out);
    this.closeTracks(Infinity, out);
    return out;
  }

  /** Airings still open (provisional: their end and confidence may still grow). */
  openDetections(): Detection[] {
    const out: Array<{ d: Detection; points: number; slot: number }> = [];
    // strongest first, so that a weaker track of the same recording over the same airtime (a
    // repeated section matched at another offset) is left out, as it would be when it closes
    const byStrength = [...this.tracks].sort((a, b) => b.tq.length - a.tq.length);
    for (const t of byStrength) {
      const d = finaliseTrack(t);
      if (!d || d.confidence < this.minConfidence) continue;
      if (out.some((o) => o.slot === t.rec.slot && overlapShare(o.d, d) > 0)) continue;
      out.push({ d, points: t.tq.length, slot: t.rec.slot });
    }
    return out.map((o) => o.d).sort((a, b) => a.start - b.start);
  }

  private endSegment(out: Detection[]): void {
    this.addPeaks(this.extractor.flush());
    this.processAnchors(true);
    this.evaluateWindows(true, out);
  }

  private addPeaks(fresh: Peak[]): void {
    if (fresh.length === 0) return;
    const o = this.originUnits;
    for (const p of fresh) {
      const q = { t: p.t + o, f: p.f };
      // peaks arrive in time order per block; keep the buffer sorted across block edges
      let i = this.peaks.length;
      while (
        i > this.nextAnchor &&
        (this.peaks[i - 1].t > q.t || (this.peaks[i - 1].t === q.t && this.peaks[i - 1].f > q.f))
      )
        i--;
      if (i === this.peaks.length) this.peaks.push(q);
      else this.peaks.splice(i, 0, q);
      if (q.t > this.latestUnits) this.latestUnits = q.t;
    }
  }

  private processAnchors(complete: boolean): void {
    const peaks = this.peaks;
    const lookup = this.source.lookup;
    const main = lookup.main;
    const offsets = main.offsets;
    const frames = main.frames;
    const auxArr = main.aux;
    const hot = main.hotLimit;
    const delta = lookup.delta.count > 0 ? lookup.delta.map : undefined;
    const hashes = this.hashBuf;
    const seen = this.anchorSeen;
    while (this.nextAnchor < peaks.length) {
      const a = this.nextAnchor;
      const A = peaks[a];
      const af = A.f;
      seen.clear();
      const done = forEachTriplet(peaks, a, HASH.zonePeaksQuery, complete, (_ai, i1, i2) => {
        const P2 = peaks[i2];
        const dtq = P2.t - A.t;
        const tol = 6 / dtq;
        // accepted reference triplet lengths (time units, aux keeps them in half frames)
        const dtLo = dtq * (1 - M - tol);
        const dtHi = dtq * (1 + M + tol);
        // the same range as aux words (length in half frames in the high byte)
        const auxLo = Math.ceil(dtLo / HALF_FRAME) << 8;
        const auxHi = (Math.floor(dtHi / HALF_FRAME) + 1) << 8;
        const pitchTol = PITCH_TOL + tol * 1477;
        // the largest pitch shift a speed change within range can explain
        const maxShift = MAX_PITCH_UNITS + pitchTol;
        const n = queryHashes(A, peaks[i1], P2, hashes);
        for (let x = 0; x < n; x++) {
          const h = hashes[x];
          const bandBase = Math.floor(h / HASH_BAND_DIVISOR) * BAND_FREQ_UNITS + 1;
          const e = offsets[h + 1];
          const b = offsets[h];
          // rows are sorted by aux, triplet length first: visit only the lengths in [dtLo, dtHi]
          for (let p = e - b > hot ? e : main.lowerBound(b, e, auxLo); p < e; p++) {
            const aux = auxArr[p];
            if (aux >= auxHi) break;
            const dtr = (aux >> 8) * HALF_FRAME;
            // pitch: unchanged (tempo-only stretch) or moved with the speed (pitch and tempo together)
            const df = af - (bandBase + (aux & 0xff) * 2);
            if (df > PITCH_TOL || df < -PITCH_TOL) {
              if (df > maxShift || df < -maxShift) continue;
              const dev = df - Math.log2(dtr / dtq) * FU;
              if (dev > pitchTol || dev < -pitchTol) continue;
            }
            const g = frames[p];
            if (seen.add(g)) this.vote(A.t, g, P2.t, dtr / dtq, df);
          }
          // the same checks over the delta's interleaved layout, written out again on purpose: this
          // is the hottest loop of the engine and one shared helper over two layouts would deoptimise it
          if (delta) {
            const arr = delta.get(h);
            if (!arr) continue;
            for (let j = 0; j < arr.length; j += 2) {
              const aux = arr[j + 1];
              const dtr = (aux >> 8) * HALF_FRAME;
              if (dtr < dtLo || dtr > dtHi) continue;
              const df = af - (bandBase + (aux & 0xff) * 2);
              if (df > PITCH_TOL || df < -PITCH_TOL) {
                if (df > maxShift || df < -maxShift) continue;
                const dev = df - Math.log2(dtr / dtq) * FU;
                if (dev > pitchTol || dev < -pitchTol) continue;
              }
              const g = arr[j];
              if (seen.add(g)) this.vote(A.t, g, P2.t, dtr / dtq, df);
            }
          }
        }
      });
      if (!done) break;
      this.nextAnchor++;
    }
    // drop peaks no future triplet can use, and no rotation search (windows not yet evaluated, and
    // those a recording joining the rotation is searched for again, as far as the history reaches)
    if (this.nextAnchor > 2048) {
      const keepFrom = this.nextWindowStart - HISTORY_SEC * FRAMES_PER_SEC * TU;
      let cut = 0;
      while (cut < this.nextAnchor && peaks[cut].t < keepFrom) cut++;
      if (cut > 1024) {
        this.peaks.splice(0, cut);
        this.nextAnchor -= cut;
      }
    }
  }

  private vote(tq: number, g: number, end: number, scale: number, pitch: number): void {
    if (this.voteEnd === this.vTq.length) this.growVotes();
    const i = this.voteEnd++;
    this.vTq[i] = tq;
    this.vG[i] = g;
    this.vEnd[i] = end;
    this.vScale[i] = scale;
    this.vPitch[i] = pitch;
    this.vBin[i] = Math.floor((g - tq / TU) / BIN);
  }

  /** Makes room at the end: moves the live votes to the front, doubling the arrays when they are over half full. */
  private growVotes(): void {
    const { voteStart: from, voteEnd: to } = this;
    const live = to - from;
    if (live * 2 > this.vTq.length) {
      const cap = this.vTq.length * 2;
      this.vTq = moved(this.vTq, new Uint32Array(cap), from, to);
      this.vG = moved(this.vG, new Uint32Array(cap), from, to);
      this.vEnd = moved(this.vEnd, new Uint32Array(cap), from, to);
      this.vScale = moved(this.vScale, new Float32Array(cap), from, to);
      this.vPitch = moved(this.vPitch, new Float32Array(cap), from, to);
      this.vBin = moved(this.vBin, new Int32Array(cap), from, to);
    } else {
      for (const a of [this.vTq, this.vG, this.vEnd, this.vScale, this.vPitch, this.vBin])
        a.copyWithin(0, from, to);
    }
    this.voteStart = 0;
    this.voteEnd = live;
  }

  /** Index of the first live vote with query time >= t (votes are in time order). */
  private firstVoteAt(t: number): number {
    const tq = this.vTq;
    let lo = this.voteStart;
    let hi = this.voteEnd;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tq[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Evaluates every window whose votes are all in (all of them when `final`). */
  private evaluateWindows(final: boolean, out: Detection[]): void {
    const doneUpTo =
      this.nextAnchor < this.peaks.length ? this.peaks[this.nextAnchor].t : this.latestUnits + 1;
    while (final ? this.nextWindowStart <= this.latestUnits : this.nextWindowStart + WINDOW <= doneUpTo) {
      const ws = this.nextWindowStart;
      this.evaluateWindow(ws, ws + WINDOW);
      if (this.hasSpectrum && this.useRotation) this.searchRotation(ws, ws + WINDOW);
      this.searchedUpTo = ws + WINDOW;
      if (this.verifyShort) this.gatherRanks((ws + WINDOW) / TU - RANKS_LAG_FRAMES);
      if (this.hasSpectrum) this.rankStarts(false);
      this.nextWindowStart += HOP;
      this.closeTracks(ws + WINDOW, out);
      this.trimVotes(this.nextWindowStart - LOOKBACK);
    }
    if (final) this.nextWindowStart = Math.max(this.nextWindowStart, this.originUnits);
  }

  private trimVotes(before: number): void {
    while (this.voteStart < this.voteEnd && this.vTq[this.voteStart] < before) this.voteStart++;
  }

  private evaluateWindow(ws: number, we: number): void {
    const { vG, vBin } = this;
    const first = this.firstVoteAt(ws);
    const end = this.firstVoteAt(we);
    if (first === end) return;
    if (this.tracks.length > 0) this.continueTracks(first, end);
    const minVotes = this.hasSpectrum && this.verifyShort ? MATCH.minHitVotes : MATCH.minHitVotesPeaksOnly;
    const pairs = this.sieve.pairs(vBin, first, end, minVotes);
    if (pairs.length === 0) return;
    pairs.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const used = new Set<number>();
    const lookup = this.source.lookup;
    // A recording airs at most once at a time: per window keep its strongest offset only. Repeated
    // sections (loops, choruses) vote for other offsets of the same recording and must not win.
    const best = new Map<IndexedRecording, number[]>();
    for (const [bin] of pairs) {
      if (used.has(bin) || used.has(bin + 1)) continue;
      used.add(bin);
      used.add(bin + 1);
      const bySlot = new Map<IndexedRecording, number[]>();
      const inPair = [...(this.sieve.votes.get(bin) ?? []), ...(this.sieve.votes.get(bin + 1) ?? [])];
      for (const i of inPair.sort((x, y) => x - y)) {
        const rec = lookup.locate(vG[i]);
        if (!rec || !rec.alive) continue;
        let arr = bySlot.get(rec);
        if (!arr) bySlot.set(rec, (arr = []));
        arr.push(i);
      }
      for (const [rec, idx] of bySlot) {
        if (idx.length < minVotes) continue;
        const prev = best.get(rec);
        if (!prev || prev.length < idx.length) best.set(rec, idx);
      }
    }
    for (const [rec, idx] of best) this.addHit(rec, idx);
  }

  /**
   * The rotation search (Matching step 7): recordings aired lately on this stream, not being followed
   * now, searched for in the window's query peaks one peak at a time. A candidate whose dense reference
   * peaks rank ROTATION.minNearZ above nearby times opens a track; its rotation points count for
   * nothing in its confidence, which only the spectrum's verification at its close can give it.
   */
  private searchRotation(ws: number, we: number, only?: IndexedRecording): void {
    const fromF = ws / TU;
    const toF = we / TU;
    if (!only) this.rotation.expire(toF);
    if (this.rotation.size === 0 || !this.history.has(Math.floor(fromF))) return;
    const fromSec = frameToSec(fromF);
    const toSec = frameToSec(toF);
    // followed now (a track of it had a hit or votes in this window) or reported over this window
    const busy = (rec: IndexedRecording) =>
      (only !== undefined && rec !== only) ||
      !rec.alive ||
      this.tracks.some((t) => t.rec === rec && t.lastTq >= ws) ||
      this.recent.some((r) => r.slot === rec.slot && r.end > fromSec && r.start < toSec);
    const lookup = this.source.lookup;
    for (const c of this.rotation.search(this.peaks, fromF, toF, busy)) {
      const rec = c.key;
      const peaks = lookup.denseReferencePeaks?.(rec) ?? lookup.referencePeaks?.(rec);
      if (!peaks) continue;
      const al: Alignment = { a: c.a, b: c.b, pitchUnits: c.pitchUnits, refFrames: rec.frames };
      // judged where its coinciding peaks are (a bed shorter than the window is not diluted)
      let lo = Infinity;
      let hi = -Infinity;
      for (const p of c.points) {
        lo = Math.min(lo, p.tq / TU);
        hi = Math.max(hi, p.tq / TU);
      }
      const margin = ROTATION.spanMarginFrames;
      const near = rankVerdict(
        nearTotals(this.history, peaks, al, Math.max(fromF, lo - margin), Math.min(toF, hi + margin)),
      );
      if (!near || near.n < MATCH.nearMinPeaksAiring || near.z < ROTATION.minNearZ) continue;
      // An open track already on this alignment (quiet for a while) is this airing; so is a reported
      // one: found again after its end, it would come out as a second detection of one airing (a
      // second play to pay), so the engine leaves its end where it was.
      const q = (fromF + toF) / 2;
      const offset = rec.startFrame + (q - c.a) / c.b - q;
      const same = (t: Track) =>
        t.rec === rec &&
        Math.abs(t.lastOffset - offset) <= (M * Math.abs(q * TU - t.lastTq)) / TU + LINE_SLACK_FRAMES;
      const again = (r: { slot: number; a: number; b: number }) => r.slot === rec.slot && sameLineAt(q, r, c);
      if (this.tracks.some(same) || this.recent.some(again)) continue;
      const track = newTrack(rec, 0, 0, true);
      for (const p of c.points) {
        const key = pointKey(p.tq, p.tr);
        if (track.keys.has(key)) continue;
        track.keys.add(key);
        track.rotationKeys!.add(key);
        track.tq.push(p.tq);
        track.tr.push(p.tr);
        track.tEnd.push(p.tq);
        track.scale.push(1 / c.b);
        track.pitch.push(c.pitchUnits);
        if (p.tq >= track.lastTq) {
          track.lastTq = p.tq;
          track.lastOffset = rec.startFrame + p.tr - p.tq / TU;
        }
      }
      this.tracks.push(track);
      this.refineStart(track);
    }
  }

  /**
   * A recording this stream aired before the matcher started (a restarted monitor's stored detections
   * of the last ROTATION horizon, oldest first): it joins the rotation (Matching step 7) as if reported
   * `agoSec` before the first sample, at `speed`, its pitch taken to follow the speed as a station's
   * speed-up does (a tempo-only airing's entry is replaced when the recording is next reported). Returns
   * false for an id that is not enrolled, or with the rotation off.
   */
  remember(recordingId: string, speed: number, agoSec: number): boolean {
    if (!this.useRotation || !(speed > 0)) return false;
    const lookup = this.source.lookup;
    const rec = lookup.get(recordingId);
    const peaks = rec && (lookup.denseReferencePeaks?.(rec) ?? lookup.referencePeaks?.(rec));
    if (!rec?.alive || !peaks) return false;
    const pitchUnits = Math.log2(speed) * QUANT.freqUnitsPerOctave;
    this.rotation.note(rec, peaks, rec.frames, 1 / speed, pitchUnits, -Math.max(0, agoSec) * FRAMES_PER_SEC);
    return true;
  }

  /** The recordings in the rotation, most recently heard first (for health pages and tests). */
  rotationRecordings(): string[] {
    return this.rotation.keys().map((rec) => rec.id);
  }

  /** A reported airing's recording joins (or refreshes) the rotation, at the speed and pitch it aired at. */
  private noteRotation(e: Reported): void {
    // only what the calibrated threshold believes, whatever the caller's threshold
    if (!this.hasSpectrum || !this.useRotation || e.d.confidence < MATCH.minConfidence) return;
    const lookup = this.source.lookup;
    const peaks = lookup.denseReferencePeaks?.(e.rec) ?? lookup.referencePeaks?.(e.rec);
    if (!peaks) return;
    this.rotation.note(e.rec, peaks, e.rec.frames, e.b, e.pitchUnits, e.endF);
    // A track is reported seconds after its airing ends (MATCH.closeAfterSec): the windows searched
    // since then are searched again for this recording, as far as the spectrum history reaches (a
    // jingle played twice within seconds).
    const from = Math.max(e.endF * TU, this.searchedUpTo - HISTORY_SEC * FRAMES_PER_SEC * TU);
    for (let ws = Math.floor(from / HOP) * HOP; ws + WINDOW <= this.searchedUpTo; ws += HOP)
      this.searchRotation(ws, ws + WINDOW, e.rec);
  }

  private addHit(rec: IndexedRecording, idx: number[]): Track {
    const { vTq, vG } = this;
    const offs = idx.map((i) => vG[i] - vTq[i] / TU).sort((a, b) => a - b);
    const c = offs[offs.length >> 1];
    const tq = vTq[idx[idx.length >> 1]];
    let track: Track | undefined;
    let bestDist = Infinity;
    for (const t of this.tracks) {
      if (t.rec !== rec) continue;
      const dist = Math.abs(c - t.lastOffset);
      if (dist <= (M * Math.abs(tq - t.lastTq)) / TU + LINE_SLACK_FRAMES && dist < bestDist) {
        track = t;
        bestDist = dist;
      }
    }
    if (!track) {
      track = newTrack(rec, tq, c);
      this.tracks.push(track);
      this.addPoints(track, idx);
      this.lookBack(track, c, Math.min(...idx.map((i) => vTq[i])));
      this.refineStart(track);
    } else this.addPoints(track, idx);
    if (tq >= track.lastTq) {
      track.lastTq = tq;
      track.lastOffset = c;
    }
    return track;
  }

  private addPoints(track: Track, idx: Iterable<number>): void {
    const { vTq, vG } = this;
    const start = track.rec.startFrame;
    for (const i of idx) {
      const tr = vG[i] - start;
      const key = pointKey(vTq[i], tr);
      if (track.keys.has(key)) continue;
      track.keys.add(key);
      track.tq.push(vTq[i]);
      track.tr.push(tr);
      track.tEnd.push(this.vEnd[i]);
      track.scale.push(this.vScale[i]);
      track.pitch.push(this.vPitch[i]);
    }
  }

  /** The alignment of a track so far, for the edge checks; undefined without reference peaks. */
  private alignment(t: Track, b?: number, a?: number, pitch?: number): Alignment | undefined {
    const bb = b ?? 1 / median(t.scale);
    const tqF = t.tq.map((x) => x / TU);
    return {
      b: bb,
      a: a ?? median(tqF.map((q, i) => q - bb * t.tr[i])),
      pitchUnits: pitch ?? median(t.pitch),
      refFrames: t.rec.frames,
    };
  }

  private refineStart(t: Track): void {
    const peaks = this.source.lookup.referencePeaks?.(t.rec);
    if (!peaks) return;
    const al = this.alignment(t);
    if (!al) return;
    const first = Math.min(...t.tq) / TU;
    const edge = extendEdge(this.history, peaks, al, first, -1, EDGE_MAX_FRAMES);
    if (edge < first) t.edgeStart = edge;
  }

  private refineEnd(t: Track, fit: NonNullable<ReturnType<typeof fitTrack>>): void {
    const peaks = this.source.lookup.referencePeaks?.(t.rec);
    if (!peaks) return;
    const al = this.alignment(t, fit.b, fit.a, fit.pitchUnits);
    if (!al) return;
    // A confirmed airing's end is followed out with a loop's own repeats left out of the chance
    // baseline: they lift it and cut a looping song's end early under a presenter (3.5 s). Not for a
    // weak track, whose extent feeds its own verification (a jingle whose end it moved a second later,
    // into the talk, failed it), nor at starts, where the rule took short plays 1.6-3.4 s into the
    // talk before them (docs/benchmarks.md).
    const own = evidencePoints(t, fit);
    const confirmed = !spectrumMatters(own, confidenceOf(own));
    let edge = extendEdge(this.history, peaks, al, fit.endF, 1, EDGE_MAX_FRAMES, confirmed);
    // and beyond, where the seconds after it rank above nearby times as a whole (a crossfade out)
    if (confirmed) {
      const dense = this.source.lookup.denseReferencePeaks?.(t.rec) ?? peaks;
      edge = Math.max(
        edge,
        Math.min(rankedEdge(this.history, dense, al, edge, 1, EDGE_MAX_FRAMES), this.sameAfter(t, al, edge)),
      );
      // and to the recording's own end, if a play of it stops short of that by little
      if (this.isPlay(t, fit, al, edge)) {
        edge = Math.max(
          edge,
          Math.min(this.playedThrough(t, dense, al, edge, 1), this.sameAfter(t, al, edge)),
        );
      }
    }
    if (edge > fit.endF) t.edgeEnd = edge;
    if (t.edgeStart === undefined) {
      const s = extendEdge(this.history, peaks, al, fit.startF, -1, EDGE_MAX_FRAMES);
      if (s < fit.startF) t.edgeStart = s;
    }
    this.rankStarts(true, t, fit);
    // the start found when the track was young, now that it is known to be a play
    if (t.playStart !== undefined && this.isPlay(t, fit, al, edge)) {
      t.edgeStart = Math.min(t.edgeStart ?? Infinity, t.playStart);
    }
  }

  /** Whether a track ending at query frame `end` spans PLAY_THROUGH.minPlaySec of reference audio: a play, not a snippet. */
  private isPlay(t: Track, fit: TrackFit, al: Alignment, end: number): boolean {
    return (end - Math.min(fit.startF, t.edgeStart ?? Infinity)) / al.b >= PLAY_MIN_FRAMES;
  }

  /**
   * Where the recording is audible on alignment `al`, as query frames, taken through from edge `edge`
   * (direction -1: its start, 1: its end): the recording's own audible start or end when `edge` falls
   * short of it by at most PLAY_THROUGH.maxGapSec of reference audio (quietMaxGapSec where that stretch
   * of the reference is too sparse to judge) and the reference's peaks over it (enough of them) do not
   * rank below chance; otherwise `edge`. Under a crossfade or a presenter, the quiet first and last
   * seconds of a song never beat chance on their own, and a station that plays a song to within two
   * seconds of its end plays it to its end (docs/recognition.md).
   */
  private playedThrough(
    t: Track,
    peaks: readonly Peak[],
    al: Alignment,
    edge: number,
    direction: 1 | -1,
  ): number {
    const ref = this.playThrough ? this.soundEdge(t.rec, peaks, direction) : undefined;
    if (ref === undefined) return edge;
    const q = al.a + al.b * ref;
    const gap = (direction * (q - edge)) / al.b;
    const [from, to] = [Math.min(q, edge), Math.max(q, edge)];
    if (gap <= 0 || gap > PLAY_QUIET_GAP_FRAMES || !this.history.has(Math.floor(q))) return edge;
    if (gap > PLAY_GAP_FRAMES && referencePeaksIn(peaks, al, from, to) >= MATCH.nearMinPeaksAiring)
      return edge;
    const r = rankVerdict(nearTotals(this.history, peaks, al, from, to));
    const below = r !== undefined && r.n >= PLAY_THROUGH.minPeaks && r.z < -PLAY_THROUGH.maxBelowZ;
    return below ? edge : q;
  }

  /**
   * The reference frame of a recording's audible start (direction -1) or end (1): measured at
   * enrolment, else (recordings enrolled before it was) the first or last of its peaks.
   */
  private soundEdge(rec: IndexedRecording, peaks: readonly Peak[], direction: 1 | -1): number | undefined {
    const span = this.source.lookup.soundSpan?.(rec);
    if (span) return (direction < 0 ? span.startSec : span.endSec) * FRAMES_PER_SEC - HALF_WINDOW_FRAMES;
    if (peaks.length === 0) return undefined;
    return direction < 0 ? peaks[0].t / TU : peaks[peaks.length - 1].t / TU + HALF_WINDOW_FRAMES;
  }

  /**
   * The query spectrum checked along a weak track's alignment (rankEvidence): a veto of hash
   * coincidences and a verification of short airings (spectrumVerdict). Needs the spectrum (PCM
   * input): peaks-only matching skips both.
   */
  private checkSpectrum(t: Track, fit: TrackFit, d: Detection): void {
    const points = evidencePoints(t, fit);
    // peaks-only input keeps no spectrum: do not fetch reference peaks for nothing
    if (!spectrumMatters(points, d.confidence) || !this.history.has(Math.floor(fit.endF))) return;
    const peaks = this.source.lookup.referencePeaks?.(t.rec);
    const al = peaks && this.alignment(t, fit.b, fit.a, fit.pitchUnits);
    if (!peaks || !al) return;
    const from = Math.max(fit.startF, t.ranksUntil ?? -Infinity);
    const ranks = addRanks(t.ranks ?? NO_RANKS, rankTotals(this.history, peaks, al, from, fit.endF));
    // Against nearby times only over what the history still holds: it only verifies, and a track that
    // needs it is short. Over the matched points, and over the airing as far as the spectrum showed
    // it (the edges), with a longer floor: under a voice a few seconds of music leave 4-6 points on a
    // second of it. The better verdict counts.
    const span = rankVerdict(ranks)?.z;
    const c0 = d.confidence;
    d.confidence = spectrumVerdict(points, c0, {
      span,
      ...this.nearEvidence(t, peaks, al, fit.startF, fit.endF),
    });
    const airFrom = Math.min(fit.startF, t.edgeStart ?? Infinity);
    const airTo = Math.max(fit.endF, t.edgeEnd ?? -Infinity);
    if (airFrom < fit.startF || airTo > fit.endF) {
      const airing = this.nearEvidence(t, peaks, al, airFrom, airTo);
      d.confidence = Math.max(d.confidence, spectrumVerdict(points, c0, { span, ...airing, airing: true }));
    }
  }

  /**
   * The reference ranked against nearby times over [fromF, toF); its dense peaks too (more peaks, more
   * power) where stored and where they could change the verdict.
   */
  private nearEvidence(
    t: Track,
    peaks: Peak[],
    al: Alignment,
    fromF: number,
    toF: number,
  ): { near?: RankEvidence; nearDense?: RankEvidence } {
    const near = rankVerdict(nearTotals(this.history, peaks, al, fromF, toF));
    const dense = denseMatters(near) ? this.source.lookup.denseReferencePeaks?.(t.rec) : undefined;
    return { near, nearDense: dense && rankVerdict(nearTotals(this.history, dense, al, fromF, toF)) };
  }

  /**
   * Ranks the reference's peaks in the query spectrum over stretches of open tracks (RANKS_STRETCH_FRAMES
   * or more that the track's points cover, up to query frame `upTo`) before the history loses them,
   * with the alignment known so far: the spectrum check at the close then covers a long track whole.
   */
  private gatherRanks(upTo: number): void {
    for (const t of this.tracks) {
      const from = (t.ranksUntil ??= Math.min(...t.tq) / TU);
      // only what the track's points already cover: a short airing is judged whole at its close
      const to = Math.min(upTo, t.lastTq / TU);
      if (to - from < RANKS_STRETCH_FRAMES || !this.history.has(Math.floor(from))) continue;
      const peaks = this.source.lookup.referencePeaks?.(t.rec);
      const al = peaks && this.alignment(t);
      if (!peaks || !al) continue;
      t.ranks = addRanks(t.ranks ?? NO_RANKS, rankTotals(this.history, peaks, al, from, to));
      t.ranksUntil = to;
    }
  }

  /**
   * The ranked start search (rankedEdge) of a confirmed airing: of each open track once its points
   * span RANKED_START_AFTER (its line is then known well enough) and it is confirmed, or of `only`
   * when it closes; while the spectrum history still holds the seconds before its start. Not for a
   * weak track: its extent feeds its own verification (checkSpectrum), which ranks against the same
   * nearby times the search chose the extent by.
   */
  private rankStarts(closing: boolean, only?: Track, fit?: TrackFit): void {
    for (const t of only ? [only] : this.tracks) {
      if (t.startRanked) continue;
      if (!closing && t.lastTq - Math.min(...t.tq) < RANKED_START_AFTER) continue;
      const f = fit ?? fitTrack(t);
      if (!f) continue;
      const from = Math.min(f.startF, t.edgeStart ?? Infinity);
      if (!this.history.has(Math.floor(from) - 1)) {
        t.startRanked = true; // too late: the history no longer holds what came before
        continue;
      }
      const own = evidencePoints(t, f);
      if (spectrumMatters(own, confidenceOf(own))) continue;
      t.startRanked = true;
      const peaks =
        this.source.lookup.denseReferencePeaks?.(t.rec) ?? this.source.lookup.referencePeaks?.(t.rec);
      const al = peaks && this.alignment(t, f.b, f.a, f.pitchUnits);
      if (!peaks || !al) continue;
      const s = Math.max(
        rankedEdge(this.history, peaks, al, from, -1, EDGE_MAX_FRAMES),
        this.sameBefore(t, al, from),
      );
      if (s < from) t.edgeStart = s;
      // the recording's own start, kept until the track closes as a play (refineEnd)
      const p = Math.max(this.playedThrough(t, peaks, al, s, -1), this.sameBefore(t, al, s));
      if (p < s) t.playStart = p;
    }
  }

  /**
   * Where the nearest other airing of the same recording on the same alignment `al` (the same airing,
   * in another track) that began before query frame `f` ends: its detection reported or held, or its
   * track still open; `f` itself if it reaches past `f`; -Infinity if there is none. The ranked start
   * search stops there: that stretch ranks as present, and a track that continues an airing would be
   * stretched over its first part and then lose to it as a repeated section (seen on seed 2: 17 s of a
   * march lost). Other alignments (a loop's other offset) do not rank on this one and do not count.
   */
  private sameBefore(t: Track, al: Alignment, f: number): number {
    let bound = -Infinity;
    this.sameAiring(t, al, (start, end) => {
      if (start < f) bound = Math.max(bound, Math.min(end, f));
    });
    return bound;
  }

  /** Where the nearest other track of the same airing (see sameBefore) that reaches past `f` begins, or Infinity. */
  private sameAfter(t: Track, al: Alignment, f: number): number {
    let bound = Infinity;
    this.sameAiring(t, al, (start, end) => {
      if (end > f) bound = Math.min(bound, Math.max(start, f));
    });
    return bound;
  }

  /** Calls `visit` with the span (query frames) of every other detection or open track of `t`'s recording on alignment `al`. */
  private sameAiring(t: Track, al: Alignment, visit: (start: number, end: number) => void): void {
    const slot = t.rec.slot;
    for (const r of [
      ...this.recent,
      ...this.held.map((h) => ({ slot: h.slot, start: h.d.start, end: h.d.end, a: h.a, b: h.b })),
    ]) {
      if (r.slot !== slot) continue;
      const q = secToFrame(r.end);
      if (sameLineAt(q, r, al)) visit(secToFrame(r.start), q);
    }
    for (const o of this.tracks) {
      if (o === t || o.rec !== t.rec) continue;
      const q = o.lastTq / TU;
      if (Math.abs(o.lastOffset - (t.rec.startFrame + (q - al.a) / al.b - q)) > LINE_SLACK_FRAMES) continue;
      const span = trackSpan(o);
      visit(secToFrame(span.start), secToFrame(span.end));
    }
  }

  /** Votes of this track's recording at a consistent offset, inside its span. */
  private consistent(track: Track, i: number, offset: number, atTq: number): boolean {
    const g = this.vG[i];
    const rec = track.rec;
    if (g < rec.startFrame || g >= rec.startFrame + rec.frames) return false;
    const c = g - this.vTq[i] / TU;
    return Math.abs(c - offset) <= BIN / 2 + (M * Math.abs(this.vTq[i] - atTq)) / TU;
  }

  /**
   * A new airing was confirmed by a strong window: earlier, weaker votes at the same offset (a fade-in,
   * an intro under speech) belong to it too, as long as they chain back without a long gap.
   */
  private lookBack(track: Track, offset: number, firstTq: number): void {
    const cand: number[] = [];
    for (let i = this.voteStart; i < this.voteEnd && this.vTq[i] < firstTq; i++) {
      if (this.consistent(track, i, offset, firstTq)) cand.push(i);
    }
    cand.sort((x, y) => this.vTq[y] - this.vTq[x]);
    let edge = firstTq;
    const take: number[] = [];
    for (const i of cand) {
      if (edge - this.vTq[i] > CHAIN_GAP) break;
      take.push(i);
      edge = this.vTq[i];
    }
    this.addPoints(track, take);
  }

  /**
   * Open airings keep the window's votes consistent with them, however few (fades, speech over); done
   * before the window's hits are taken, so that a hit joins a track that has followed the offset.
   */
  private continueTracks(first: number, end: number): void {
    for (const t of this.tracks) {
      const idx: number[] = [];
      for (let i = first; i < end; i++) {
        if (this.consistent(t, i, t.lastOffset, t.lastTq)) idx.push(i);
      }
      if (idx.length < CONTINUE_VOTES) continue;
      this.addPoints(t, idx);
      const last = idx[idx.length - 1];
      if (this.vTq[last] > t.lastTq) {
        t.lastOffset = this.vG[last] - this.vTq[last] / TU;
        t.lastTq = this.vTq[last];
      }
    }
  }

  /**
   * Reports a detection, cut to the airtime its recording has not been reported for yet: two tracks of
   * one airing (one that closed, its end stretched by the edge search, and a new one) may overlap, and
   * those seconds must not be paid twice. Of what lies before and after an overlap the longer part
   * is kept; a detection wholly inside one already reported is dropped.
   */
  private report(e: Reported, out: Detection[]): void {
    const d = e.d;
    for (const r of this.recent) {
      if (r.slot !== e.slot || r.end <= d.start || r.start >= d.end) continue;
      const before = r.start - d.start;
      const after = d.end - r.end;
      if (before <= 0 && after <= 0) return;
      if (after >= before) {
        d.refStart = round3(d.refStart + (r.end - d.start) * d.speed);
        d.start = r.end;
      } else {
        d.refEnd = round3(d.refEnd - (d.end - r.start) * d.speed);
        d.end = r.start;
      }
    }
    this.recent.push({ slot: e.slot, start: d.start, end: d.end, points: e.points, a: e.a, b: e.b });
    this.noteRotation(e);
    out.push(d);
  }

  private closeTracks(now: number, out: Detection[]): void {
    const closeUnits = MATCH.closeAfterSec * FRAMES_PER_SEC * TU;
    for (let i = 0; i < this.tracks.length; i++) {
      const t = this.tracks[i];
      if (now !== Infinity && now - t.lastTq <= closeUnits) continue;
      this.tracks.splice(i--, 1);
      const fit = fitTrack(t);
      if (fit) this.refineEnd(t, fit);
      const d = finaliseTrack(t, fit);
      // independent of minConfidence, so that the confidence means the same at any threshold
      if (d && fit && this.verifyShort) this.checkSpectrum(t, fit, d);
      if (!d || d.confidence < this.minConfidence) continue;
      const points = t.tq.length;
      // A weaker track of the same recording over the same airtime is a repeated section: drop it.
      // Weaker by consistent points (inliers): under a voice a wrong offset's track may gather more
      // stray votes than the real one has points on its line.
      const inliers = fit!.inliers.length;
      const outdone = (o: Track) =>
        o.rec === t.rec && o.tq.length > inliers && (fitTrack(o)?.inliers.length ?? 0) > inliers;
      const slot = t.rec.slot;
      // a held detection on this track's line is the same airing (another track of it), not a rival:
      // both are reported and report() cuts the overlap (seen on seed 2: a march's last 17 s lost)
      const overlapMid = (h: Reported) =>
        secToFrame((Math.max(h.d.start, d.start) + Math.min(h.d.end, d.end)) / 2);
      const rivals = (h: Reported) =>
        h.slot === slot && overlapShare(h.d, d) > 0 && !sameLineAt(overlapMid(h), h, fit!);
      const stronger =
        this.tracks.some((o) => overlapsTrack(o, d) && outdone(o)) ||
        this.held.some((h) => rivals(h) && h.inliers >= inliers) ||
        this.recent.some((r) => r.slot === slot && r.points >= points && overlapShare(r, d) >= 0.5);
      if (stronger) continue;
      // Shared material (a drum loop, a sample) makes a short, weak match inside another recording's
      // airing; a real crossfade or bed sticks out of it. Drop a detection buried inside a much denser one.
      const density = points / Math.max(1, d.end - d.start);
      const buried = (o: { start: number; end: number; points: number }) =>
        o.start <= d.start - CONTAIN_MARGIN_SEC &&
        o.end >= d.end + CONTAIN_MARGIN_SEC &&
        o.points / Math.max(1, o.end - o.start) >= CONTAIN_DENSITY * density;
      if (
        this.tracks.some((o) => o.rec !== t.rec && buried(trackSpan(o))) ||
        this.recent.some((r) => r.slot !== slot && buried(r)) ||
        this.held.some((h) => h.slot !== slot && buried({ start: h.d.start, end: h.d.end, points: h.points }))
      ) {
        continue;
      }
      // a weaker held rival is dropped; while a rival is still open, this one waits for it
      for (let h = this.held.length - 1; h >= 0; h--) if (rivals(this.held[h])) this.held.splice(h, 1);
      const entry: Reported = {
        d,
        slot,
        points,
        inliers,
        rec: t.rec,
        a: fit!.a,
        b: fit!.b,
        pitchUnits: fit!.pitchUnits,
        endF: fit!.endF,
      };
      if (this.tracks.some((o) => o.rec === t.rec && overlapsTrack(o, d))) this.held.push(entry);
      else this.report(entry, out);
    }
    // held detections whose rivals have all closed (without beating them) are reported now
    for (let h = 0; h < this.held.length; h++) {
      const { d, slot } = this.held[h];
      if (this.tracks.some((o) => o.rec.slot === slot && overlapsTrack(o, d))) continue;
      this.report(this.held[h], out);
      this.held.splice(h--, 1);
    }
    // keep recent detections for a while, for the overlap check
    const horizon = now === Infinity ? Infinity : now / TU / FRAMES_PER_SEC - 120;
    while (this.recent.length > 0 && horizon !== Infinity && this.recent[0].end < horizon)
      this.recent.shift();
  }
}

/** A detection on its way out, with what the rotation needs to know of its track. */
interface Reported {
  d: Detection;
  slot: number;
  points: number;
  inliers: number;
  rec: IndexedRecording;
  /** Its track's line: query frame = a + b * reference frame. */
  a: number;
  b: number;
  pitchUnits: number;
  endF: number;
}

function moved<A extends Uint32Array | Int32Array | Float32Array>(
  src: A,
  dst: A,
  from: number,
  to: number,
): A {
  dst.set(src.subarray(from, to));
  return dst;
}

function overlapShare(a: { start: number; end: number }, b: { start: number; end: number }): number {
  const ov = Math.min(a.end, b.end) - Math.max(a.start, b.start);
  const shorter = Math.min(a.end - a.start, b.end - b.start);
  return shorter > 0 ? ov / shorter : 0;
}

/** A track's current span in seconds and its point count. */
function trackSpan(t: Track): { start: number; end: number; points: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < t.tq.length; i++) {
    if (t.tq[i] < lo) lo = t.tq[i];
    if (t.tEnd[i] > hi) hi = t.tEnd[i];
  }
  return { start: frameToSec(lo / TU), end: frameToSec(hi / TU), points: t.tq.length };
}

/**
 * Whether an open track shares any airtime with a detection: the track is still growing, so its span
 * so far understates the overlap (a repeated section's track closing 2.6 s before the airing it
 * shadows overlapped the open track's points by less than half).
 */
function overlapsTrack(t: Track, d: Detection): boolean {
  return overlapShare(trackSpan(t), d) > 0;
}
