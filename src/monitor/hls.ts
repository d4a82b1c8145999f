import {
  startCapture,
  type CaptureEndReason,
  type CaptureExit,
  type CaptureOptions,
  type CaptureSession,
} from './capture.js';
import {
  advanceRun,
  continuesRun,
  runFrom,
  parsePlaylist,
  type MediaPlaylist,
  type MediaSegment,
  type RunPosition,
} from './playlist.js';

/** How a connection's audio is put on UTC: see docs/monitoring.md, "Clock". */
export type Anchoring = 'program_date_time' | 'arrival' | 'file';

export interface HlsCaptureOptions extends CaptureOptions {
  /**
   * Called before the first PCM of each run of contiguous segments, with the UTC at which its first
   * sample aired (the first segment's PDT), or null when that segment has none (arrival anchoring).
   * Never called when the playlist carries no PDT: ffmpeg then reads the HLS itself, as it always did
   * (called once more with null if the first run's ffmpeg cannot decode the segments and ffmpeg's own
   * HLS demuxer takes over the connection).
   */
  onRun?: (run: { anchorMs: number | null; sequence: number; why: string }) => void;
  /** Called once it is known how the connection is anchored, with why. */
  onAnchoring?: (anchoring: Exclude<Anchoring, 'file'>, detail: string) => void;
  /** A segment whose PDT differs by more than this from the previous one's plus its duration starts a new run. */
  toleranceMs: number;
  /** Milliseconds of PDT per playlist millisecond: 1, except in tests serving a playlist k times faster. */
  timeScale?: number;
}

/**
 * An HLS capture anchored to `#EXT-X-PROGRAM-DATE-TIME`. ffmpeg's HLS demuxer does not say which
 * segment its first sample came from, so when the media playlist carries PDT the monitor follows the
 * playlist itself: it starts at the live edge, downloads each new segment in order and writes its
 * bytes to an ffmpeg reading stdin. The first sample of such a run aired at its first segment's PDT;
 * sample counts give the rest. A discontinuity (the tag, missed segments, a PDT that jumps against
 * the previous segment's PDT and duration) ends the run's ffmpeg once it has decoded everything and
 * starts the next run with a fresh anchor (playlist.ts decides). Without PDT (or with encryption or byte ranges), ffmpeg reads the HLS itself, exactly
 * as before, and the connection is anchored by arrival.
 */
export function startHlsCapture(opts: HlsCaptureOptions): CaptureSession {
  let current: CaptureSession | null = null;
  let stopReason: CaptureEndReason | null = null;
  const abort = new AbortController();
  let wake: (() => void) | null = null;
  const totals = { pcmSamples: 0, stderrLines: 0, forcedKill: false };
  const headers = { 'user-agent': 'Tyndau-monitor' };

  const fetchOk = async (url: string): Promise<Response> => {
    const res = await fetch(url, {
      headers,
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(opts.ioTimeoutMs)]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status} for ${url}`);
    }
    return res;
  };
  /** The media playlist at `url` (following a master playlist to its first variant). */
  const loadMedia = async (url: string): Promise<{ url: string; playlist: MediaPlaylist }> => {
    for (let hops = 0; hops < 2; hops++) {
      const res = await fetchOk(url);
      const parsed = parsePlaylist(await res.text(), res.url || url);
      if (parsed.kind === 'media') return { url: res.url || url, playlist: parsed };
      url = parsed.mediaUrl;
    }
    throw new Error(`${opts.source.url}: a master playlist pointing to another master playlist`);
  };
  const account = (exit: CaptureExit): void => {
    totals.pcmSamples += exit.pcmSamples;
    totals.stderrLines += exit.stderrLines;
    totals.forcedKill ||= exit.forcedKill;
  };
  const finish = (exit: CaptureExit): CaptureExit => ({
    ...exit,
    ...totals,
    reason: stopReason ?? exit.reason,
  });
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(done, ms);
      wake = done;
    });

  const follow = async (mediaUrl: string, first: MediaPlaylist): Promise<CaptureExit> => {
    let playlist = first;
    const startedAt = Date.now();
    // at the live edge, as ffmpeg's -live_start_index -1; a finished playlist from its start
    const segs = first.segments;
    let nextSeq = first.ended ? segs[0].sequence : segs[segs.length - 1].sequence;
    let run: RunPosition | null = null;
    let session: CaptureSession | null = null;
    /** Set when the current run's ffmpeg exits without being asked to (its watchdog, a failure). */
    let sessionExit: CaptureExit | null = null;
    const maps = new Map<string, Buffer>();
    const endRun = async (): Promise<CaptureExit | null> => {
      const s = session;
      if (!s) return null;
      session = null;
      current = null;
      // ffmpeg decodes what it was given, flushes its outputs and exits
      s.stdin?.end();
      const exit = await s.exited;
      account(exit);
      return exit;
    };
    const startRun = async (seg: MediaSegment, why: string): Promise<void> => {
      run = runFrom(seg, opts.timeScale);
      opts.onRun?.({ anchorMs: seg.programDateTimeMs, sequence: seg.sequence, why });
      const s = startCapture({ ...opts, stdinInput: true });
      session = s;
      current = s;
      sessionExit = null;
      void s.exited.then((e) => {
        if (session === s) {
          sessionExit = e;
          account(e);
          wake?.();
        }
      });
      if (seg.mapUrl !== null) {
        let init = maps.get(seg.mapUrl);
        if (!init) {
          init = Buffer.from(await (await fetchOk(seg.mapUrl)).arrayBuffer());
          maps.set(seg.mapUrl, init);
        }
        await write(s, init);
      }
    };
    for (;;) {
      let fresh = false;
      for (const seg of playlist.segments) {
        if (seg.sequence < nextSeq) continue;
        if (stopReason || sessionExit) break;
        fresh = true;
        let bytes: Buffer;
        try {
          bytes = Buffer.from(await (await fetchOk(seg.url)).arrayBuffer());
        } catch {
          if (stopReason) break;
          // a segment that cannot be had is a hole: the run ends before it and the next starts after it
          nextSeq = seg.sequence + 1;
          continue;
        }
        const cont: ReturnType<typeof continuesRun> =
          run === null
            ? { continues: false, why: 'connection start' }
            : continuesRun(run, seg, opts.toleranceMs);
        if (!cont.continues) {
          const ended = await endRun();
          if (ended && ended.reason !== 'ended') return finish(ended);
          if (stopReason) break;
          await startRun(seg, cont.why);
        }
        await write(session!, bytes);
        run = advanceRun(run!, seg, opts.timeScale);
        nextSeq = seg.sequence + 1;
      }
      if (sessionExit) return finish(sessionExit);
      if (stopReason) return finish((await endRun()) ?? stoppedExit(opts, totals));
      const last = playlist.segments.at(-1);
      if (playlist.ended && (last === undefined || nextSeq > last.sequence)) {
        const ended = (await endRun()) ?? stoppedExit(opts, totals);
        return finish({ ...ended, reason: 'ended', message: `${opts.source.url}: the stream ended` });
      }
      // reload after the last segment's duration; after half of it when nothing was new (RFC 8216 6.3.4)
      const durMs = (last?.durationSec ?? playlist.targetDurationSec) * 1000;
      await sleep(Math.max(50, fresh ? durMs : durMs / 2));
      if (stopReason || sessionExit) continue;
      if (!session && Date.now() - startedAt > opts.connectTimeoutMs) {
        throw new Error(`no segment could be fetched in ${Math.round(opts.connectTimeoutMs / 1000)} s`);
      }
      try {
        playlist = (await loadMedia(mediaUrl)).playlist;
      } catch {
        // tried again at the reload pace; a playlist that stays away stalls the run's ffmpeg, whose
        // watchdog then ends the connection
        if (!session) throw new Error('the playlist cannot be loaded');
      }
    }
  };

  const exited = (async (): Promise<CaptureExit> => {
    let media: { url: string; playlist: MediaPlaylist } | null = null;
    let why: string;
    try {
      const m = await loadMedia(opts.source.url);
      if (m.playlist.unsupported) why = `the playlist has ${m.playlist.unsupported}`;
      else if (m.playlist.segments.some((s) => s.programDateTimeMs !== null)) media = m;
      else why = 'the playlist carries no #EXT-X-PROGRAM-DATE-TIME';
    } catch (err) {
      why = `the playlist could not be read first (${(err as Error).message})`;
    }
    if (stopReason) return stoppedExit(opts, totals);
    if (media === null) {
      opts.onAnchoring?.('arrival', why!);
      current = startCapture(opts);
      return current.exited;
    }
    opts.onAnchoring?.('program_date_time', media.url);
    try {
      const exit = await follow(media.url, media.playlist);
      if (exit.reason !== 'failed' || totals.pcmSamples > 0 || stopReason) return exit;
      // segments ffmpeg could not decode from stdin: rather a channel heard with arrival times than
      // one not heard at all, so ffmpeg reads the HLS itself for this connection
      opts.onAnchoring?.('arrival', `the segments did not decode from stdin (${exit.message})`);
      opts.onRun?.({ anchorMs: null, sequence: -1, why: "ffmpeg's own HLS demuxer instead" });
      current = startCapture(opts);
      return current.exited;
    } catch (err) {
      // a run still going is stopped (its exit is accounted by follow's own watch on it)
      await (current as CaptureSession | null)?.stop('failed');
      return finish({
        ...stoppedExit(opts, totals),
        reason: 'failed',
        message: `${opts.source.url}: ${(err as Error).message}`,
      });
    }
  })();

  return {
    get pid() {
      return current?.pid;
    },
    stdin: null,
    exited,
    stop: (reason: CaptureEndReason = 'stopped') => {
      stopReason ??= reason;
      abort.abort();
      wake?.();
      void current?.stop(reason);
      return exited;
    },
  };
}

async function write(session: CaptureSession, bytes: Buffer): Promise<void> {
  const stdin = session.stdin;
  if (!stdin) throw new Error('the capture reads no stdin');
  if (stdin.write(bytes)) return;
  await Promise.race([new Promise((r) => stdin.once('drain', r)), session.exited]);
}

function stoppedExit(
  opts: CaptureOptions,
  totals: { pcmSamples: number; stderrLines: number; forcedKill: boolean },
): CaptureExit {
  return {
    reason: 'stopped',
    exitCode: null,
    signal: null,
    message: `${opts.source.url}: stopped`,
    ...totals,
  };
}
