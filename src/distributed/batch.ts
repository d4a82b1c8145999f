/**
 * The messages of distributed mode, as plain JSON (BullMQ job data), and their validation. A capture
 * node ships `PeakBatch`es; a matcher worker answers each with a `BatchResult` for the centre.
 * Pure: no I/O.
 */
import { decodePeaks, encodePeaks, type Peak } from '../fingerprint/index.js';
import type { GapChange } from '../monitor/index.js';
import type { ChannelStateTable } from '../store/index.js';
import type { Fragment } from './matching.js';

export const WIRE_VERSION = 1;

/** Matcher time units (1/8 STFT frame) per second: 62.5 frames x 8. */
export const UNITS_PER_SEC = 500;

/** Peaks on the wire: encodePeaks of (t - base), base64. */
export interface WirePeaks {
  base: number;
  count: number;
  data: string;
}

/** A discontinuity in the session's matcher time: the segment ended at `atUnits`; `sec` unheard seconds follow. */
export interface SkipMark {
  atUnits: number;
  sec: number;
}

/** Earlier audio of the same session, so a worker with no state can match the batch's edges. */
export interface BatchContext {
  fromUnits: number;
  peaks: WirePeaks;
  skips: SkipMark[];
}

/** What a capture node seals every few seconds of audio (without seq: the spool numbers it). */
export interface SealedBatch {
  v: number;
  channelId: string;
  /** One run of the capture node's channel runner: matcher time restarts at 0 with each session. */
  session: string;
  /** UTC (ms) of matcher time 0 of the session; null until the first audio. */
  epochMs: number | null;
  /** Matcher time this batch covers, [fromUnits, toUnits). */
  fromUnits: number;
  toUnits: number;
  /** Seconds of audio heard in the batch (skips excluded). */
  audioSec: number;
  /** Query-density peaks emitted while this batch filled (times in session matcher units). */
  peaks: WirePeaks;
  skips: SkipMark[];
  context: BatchContext | null;
  /** The session ended (stop, or a recorded source played to its end): every open airing closes. */
  end: boolean;
  /** Monitoring gap records, in the order the node's runner produced them. */
  gaps: GapChange[];
  /** The node's latest channel state row (heartbeat), if it changed since the last batch. */
  state: ChannelStateTable | null;
  /** Wall clock of the node when it sealed the batch. */
  sealedAtMs: number;
}

/** A batch as queued: numbered by the node's spool. */
export interface PeakBatch extends SealedBatch {
  nodeId: string;
  /** Identity of the node's spool: a new one (a wiped disk) restarts the numbering. */
  spoolId: string;
  /** Per channel and spool, from 1, without holes. */
  seq: number;
  /** Lowest seq the node still holds; above the centre's next seq it means batches were lost. */
  holdsFrom: number;
}

/** A matcher worker's answer to a batch: its fragments, plus everything the centre needs in order. */
export interface BatchResult {
  v: number;
  channelId: string;
  nodeId: string;
  spoolId: string;
  session: string;
  seq: number;
  holdsFrom: number;
  epochMs: number | null;
  fromUnits: number;
  toUnits: number;
  audioSec: number;
  skips: SkipMark[];
  end: boolean;
  gaps: GapChange[];
  state: ChannelStateTable | null;
  sealedAtMs: number;
  fragments: Fragment[];
  /** Set when the batch was rejected: the centre counts it and moves past its seq. */
  rejected: string | null;
  matchedAtMs: number;
  worker: string;
}

/** A batch or result that cannot be used; `reason` is a short label for metrics, the message says why. */
export class BatchRejected extends Error {
  constructor(
    readonly reason: 'oversized' | 'malformed' | 'unknown_channel' | 'version',
    message: string,
  ) {
    super(message);
    this.name = 'BatchRejected';
  }
}

export function toWirePeaks(peaks: readonly Peak[]): WirePeaks {
  const base = peaks.length > 0 ? peaks[0].t : 0;
  const shifted = peaks.map((p) => ({ t: p.t - base, f: p.f }));
  return { base, count: peaks.length, data: Buffer.from(encodePeaks(shifted)).toString('base64') };
}

export function fromWirePeaks(w: WirePeaks, where: string): Peak[] {
  let peaks: Peak[];
  try {
    peaks = decodePeaks(new Uint8Array(Buffer.from(w.data, 'base64')));
  } catch (err) {
    throw new BatchRejected('malformed', `${where}: ${(err as Error).message}`);
  }
  if (peaks.length !== w.count) {
    throw new BatchRejected('malformed', `${where}: ${peaks.length} peaks decoded, ${w.count} announced`);
  }
  return peaks.map((p) => ({ t: p.t + w.base, f: p.f }));
}

// --- validation ----------------------------------------------------------------------------------

const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TOKEN = /^[A-Za-z0-9_.-]{1,80}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

type Obj = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new BatchRejected('malformed', `${where}: ${what}`);
}

function obj(v: unknown, where: string): Obj {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(where, 'must be an object');
  return v as Obj;
}

function int(o: Obj, key: string, where: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail(where, `${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function num(o: Obj, key: string, where: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    fail(where, `${key} must be a number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Obj, key: string, where: string, pattern: RegExp): string {
  const v = o[key];
  if (typeof v !== 'string' || !pattern.test(v)) fail(where, `${key} is missing or not a valid id`);
  return v;
}

function bool(o: Obj, key: string, where: string): boolean {
  if (typeof o[key] !== 'boolean') fail(where, `${key} must be true or false`);
  return o[key] as boolean;
}

function wirePeaks(v: unknown, where: string, maxPeaks: number): WirePeaks {
  const o = obj(v, where);
  const count = int(o, 'count', where);
  if (count > maxPeaks) throw new BatchRejected('oversized', `${where}: ${count} peaks, at most ${maxPeaks}`);
  const data = o.data;
  if (typeof data !== 'string' || !BASE64.test(data)) fail(where, 'data must be base64');
  return { base: int(o, 'base', where), count, data };
}

function skips(v: unknown, where: string): SkipMark[] {
  if (!Array.isArray(v)) fail(where, 'skips must be a list');
  if (v.length > 10_000) throw new BatchRejected('oversized', `${where}: ${v.length} skips`);
  let prev = -1;
  return v.map((s, i) => {
    const o = obj(s, `${where} skip ${i + 1}`);
    const atUnits = int(o, 'atUnits', `${where} skip ${i + 1}`);
    if (atUnits < prev) fail(where, 'skips must be in time order');
    prev = atUnits;
    return { atUnits, sec: num(o, 'sec', `${where} skip ${i + 1}`) };
  });
}

const GAP_REASONS = new Set([
  'source_down',
  'silence',
  'discontinuity',
  'source_switch',
  'monitor_down',
  'monitor_stopped',
]);

function gapChanges(v: unknown, channelId: string, where: string): GapChange[] {
  if (!Array.isArray(v)) fail(where, 'gaps must be a list');
  if (v.length > 1000) throw new BatchRejected('oversized', `${where}: ${v.length} gap records`);
  return v.map((c, i) => {
    const at = `${where} gap ${i + 1}`;
    const o = obj(c, at);
    const type = o.type;
    if (type !== 'open' && type !== 'close' && type !== 'discard')
      fail(at, 'type must be open, close or discard');
    const g = obj(o.gap, at);
    if (g.channelId !== channelId) fail(at, `belongs to channel ${JSON.stringify(g.channelId)}`);
    if (typeof g.id !== 'string' || g.id.length > 200) fail(at, 'id must be a string');
    if (typeof g.reason !== 'string' || !GAP_REASONS.has(g.reason)) fail(at, 'unknown reason');
    const startMs = int(g, 'startMs', at);
    const endMs = g.endMs === null ? null : int(g, 'endMs', at);
    if (endMs !== null && endMs < startMs) fail(at, 'ends before it starts');
    const detail = g.detail === null || g.detail === undefined ? null : String(g.detail).slice(0, 500);
    return {
      type,
      gap: { id: g.id, channelId, startMs, endMs, reason: g.reason as GapChange['gap']['reason'], detail },
    } as GapChange;
  });
}

function stateRow(v: unknown, channelId: string, where: string): ChannelStateTable | null {
  if (v === null) return null;
  const o = obj(v, `${where} state`);
  if (o.channel_id !== channelId) fail(where, 'state belongs to another channel');
  const optInt = (k: string) => (o[k] === null ? null : int(o, k, `${where} state`));
  const optStr = (k: string) => (o[k] === null || o[k] === undefined ? null : String(o[k]).slice(0, 1000));
  if (typeof o.state !== 'string' || o.state.length > 40) fail(where, 'state.state must be a short string');
  return {
    channel_id: channelId,
    state: o.state,
    state_since_ms: int(o, 'state_since_ms', `${where} state`),
    last_audio_ms: optInt('last_audio_ms'),
    heartbeat_ms: int(o, 'heartbeat_ms', `${where} state`),
    first_started_ms: int(o, 'first_started_ms', `${where} state`),
    source_index: optInt('source_index'),
    source_url: optStr('source_url'),
    detail: optStr('detail'),
    cursor: optStr('cursor'),
  };
}

/** Size of a job's data as JSON, for the size limit. */
export function jsonBytes(data: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(data) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The channel id a payload claims, if it is a plausible one (for counting rejections). */
export function claimedChannel(data: unknown): string | null {
  const c = data && typeof data === 'object' ? (data as Obj).channelId : undefined;
  return typeof c === 'string' && CHANNEL_ID.test(c) ? c : null;
}

/** Checks a queued batch field by field; throws BatchRejected naming the problem. */
export function validateBatch(data: unknown, limits: { maxBytes: number; maxPeaks: number }): PeakBatch {
  const size = jsonBytes(data);
  if (size > limits.maxBytes) {
    throw new BatchRejected('oversized', `batch is ${size} bytes, the limit is ${limits.maxBytes}`);
  }
  const o = obj(data, 'batch');
  if (o.v !== WIRE_VERSION) {
    throw new BatchRejected(
      'version',
      `batch version ${JSON.stringify(o.v)}, this worker reads ${WIRE_VERSION}`,
    );
  }
  const channelId = str(o, 'channelId', 'batch', CHANNEL_ID);
  const where = `batch ${channelId}`;
  const seq = int(o, 'seq', where, 1);
  const at = `${where} #${seq}`;
  const fromUnits = int(o, 'fromUnits', at);
  const toUnits = int(o, 'toUnits', at);
  if (toUnits < fromUnits) fail(at, 'toUnits is before fromUnits');
  const epochMs = o.epochMs === null ? null : int(o, 'epochMs', at);
  const peaks = wirePeaks(o.peaks, `${at} peaks`, limits.maxPeaks);
  let context: BatchContext | null = null;
  if (o.context !== null) {
    const c = obj(o.context, `${at} context`);
    context = {
      fromUnits: int(c, 'fromUnits', `${at} context`),
      peaks: wirePeaks(c.peaks, `${at} context peaks`, limits.maxPeaks),
      skips: skips(c.skips, `${at} context`),
    };
    if (context.fromUnits > fromUnits) fail(at, 'context starts after the batch');
  }
  if (peaks.count + (context?.peaks.count ?? 0) > limits.maxPeaks) {
    throw new BatchRejected('oversized', `${at}: more than ${limits.maxPeaks} peaks`);
  }
  const holdsFrom = int(o, 'holdsFrom', at, 1);
  if (holdsFrom > seq) fail(at, `holdsFrom ${holdsFrom} is after the batch itself`);
  if ((peaks.count > 0 || (context?.peaks.count ?? 0) > 0) && epochMs === null)
    fail(at, 'peaks without epochMs');
  return {
    v: WIRE_VERSION,
    channelId,
    nodeId: str(o, 'nodeId', at, TOKEN),
    spoolId: str(o, 'spoolId', at, TOKEN),
    session: str(o, 'session', at, TOKEN),
    seq,
    holdsFrom,
    epochMs,
    fromUnits,
    toUnits,
    audioSec: num(o, 'audioSec', at),
    peaks,
    skips: skips(o.skips, at),
    context,
    end: bool(o, 'end', at),
    gaps: gapChanges(o.gaps, channelId, at),
    state: stateRow(o.state ?? null, channelId, at),
    sealedAtMs: int(o, 'sealedAtMs', at),
  };
}

/** Decodes a validated batch's peaks (context and own, merged in time order) and skips. */
export function batchPeaks(b: PeakBatch): { peaks: Peak[]; skips: SkipMark[] } {
  const own = fromWirePeaks(b.peaks, `batch ${b.channelId} #${b.seq} peaks`);
  const ctx = b.context ? fromWirePeaks(b.context.peaks, `batch ${b.channelId} #${b.seq} context`) : [];
  const peaks = ctx.concat(own).sort((x, y) => x.t - y.t || x.f - y.f);
  const marks = [...(b.context?.skips ?? []), ...b.skips].sort((x, y) => x.atUnits - y.atUnits);
  return { peaks, skips: marks };
}

const FRAGMENT_KEYS = ['startMs', 'endMs', 'refStartSec', 'refEndSec', 'speed', 'confidence'] as const;

/** Checks a matcher worker's result as the centre receives it. */
export function validateResult(data: unknown, maxBytes: number): BatchResult {
  const size = jsonBytes(data);
  if (size > maxBytes * 4) throw new BatchRejected('oversized', `result is ${size} bytes`);
  const o = obj(data, 'result');
  if (o.v !== WIRE_VERSION) throw new BatchRejected('version', `result version ${JSON.stringify(o.v)}`);
  const channelId = str(o, 'channelId', 'result', CHANNEL_ID);
  const seq = int(o, 'seq', `result ${channelId}`, 1);
  const at = `result ${channelId} #${seq}`;
  if (!Array.isArray(o.fragments)) fail(at, 'fragments must be a list');
  const fragments = o.fragments.map((f, i) => {
    const fo = obj(f, `${at} fragment ${i + 1}`);
    if (typeof fo.recordingId !== 'string' || fo.recordingId === '')
      fail(at, `fragment ${i + 1} has no recording`);
    const out: Record<string, unknown> = { recordingId: fo.recordingId };
    for (const k of FRAGMENT_KEYS) {
      if (typeof fo[k] !== 'number' || !Number.isFinite(fo[k]))
        fail(at, `fragment ${i + 1} ${k} is not a number`);
      out[k] = fo[k];
    }
    return out as unknown as Fragment;
  });
  const rejected = o.rejected === null ? null : String(o.rejected).slice(0, 500);
  return {
    v: WIRE_VERSION,
    channelId,
    nodeId: str(o, 'nodeId', at, TOKEN),
    spoolId: str(o, 'spoolId', at, TOKEN),
    session: str(o, 'session', at, TOKEN),
    seq,
    holdsFrom: int(o, 'holdsFrom', at, 1),
    epochMs: o.epochMs === null ? null : int(o, 'epochMs', at),
    fromUnits: int(o, 'fromUnits', at),
    toUnits: int(o, 'toUnits', at),
    audioSec: num(o, 'audioSec', at),
    skips: skips(o.skips, at),
    end: bool(o, 'end', at),
    gaps: gapChanges(o.gaps, channelId, at),
    state: stateRow(o.state ?? null, channelId, at),
    sealedAtMs: int(o, 'sealedAtMs', at),
    fragments,
    rejected,
    matchedAtMs: int(o, 'matchedAtMs', at),
    worker: typeof o.worker === 'string' ? o.worker.slice(0, 100) : '?',
  };
}

/** The BullMQ job id of a batch and of its result: the idempotency key (":" is not allowed in ids). */
export function batchJobId(b: Pick<PeakBatch, 'channelId' | 'spoolId' | 'seq'>): string {
  return `${b.channelId}.${b.spoolId}.${b.seq}`;
}
