import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import pino, { type Logger } from 'pino';
import { probeAudio } from '../audio/index.js';
import { FRAMES_PER_SEC, MATCH, ROTATION } from '../fingerprint/index.js';
import type { Detection } from '../match/types.js';
import { seededRandom, type Random } from './backoff.js';
import { startCapture, type CaptureExit, type CaptureOptions, type CaptureSession } from './capture.js';
import { ConnectionClock, Timeline } from './clock.js';
import type { MonitorConfig } from './config.js';
import { EvidenceRecorder } from './evidence.js';
import { SourceSelector } from './failover.js';
import { GapTracker, type GapChange } from './gaps.js';
import { loggerFileStartMs } from './health.js';
import { startHlsCapture, type Anchoring } from './hls.js';
import type { MonitorMetrics } from './metrics.js';
import type { MonitorRepository } from './repository.js';
import { SilenceDetector, type SilenceEvent } from './silence.js';
import { isRecordedSource } from './source.js';
import { DetectionStitcher, type UtcDetection } from './stitch.js';
import type {
  AiredDetection,
  Channel,
  ChannelHealth,
  ChannelSource,
  ChannelState,
  GapReason,
  PendingDetection,
} from './types.js';

/** The recognition core's streaming matcher, as the runner uses it (src/match StreamMatcher). */
export interface StreamMatcherLike {
  push(pcm: Float32Array): Detection[];
  skip(seconds: number): Detection[];
  flush(): Detection[];
  openDetections(): Detection[];
  /** A recording the channel aired before this run (its rotation, Matching step 7); optional. */
  remember?(recordingId: string, speed: number, agoSec: number): boolean;
}

/** How far back a restart looks for the rotation: its horizon. */
const ROTATION_HORIZON_MS = (ROTATION.horizonFrames / FRAMES_PER_SEC) * 1000;

export interface RunnerOptions {
  channel: Channel;
  config: MonitorConfig;
  repo: MonitorRepository;
  /** The channel's own matcher; null runs capture, gaps, evidence buffer and health without detection. */
  matcher: StreamMatcherLike | null;
  /** Folder of evidence clips; null keeps no air-check. */
  evidenceDir: string | null;
  /** The monitor's clock, UTC ms (Date.now in production; a scaled clock for faster-than-real-time tests). */
  now?: () => number;
  /**
   * How many times faster than the wall clock `now` runs (1 in production; k in tests whose servers
   * air k times faster). HLS durations are wall seconds there, while #EXT-X-PROGRAM-DATE-TIME is on `now`.
   */
  timeScale?: number;
  log?: Logger;
  metrics?: MonitorMetrics | null;
  random?: Random;
  /** Called with every detection once it is stored. */
  onDetection?: (det: AiredDetection, evidencePath: string | null) => void;
}

/** One connection's audio bookkeeping. */
interface Connection {
  sourceIndex: number;
  clock: ConnectionClock;
  settled: boolean;
  /**
   * The anchor the connection's audio is placed (and its evidence stamped) with: the clock's anchor
   * when the connection settled, moved later with the clock's drift corrections, and earlier, with
   * the whole connection re-timed, when the clock finds it was too late (see `placedUtc`).
   */
  placedAnchorMs: number | null;
  /** Its first audio is on the timeline (as a piece of its own). */
  onTimeline: boolean;
  /** PCM held while the anchor settles. */
  held: Float32Array[];
  heldEvidence: Buffer[];
  /**
   * An HLS run anchored to its PDT: the least delay (monitor clock) between a chunk's airing, by
   * that anchor, and its arrival; the delivery latency the PDT took out (null for other connections).
   */
  pdtLatencyMs: number | null;
}

/**
 * A channel's monitor: capture -> clock -> silence -> matcher -> stitcher -> store (+ evidence).
 * Every decision is in the pure parts (clock, gaps, silence, stitcher, failover); this class strings
 * them to ffmpeg, the store and timers. See docs/monitoring.md.
 */
export class ChannelRunner {
  readonly channel: Channel;
  private readonly cfg: MonitorConfig;
  private readonly repo: MonitorRepository;
  private readonly matcher: StreamMatcherLike | null;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly metrics: MonitorMetrics | null;
  private readonly rate: number;
  private readonly selector: SourceSelector;
  private readonly timeline: Timeline;
  private readonly gaps: GapTracker;
  private readonly silence: SilenceDetector;
  private readonly stitcher: DetectionStitcher;
  private readonly evidence: EvidenceRecorder | null;

  private state: ChannelState = 'starting';
  private stateSinceMs: number;
  private detail: string | null = null;
  private sourceIndex: number | null = null;
  private firstStartedMs: number;
  private lastAudioMs: number | null = null;
  private cursor: string | null = null;

  private stopping = false;
  private stopReasonGap: GapReason = 'monitor_stopped';
  private session: CaptureSession | null = null;
  private probe: CaptureSession | null = null;
  private switchTo: number | null = null;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private sinceOpenRefreshSec = 0;
  /** What was last written to open_detections (null: not written by this run yet). */
  private savedPending: string | null = null;
  /** Store writes, in order; a failing write is retried rather than skipped. */
  private io: Promise<void> = Promise.resolve();
  private ioFailures = 0;

  constructor(private readonly opts: RunnerOptions) {
    this.channel = opts.channel;
    this.cfg = opts.config;
    this.repo = opts.repo;
    this.matcher = opts.matcher;
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ channel: opts.channel.id });
    this.metrics = opts.metrics ?? null;
    this.rate = this.cfg.analysisSampleRate;
    this.selector = new SourceSelector(
      this.channel.sources.length,
      this.cfg,
      opts.random ?? seededRandom(Date.now()),
    );
    this.timeline = new Timeline(this.rate, this.cfg.discontinuityToleranceMs);
    this.gaps = new GapTracker(this.channel.id, this.cfg.minGapMs);
    this.silence = new SilenceDetector(this.rate, this.cfg);
    this.stitcher = new DetectionStitcher(this.channel.id, this.cfg);
    this.evidence =
      opts.evidenceDir === null
        ? null
        : new EvidenceRecorder(
            opts.evidenceDir,
            this.channel.id,
            this.cfg.evidenceMarginSec * 1000,
            this.cfg.evidenceRingSec * 1000,
            (err) => this.log.error({ err }, 'evidence write failed'),
          );
    this.stateSinceMs = this.now();
    this.firstStartedMs = this.stateSinceMs;
  }

  /** Starts monitoring; the promise settles when the runner has stopped (after stop(), or a file source's end). */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Graceful stop: ends capture, closes what can be closed, records the gap, persists the rest. */
  async stop(reason: GapReason = 'monitor_stopped'): Promise<void> {
    this.stopReasonGap = reason;
    this.stopping = true;
    this.wake?.();
    void this.session?.stop();
    void this.probe?.stop();
    await this.running;
  }

  health(): ChannelHealth {
    const current = this.stitcher
      .pending()
      .filter((p) => p.state === 'open')
      .map((p) => p.recordingId);
    return {
      channelId: this.channel.id,
      state: this.state,
      stateSinceMs: this.stateSinceMs,
      lastAudioMs: this.lastAudioMs,
      sourceIndex: this.sourceIndex,
      sourceUrl: this.sourceIndex === null ? null : this.channel.sources[this.sourceIndex].url,
      detail: this.detail,
      currentRecordings: [...new Set(current)],
    };
  }

  /** Resolves when every store write queued so far is done. */
  async drained(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.io;
      await seen;
    } while (seen !== this.io);
  }

  // --- main loop -----------------------------------------------------------------------------------

  private async run(): Promise<void> {
    await this.restore();
    this.heartbeat = setInterval(() => this.persistState(), this.cfg.heartbeatEveryMs);
    this.heartbeat.unref();
    try {
      if (isRecordedSource(this.channel.sources[0])) await this.runRecorded(this.channel.sources[0]);
      else await this.runLive();
    } catch (err) {
      this.log.error({ err }, 'runner failed');
      this.setState('failed', (err as Error).message);
    } finally {
      clearInterval(this.heartbeat);
      await this.shutdown();
    }
  }

  private async runLive(): Promise<void> {
    while (!this.stopping) {
      const pick = this.selector.pick(Date.now());
      if (pick.waitMs > 0) {
        const failing = this.selector.allFailing(this.cfg.failedAfterAttempts);
        this.setState(failing ? 'failed' : 'reconnecting', this.detail);
        await this.sleep(pick.waitMs);
        if (this.stopping) break;
      }
      const exit = await this.connect(pick.index, null);
      this.afterConnection(pick.index, exit);
    }
  }

  /** A file, or a folder of logger files played in name order and then watched for new ones. */
  private async runRecorded(source: ChannelSource): Promise<void> {
    if (source.kind === 'file') {
      const exit = await this.connect(0, source.url);
      if (exit.reason !== 'ended' && exit.reason !== 'stopped') {
        this.setState('failed', exit.message);
        return;
      }
      if (!this.stopping) this.endOfStream();
      if (!this.stopping) this.setState('finished', `${basename(source.url)} played to its end`);
      return;
    }
    while (!this.stopping) {
      const next = this.nextLoggerFile(source.url);
      if (next === 'unreadable') {
        await this.sleep(5000);
        continue;
      }
      if (next === null) {
        this.setState('listening', 'waiting for new logger files');
        await this.sleep(5000);
        continue;
      }
      let exit: CaptureExit;
      try {
        exit = await this.connect(0, next);
      } catch (err) {
        // one unreadable logger file must not stop the folder
        this.log.warn({ file: next, err }, 'logger file skipped');
        this.detail = `${basename(next)} skipped: ${(err as Error).message}`;
        this.cursor = basename(next);
        continue;
      }
      if (exit.reason === 'stopped') break;
      if (exit.reason !== 'ended') this.log.warn({ file: next, why: exit.message }, 'logger file failed');
      this.cursor = basename(next);
      this.persistState();
    }
  }

  private nextLoggerFile(dir: string): string | null | 'unreadable' {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      this.setState('failed', `cannot read folder ${dir}: ${(err as Error).message}`);
      return 'unreadable';
    }
    for (const name of names) {
      if (this.cursor !== null && name <= this.cursor) continue;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      // a file still being written (changed in the last few seconds) waits for the next look
      if (!st?.isFile() || Date.now() - st.mtimeMs < 5000) continue;
      return p;
    }
    return null;
  }

  /** Runs one ffmpeg on source `index` (or on `file`) until it ends; returns why it ended. */
  private async connect(index: number, file: string | null): Promise<CaptureExit> {
    const source: ChannelSource = file === null ? this.channel.sources[index] : { kind: 'file', url: file };
    this.sourceIndex = index;
    this.setState('connecting', source.url);
    let fixedAnchor: number | null = null;
    if (file !== null) fixedAnchor = await this.fileStartMs(file);
    // the audio of an HLS connection anchored to its PDT comes in runs, each a connection of its own
    // to the clock and the timeline (a fresh anchor, a new piece): see hls.ts
    let conn = this.newConnection(index, fixedAnchor);
    const captureOpts: CaptureOptions = {
      source,
      sampleRate: this.rate,
      evidence: this.evidence
        ? { sampleRate: this.cfg.evidenceSampleRate, bitrateKbps: this.cfg.evidenceBitrateKbps }
        : null,
      connectTimeoutMs: this.cfg.connectTimeoutMs,
      stallTimeoutMs: this.cfg.stallTimeoutMs,
      killGraceMs: this.cfg.killGraceMs,
      ioTimeoutMs: this.cfg.ioTimeoutMs,
      onPcm: (pcm) => this.onPcm(conn, pcm),
      onEvidence: (bytes) => this.onEvidence(conn, bytes),
      onStderrLine: (line) => {
        this.metrics?.decodeErrors.inc({ channel: this.channel.id });
        this.log.debug({ ffmpeg: line }, 'ffmpeg');
      },
    };
    if (file !== null) this.anchoring('file', source, basename(file));
    else if (source.kind !== 'hls') this.anchoring('arrival', source, `a ${source.kind} source`);
    this.session =
      source.kind === 'hls' && file === null
        ? startHlsCapture({
            ...captureOpts,
            toleranceMs: this.cfg.discontinuityToleranceMs,
            timeScale: this.opts.timeScale,
            onAnchoring: (anchoring, detail) => this.anchoring(anchoring, source, detail),
            onRun: (run) => {
              if (!conn.settled && conn.clock.samples > 0) this.settle(conn);
              conn = this.newConnection(index, run.anchorMs, run.anchorMs !== null);
              this.log.info(
                {
                  sequence: run.sequence,
                  anchor: run.anchorMs === null ? null : new Date(run.anchorMs).toISOString(),
                  why: run.why,
                },
                run.anchorMs === null
                  ? 'HLS run without program date-time: anchored by arrival'
                  : 'HLS run anchored to its program date-time',
              );
            },
          })
        : startCapture(captureOpts);
    if (this.stopping) void this.session.stop();
    const probeTimer = file === null && index > 0 ? setInterval(() => this.maybeProbe(index), 1000) : null;
    const exit = await this.session.exited;
    if (probeTimer) clearInterval(probeTimer);
    this.session = null;
    if (!conn.settled) this.settle(conn);
    this.evidence?.flushFinal();
    this.metrics?.captureRestarts.inc({ channel: this.channel.id, reason: exit.reason });
    const heardSec = exit.pcmSamples / this.rate;
    this.log.info({ source: source.url, reason: exit.reason, heardSec, why: exit.message }, 'capture ended');
    if (exit.forcedKill) this.log.warn({ source: source.url }, 'ffmpeg ignored SIGTERM and was killed');
    if (!this.stopping && file === null)
      this.audioStopped(this.switchTo !== null ? 'source_switch' : 'source_down', exit.message);
    return exit;
  }

  /** A connection's (or an HLS run's) bookkeeping; `fixedAnchor`: the UTC of its first sample when known. */
  private newConnection(sourceIndex: number, fixedAnchor: number | null, pdt = false): Connection {
    this.evidence?.newConnection();
    const latencyMs = fixedAnchor === null ? this.channel.latencySec * 1000 : 0;
    return {
      sourceIndex,
      clock: new ConnectionClock(this.rate, this.cfg, fixedAnchor, latencyMs),
      settled: fixedAnchor !== null,
      placedAnchorMs: fixedAnchor,
      onTimeline: false,
      held: [],
      heldEvidence: [],
      pdtLatencyMs: pdt ? Number.POSITIVE_INFINITY : null,
    };
  }

  /** Says how the connection is put on UTC: a pino line at connect, and the anchoring gauge. */
  private anchoring(anchoring: Anchoring, source: ChannelSource, detail: string): void {
    this.metrics?.setAnchoring(this.channel.id, anchoring);
    const latencySec = anchoring === 'arrival' ? this.channel.latencySec : 0;
    this.log.info({ source: source.url, anchoring, latencySec, detail }, 'clock anchoring');
  }

  private afterConnection(index: number, exit: CaptureExit): void {
    if (this.switchTo !== null) {
      this.switchTo = null;
      return;
    }
    if (exit.reason === 'stopped') return;
    const healthy = exit.pcmSamples >= this.cfg.healthyAfterSec * this.rate;
    if (healthy) this.selector.healthy(index);
    const delay = this.selector.failed(index, Date.now());
    this.detail = exit.message;
    this.log.warn(
      { source: this.channel.sources[index].url, retryInMs: delay, why: exit.message },
      'source down',
    );
  }

  /** While on a fallback, try a preferred source whose retry time has come; switch back if it delivers audio. */
  private maybeProbe(current: number): void {
    if (this.probe || this.stopping) return;
    const candidate = this.selector.recoveryCandidate(current, Date.now());
    if (candidate === null) return;
    let samples = 0;
    const need = this.cfg.recoveryProbeSec * this.rate;
    const source = this.channel.sources[candidate];
    const probe = (source.kind === 'hls' ? startHlsCapture : startCapture)({
      toleranceMs: this.cfg.discontinuityToleranceMs,
      timeScale: this.opts.timeScale,
      source,
      sampleRate: this.rate,
      evidence: null,
      connectTimeoutMs: this.cfg.connectTimeoutMs,
      stallTimeoutMs: this.cfg.stallTimeoutMs,
      killGraceMs: this.cfg.killGraceMs,
      ioTimeoutMs: this.cfg.ioTimeoutMs,
      onPcm: (pcm) => {
        samples += pcm.length;
        if (samples >= need) void probe.stop();
      },
    });
    this.probe = probe;
    void probe.exited.then((exit) => {
      this.probe = null;
      if (samples >= need && !this.stopping) {
        this.log.info({ source: this.channel.sources[candidate].url }, 'preferred source is back: switching');
        this.selector.healthy(candidate);
        this.switchTo = candidate;
        void this.session?.stop();
      } else {
        this.selector.failed(candidate, Date.now());
        this.log.debug(
          { source: this.channel.sources[candidate].url, why: exit.message },
          'recovery probe failed',
        );
      }
    });
  }

  // --- audio path ----------------------------------------------------------------------------------

  private onPcm(conn: Connection, pcm: Float32Array): void {
    const index = conn.clock.samples;
    const arrivalMs = this.now();
    conn.clock.onChunk(pcm.length, arrivalMs);
    if (conn.pdtLatencyMs !== null) this.pdtLatency(conn, arrivalMs);
    if (!conn.settled) {
      conn.held.push(pcm);
      const heldSec = conn.held.reduce((s, c) => s + c.length, 0) / this.rate;
      if (conn.clock.elapsedMs(this.now()) >= this.cfg.anchorSettleSec * 1000 || heldSec > 120)
        this.settle(conn);
      return;
    }
    this.process(conn, pcm, this.placedUtc(conn, index));
  }

  /**
   * How late a PDT run's audio arrives after it aired: the latency its PDT takes out of the times
   * (a gauge). Audio cannot arrive before it aired: a PDT ahead of the monitor's clock is a wrong
   * clock at the packager (or here), and is said so once per run.
   */
  private pdtLatency(conn: Connection, arrivalMs: number): void {
    const lagMs = arrivalMs - conn.clock.timeOfSample(conn.clock.samples);
    const before = conn.pdtLatencyMs!;
    if (lagMs >= before) return;
    conn.pdtLatencyMs = lagMs;
    this.metrics?.pdtLatency.set({ channel: this.channel.id }, lagMs / 1000);
    const tolerance = -this.cfg.discontinuityToleranceMs;
    if (lagMs < tolerance && before >= tolerance) {
      this.log.warn(
        { aheadSec: Math.round(-lagMs) / 1000 },
        "HLS program date-time is ahead of the monitor's clock: audio cannot arrive before it aired; check the packager's clock (and this one's)",
      );
    }
  }

  /** The anchor has settled: place the held audio with it, then the held evidence. */
  private settle(conn: Connection): void {
    conn.settled = true;
    conn.placedAnchorMs ??= conn.clock.anchorMs;
    let index = 0;
    for (const pcm of conn.held) {
      this.process(conn, pcm, conn.placedAnchorMs + (index * 1000) / this.rate);
      index += pcm.length;
    }
    conn.held = [];
    for (const bytes of conn.heldEvidence) this.onEvidence(conn, bytes);
    conn.heldEvidence = [];
  }

  /**
   * UTC of sample `index` of a settled connection. The clock's anchor only ever moves later (drift
   * correction: the timeline then skips) or earlier (a chunk arrived sooner than any before it: the
   * first audio was late, typical of HLS, whose segments come in bursts, and of a loaded machine).
   * Earlier means the audio already placed was timed too late as well: the connection's piece of the
   * timeline is re-timed as a whole, so nothing heard is dropped and an airing is not cut in two.
   * Only what cannot be re-timed (it would overlap audio heard before the connection) and exceeds the
   * discontinuity tolerance is left to the timeline to trim, as audio heard twice.
   */
  private placedUtc(conn: Connection, index: number): number {
    const anchor = conn.clock.anchorMs;
    if (conn.placedAnchorMs === null || anchor > conn.placedAnchorMs) {
      conn.placedAnchorMs = anchor;
    } else if (conn.onTimeline && conn.placedAnchorMs - anchor >= this.cfg.anchorRetimeMs) {
      this.retime(conn, anchor - conn.placedAnchorMs);
      if (conn.placedAnchorMs - anchor > this.cfg.discontinuityToleranceMs) conn.placedAnchorMs = anchor;
    }
    return conn.placedAnchorMs + (index * 1000) / this.rate;
  }

  /** Moves the connection's audio `deltaMs` earlier on the timeline, and what was timed with it. */
  private retime(conn: Connection, deltaMs: number): void {
    const { appliedMs, fromMs } = this.timeline.retime(deltaMs);
    if (appliedMs === 0) return;
    conn.placedAnchorMs! += appliedMs;
    this.evidence?.shift(fromMs, appliedMs);
    this.silence.shift(fromMs, appliedMs);
    this.stitcher.shift(fromMs, appliedMs);
    if (this.lastAudioMs !== null && this.lastAudioMs >= fromMs) this.lastAudioMs += appliedMs;
    this.metrics?.retimedSeconds.inc({ channel: this.channel.id }, -appliedMs / 1000);
    this.log.info(
      { shiftMs: Math.round(appliedMs), wantedMs: Math.round(deltaMs), from: new Date(fromMs).toISOString() },
      'connection re-timed: its first audio had arrived late',
    );
  }

  private onEvidence(conn: Connection, bytes: Buffer): void {
    if (!this.evidence) return;
    if (!conn.settled || conn.placedAnchorMs === null) {
      conn.heldEvidence.push(bytes);
      return;
    }
    this.evidence.onBytes(bytes, (i, rate) => conn.placedAnchorMs! + (i * 1000) / rate);
  }

  /** UTC of matcher time 0 on the timeline's current piece (null before any audio). */
  get timelineEpochMs(): number | null {
    return this.timeline.epochMs;
  }

  /** One chunk of placed audio through the pipeline. */
  private process(conn: Connection, pcm: Float32Array, utcStartMs: number): void {
    const prevEnd = this.timeline.endMs;
    const placement = this.timeline.place(utcStartMs, pcm.length, !conn.onTimeline);
    conn.onTimeline = true;
    const gapChanges: GapChange[] = [];
    if (placement.skipSec > 0 && prevEnd !== null) {
      this.metrics?.discontinuities.inc({ channel: this.channel.id, direction: 'forward' });
      this.stitcher.discontinuity(prevEnd, utcStartMs);
      for (const e of this.silence.interrupt(prevEnd)) gapChanges.push(...this.onSilence(e));
      if (this.gaps.open) gapChanges.push(...this.gaps.end(utcStartMs));
      else
        gapChanges.push(
          ...this.gaps.record(prevEnd, utcStartMs, 'discontinuity', 'samples missing in the stream'),
        );
      this.log.info({ fromMs: prevEnd, toMs: utcStartMs, skipSec: placement.skipSec }, 'discontinuity');
      if (this.matcher) this.onClosed(this.matcher.skip(placement.skipSec));
    } else if (this.gaps.open && (this.gaps.open.reason !== 'silence' || prevEnd === null)) {
      // audio is back (or this run's first audio ends the gap a previous run left open)
      gapChanges.push(...this.gaps.end(utcStartMs));
    }
    let chunk = pcm;
    let start = utcStartMs;
    if (placement.trimSamples > 0) {
      this.metrics?.discontinuities.inc({ channel: this.channel.id, direction: 'backward' });
      this.log.info(
        { atMs: utcStartMs, trimmedSec: placement.trimSamples / this.rate },
        'discontinuity: audio heard already, trimmed',
      );
      chunk = pcm.subarray(placement.trimSamples);
      start += (placement.trimSamples * 1000) / this.rate;
    }
    if (chunk.length > 0) {
      for (const e of this.silence.push(chunk, start)) gapChanges.push(...this.onSilence(e));
      if (this.matcher) this.onClosed(this.matcher.push(chunk));
      const sec = chunk.length / this.rate;
      this.lastAudioMs = start + sec * 1000;
      this.stitcher.heard(sec * 1000);
      this.metrics?.audioSeconds.inc({ channel: this.channel.id }, sec);
      if (this.state !== 'listening' && this.state !== 'silent') this.setState('listening', null);
      this.sinceOpenRefreshSec += sec;
      if (this.sinceOpenRefreshSec >= this.cfg.openPersistEverySec) this.refreshPending();
      else this.writeFinals();
    }
    if (gapChanges.length > 0) this.saveGaps(gapChanges);
  }

  private onSilence(e: SilenceEvent): GapChange[] {
    if (e.type === 'silence-start') {
      this.setState('silent', 'dead air');
      return this.gaps.begin(e.atMs, 'silence', `below ${this.cfg.silenceThresholdDb} dBFS`);
    }
    if (this.state === 'silent') this.setState('listening', null);
    return this.gaps.open?.reason === 'silence' ? this.gaps.end(e.atMs) : [];
  }

  /** Audio stopped (connection lost, source switch): open a gap from the last sample heard. */
  private audioStopped(reason: GapReason, detail: string | null): void {
    const at = this.timeline.endMs ?? this.lastAudioMs ?? this.now();
    const changes: GapChange[] = [];
    for (const e of this.silence.interrupt(at)) changes.push(...this.onSilence(e));
    changes.push(...this.gaps.begin(at, reason, detail));
    this.stitcher.discontinuity(at, Number.POSITIVE_INFINITY);
    if (changes.length > 0) this.saveGaps(changes);
  }

  /** A recorded source ended: the matcher closes everything. */
  private endOfStream(): void {
    if (!this.matcher) return;
    this.onClosed(this.matcher.flush());
    this.refreshPending();
  }

  private toUtc(d: Detection): UtcDetection {
    return {
      recordingId: d.recording,
      startMs: this.timeline.utcAt(d.start),
      endMs: this.timeline.utcAt(d.end),
      refStartSec: d.refStart,
      refEndSec: d.refEnd,
      speed: d.speed,
      confidence: d.confidence,
    };
  }

  private onClosed(closed: Detection[]): void {
    if (closed.length === 0) return;
    for (const d of closed) this.stitcher.closed(this.toUtc(d));
    this.refreshPending();
  }

  /** Re-reads the matcher's open detections, persists the pending set and writes what became final. */
  private refreshPending(): void {
    this.sinceOpenRefreshSec = 0;
    if (this.matcher && this.timeline.started)
      this.stitcher.setOpen(this.matcher.openDetections().map((d) => this.toUtc(d)));
    this.writeFinals();
    const pending = this.stitcher.pending();
    this.evidence?.track(pending);
    // an unchanged set (most often: nothing airing) needs no write
    const signature = pending.map((p) => `${p.id}:${p.state}:${Math.round(p.endMs)}`).join(',');
    if (signature === this.savedPending) return;
    this.savedPending = signature;
    this.enqueue('save pending', () => this.repo.savePending(this.channel.id, pending, this.now()));
  }

  private writeFinals(): void {
    for (const det of this.stitcher.takeFinal()) {
      const ev = this.evidence?.finalize(det) ?? null;
      this.enqueue('write detection', async () => {
        const id = await this.repo.writeFinal(det, ev, this.cfg.duplicateToleranceMs, this.now());
        this.metrics?.detections.inc({ channel: this.channel.id });
        this.log.info(
          {
            detection: id,
            recording: det.recordingId,
            start: new Date(det.startMs).toISOString(),
            durationSec: Math.round((det.endMs - det.startMs) / 100) / 10,
            confidence: det.confidence,
          },
          'detection',
        );
        this.opts.onDetection?.({ ...det, id }, ev?.path ?? null);
      });
    }
  }

  private saveGaps(changes: GapChange[]): void {
    for (const c of changes) {
      if (c.type === 'close') {
        this.metrics?.gaps.inc({ channel: this.channel.id, reason: c.gap.reason });
        this.log.info(
          {
            gap: c.gap.reason,
            from: new Date(c.gap.startMs).toISOString(),
            sec: (c.gap.endMs! - c.gap.startMs) / 1000,
          },
          'monitoring gap',
        );
      }
    }
    this.enqueue('save gaps', () => this.repo.applyGapChanges(changes, this.now()));
  }

  // --- start-up, shutdown, state ---------------------------------------------------------------------

  /** Picks up where the previous run left off: its open gap (or the downtime) and its pending detections. */
  private async restore(): Promise<void> {
    const [state, openGap, pending] = await Promise.all([
      this.repo.state(this.channel.id),
      this.repo.openGap(this.channel.id),
      this.repo.pending(this.channel.id),
    ]);
    if (state) {
      this.firstStartedMs = state.first_started_ms;
      this.cursor = state.cursor;
      this.lastAudioMs = state.last_audio_ms;
    }
    if (openGap) {
      this.gaps.restore(openGap);
    } else if (state?.last_audio_ms != null) {
      const changes = this.gaps.begin(state.last_audio_ms, 'monitor_down', 'the monitor was not running');
      await this.repo.applyGapChanges(changes, this.now());
    }
    if (pending.length > 0) {
      this.log.info({ pending: pending.length }, 'resuming pending detections from the previous run');
      this.stitcher.restore(pending);
      this.evidence?.resume(pending);
    }
    await this.restoreRotation();
    this.setState('starting', null);
    await this.repo.saveState(this.stateRow());
  }

  /**
   * The recordings the channel aired in the rotation's horizon (6 h) go back into its matcher's
   * rotation, oldest first, as if the monitor had never stopped: a restart would otherwise forget
   * what lets it find the station's beds and jingles under a voice (docs/monitoring.md).
   */
  private async restoreRotation(): Promise<void> {
    const matcher = this.matcher;
    if (!matcher?.remember) return;
    const now = this.now();
    const aired = await this.repo.detections(this.channel.id, now - ROTATION_HORIZON_MS, now);
    let remembered = 0;
    for (const d of aired) {
      if (d.confidence < MATCH.minConfidence) continue;
      if (matcher.remember(d.recordingId, d.speed, (now - d.endMs) / 1000)) remembered++;
    }
    if (remembered > 0)
      this.log.info({ remembered }, 'rotation restored from the recent detections of the channel');
  }

  private async shutdown(): Promise<void> {
    if (this.stopping && !isRecordedSourceFinished(this.state)) {
      const at = this.timeline.endMs ?? this.lastAudioMs;
      if (at !== null) {
        this.stitcher.discontinuity(at, Number.POSITIVE_INFINITY);
        this.audioStopped(this.stopReasonGap, 'the monitor was stopped');
      }
      if (this.matcher && this.timeline.started) {
        // what the matcher can close it closes; what touches the stop is held for the next run
        for (const d of this.matcher.flush()) this.stitcher.closed(this.toUtc(d));
        this.stitcher.setOpen([]);
        this.refreshPending();
      }
      this.setState('stopped', null);
    }
    this.evidence?.close();
    this.persistState();
    await this.drained();
  }

  private setState(state: ChannelState, detail: string | null): void {
    if (state !== this.state) {
      this.state = state;
      this.stateSinceMs = this.now();
      this.metrics?.setState(this.channel.id, state);
      this.log.info({ state, detail }, 'state');
    }
    this.detail = detail;
  }

  private stateRow() {
    return {
      channel_id: this.channel.id,
      state: this.state,
      state_since_ms: Math.round(this.stateSinceMs),
      last_audio_ms: this.lastAudioMs === null ? null : Math.round(this.lastAudioMs),
      heartbeat_ms: Math.round(this.now()),
      first_started_ms: Math.round(this.firstStartedMs),
      source_index: this.sourceIndex,
      source_url: this.sourceIndex === null ? null : this.channel.sources[this.sourceIndex].url,
      detail: this.detail,
      cursor: this.cursor,
    };
  }

  private persistState(): void {
    if (this.lastAudioMs !== null)
      this.metrics?.lastAudio.set({ channel: this.channel.id }, this.lastAudioMs / 1000);
    const row = this.stateRow();
    this.enqueue('save state', () => this.repo.saveState(row));
  }

  private enqueue(what: string, op: () => Promise<void>): void {
    const attempt = async (): Promise<void> => {
      for (;;) {
        try {
          await op();
          return;
        } catch (err) {
          this.ioFailures++;
          this.log.error({ err, what }, 'store write failed; retrying');
          await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * this.ioFailures)));
        }
      }
    };
    this.io = this.io.then(attempt);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async fileStartMs(path: string): Promise<number> {
    if (!statSync(path, { throwIfNoEntry: false })?.isFile()) throw new Error(`${path}: no such file`);
    const fromName = loggerFileStartMs(basename(path), this.channel.timeZone);
    if (fromName !== null) return fromName;
    // no time in the name: the file ended when it was last written
    const st = statSync(path);
    const info = await probeAudio(path);
    return st.mtimeMs - (info.durationSec ?? 0) * 1000;
  }
}

function isRecordedSourceFinished(state: ChannelState): boolean {
  return state === 'finished';
}

export type { PendingDetection };
