import { spawn } from 'node:child_process';
import { ffmpegPath } from '../audio/index.js';
import { ffmpegInputArgs } from './source.js';
import type { ChannelSource } from './types.js';

/** Why a capture ended. */
export type CaptureEndReason =
  /** ffmpeg exited cleanly: the source ended (a file, or a server that closed the stream). */
  | 'ended'
  /** ffmpeg exited with an error (refused, 404, not audio, ...). */
  | 'failed'
  /** No audio within the connect timeout: the source never answered. */
  | 'connect_timeout'
  /** Audio stopped arriving for the stall timeout. */
  | 'stalled'
  /** We asked it to stop. */
  | 'stopped';

export interface CaptureExit {
  reason: CaptureEndReason;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** A one-line explanation for logs and gaps. */
  message: string;
  pcmSamples: number;
  /** Error lines ffmpeg printed (decode errors on corrupt input land here). */
  stderrLines: number;
  /** ffmpeg ignored SIGTERM and had to be killed. */
  forcedKill: boolean;
}

export interface CaptureOptions {
  source: ChannelSource;
  sampleRate: number;
  /** Also encode the air-check as CBR MP3 (written by ffmpeg to fd 3). */
  evidence: { sampleRate: number; bitrateKbps: number } | null;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  killGraceMs: number;
  ioTimeoutMs: number;
  /** Mono float PCM at `sampleRate`, in arrival order. */
  onPcm: (pcm: Float32Array) => void;
  onEvidence?: (bytes: Buffer) => void;
  onStderrLine?: (line: string) => void;
  ffmpegPath?: string;
  /**
   * ffmpeg reads the source's bytes from its stdin (`session.stdin`) instead of opening the source
   * itself: HLS segments fetched by the monitor (hls.ts). The source then only names the stream in messages.
   */
  stdinInput?: boolean;
}

export interface CaptureSession {
  readonly pid: number | undefined;
  /** ffmpeg's stdin with `stdinInput`, else null. */
  readonly stdin: NodeJS.WritableStream | null;
  /** Resolves once ffmpeg has exited and its output has been delivered. */
  readonly exited: Promise<CaptureExit>;
  /** Stops ffmpeg (SIGTERM, then SIGKILL after the grace period) and waits for it. */
  stop(reason?: CaptureEndReason): Promise<CaptureExit>;
}

/** The ffmpeg command line of a capture (exported for logs and docs). */
export function captureArgs(
  opts: Pick<CaptureOptions, 'source' | 'sampleRate' | 'evidence' | 'ioTimeoutMs' | 'stdinInput'>,
): string[] {
  const args = ['-hide_banner', ...(opts.stdinInput ? [] : ['-nostdin']), '-nostats', '-loglevel', 'error'];
  args.push(...(opts.stdinInput ? ['-i', 'pipe:0'] : ffmpegInputArgs(opts.source, opts.ioTimeoutMs)));
  // mono by averaging the channels, as the audio stage does for references (-rematrix_maxval 1)
  // aresample=async=1 follows the input's timestamps: audio the decoder had to drop (corrupt frames)
  // comes back as silence, so sample counts keep matching time
  const mono = [
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-af',
    'aresample=async=1',
    '-rematrix_maxval',
    '1',
    '-ac',
    '1',
  ];
  args.push(...mono, ...['-ar', String(opts.sampleRate), '-f', 'f32le', '-flush_packets', '1', 'pipe:1']);
  if (opts.evidence) {
    args.push(
      ...mono,
      ...['-ar', String(opts.evidence.sampleRate)],
      // LAME's fast mode (-q 7): about a third less CPU than its default for speech-grade evidence
      ...[
        '-c:a',
        'libmp3lame',
        '-compression_level',
        '7',
        '-b:a',
        `${opts.evidence.bitrateKbps}k`,
        '-f',
        'mp3',
      ],
      // no -flush_packets here: the air-check needs no low latency, and 32 KB writes cost far less
      ...['-write_xing', '0', '-id3v2_version', '0', 'pipe:3'],
    );
  }
  return args;
}

/**
 * Spawns ffmpeg on one source and streams its PCM (and optional MP3 air-check) to callbacks, with a
 * watchdog: no audio within the connect timeout, or no audio for the stall timeout, kills it; so does
 * stop(). A process that ignores SIGTERM gets SIGKILL after the grace period.
 */
export function startCapture(opts: CaptureOptions): CaptureSession {
  const args = captureArgs(opts);
  const child = spawn(opts.ffmpegPath ?? ffmpegPath(), args, {
    stdio: [opts.stdinInput ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  // ffmpeg exiting while bytes are still being written to it is its exit's business, not an error here
  child.stdin?.on('error', () => {});
  const startedAt = Date.now();
  let lastPcmAt: number | null = null;
  let pcmSamples = 0;
  let stderrLines = 0;
  const tail: string[] = [];
  let killReason: CaptureEndReason | null = null;
  let forcedKill = false;
  let spawnError: Error | null = null;
  let leftover: Buffer = Buffer.alloc(0);

  child.stdout!.on('data', (chunk: Buffer) => {
    const buf = leftover.length > 0 ? Buffer.concat([leftover, chunk]) : chunk;
    const whole = buf.length - (buf.length % 4);
    leftover = Buffer.from(buf.subarray(whole));
    if (whole === 0) return;
    const pcm = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + whole));
    pcmSamples += pcm.length;
    lastPcmAt = Date.now();
    opts.onPcm(pcm);
  });
  const fd3 = child.stdio[3] as NodeJS.ReadableStream | null;
  fd3?.on('data', (chunk: Buffer) => opts.onEvidence?.(chunk));

  let errText = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    errText += text;
    let nl: number;
    while ((nl = errText.indexOf('\n')) >= 0) {
      const line = errText.slice(0, nl).trim();
      errText = errText.slice(nl + 1);
      if (line === '') continue;
      stderrLines++;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.onStderrLine?.(line);
    }
  });
  child.on('error', (err) => {
    spawnError = err;
  });

  let killTimer: NodeJS.Timeout | null = null;
  const kill = (reason: CaptureEndReason): void => {
    if (killReason !== null || child.exitCode !== null || child.signalCode !== null) return;
    killReason = reason;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => {
      forcedKill = true;
      child.kill('SIGKILL');
    }, opts.killGraceMs);
    killTimer.unref();
  };

  const watchdog = setInterval(
    () => {
      const now = Date.now();
      if (lastPcmAt === null && now - startedAt > opts.connectTimeoutMs) kill('connect_timeout');
      else if (lastPcmAt !== null && now - lastPcmAt > opts.stallTimeoutMs) kill('stalled');
    },
    Math.max(50, Math.min(1000, opts.stallTimeoutMs / 4, opts.connectTimeoutMs / 4)),
  );

  const exited = new Promise<CaptureExit>((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watchdog);
      if (killTimer) clearTimeout(killTimer);
      const reason: CaptureEndReason = killReason ?? (code === 0 ? 'ended' : 'failed');
      resolve({
        reason,
        exitCode: code,
        signal,
        message: explain(reason, code, tail, spawnError, opts),
        pcmSamples,
        stderrLines,
        forcedKill,
      });
    });
  });

  return {
    pid: child.pid,
    stdin: child.stdin,
    exited,
    stop: (reason: CaptureEndReason = 'stopped') => {
      kill(reason);
      return exited;
    },
  };
}

function explain(
  reason: CaptureEndReason,
  code: number | null,
  tail: string[],
  spawnError: Error | null,
  opts: CaptureOptions,
): string {
  const where = opts.source.url;
  if (spawnError) return `cannot run ffmpeg: ${spawnError.message}`;
  const last = tail
    .filter((l) => !/^(Conversion failed|Error opening input files?|Exiting normally)/i.test(l))
    .slice(-2);
  const said = last.length > 0 ? `: ${last.join(' / ')}` : '';
  switch (reason) {
    case 'ended':
      return `${where}: the stream ended`;
    case 'connect_timeout':
      return `${where}: no audio within ${Math.round(opts.connectTimeoutMs / 1000)} s (the source does not answer)${said}`;
    case 'stalled':
      return `${where}: no audio for ${Math.round(opts.stallTimeoutMs / 1000)} s (the stream stalled)`;
    case 'stopped':
      return `${where}: stopped`;
    case 'failed':
      return `${where}: ffmpeg exited with code ${code}${said}`;
  }
}
