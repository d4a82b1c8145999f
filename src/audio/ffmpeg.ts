/**
 * The ffmpeg adapter: runs ffmpeg as a child process and reads mono float PCM from its stdout, a
 * fixed-size chunk at a time. Reused by the file decoder and by the live monitor (URLs, devices).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { PcmChunker } from './chunker.js';
import { AudioError, INSTALL_FFMPEG_HINT } from './errors.js';
import {
  classifyFailure,
  isErrorLevel,
  parseInputHeader,
  parseLogLine,
  type FfmpegLogLevel,
  type FfmpegLogLine,
  type InputHeader,
} from './ffmpeg-log.js';

/** The ffmpeg binary: $TYNDAU_FFMPEG, else `ffmpeg` on the PATH. */
export function ffmpegPath(): string {
  return process.env.TYNDAU_FFMPEG || 'ffmpeg';
}

/** The ffprobe binary: $TYNDAU_FFPROBE, else the one beside $TYNDAU_FFMPEG, else `ffprobe` on the PATH. */
export function ffprobePath(): string {
  if (process.env.TYNDAU_FFPROBE) return process.env.TYNDAU_FFPROBE;
  const ffmpeg = process.env.TYNDAU_FFMPEG;
  if (ffmpeg && ffmpeg.includes('/')) return join(dirname(ffmpeg), 'ffprobe');
  return 'ffprobe';
}

const availability = new Map<string, boolean>();

function binaryRuns(bin: string): boolean {
  let ok = availability.get(bin);
  if (ok === undefined) {
    const r = spawnSync(bin, ['-version'], { stdio: 'ignore', timeout: 15_000 });
    ok = !r.error && r.status === 0;
    availability.set(bin, ok);
  }
  return ok;
}

/** True when ffmpeg runs (checked once per binary path, then cached). */
export function ffmpegAvailable(): boolean {
  return binaryRuns(ffmpegPath());
}

export function ffprobeAvailable(): boolean {
  return binaryRuns(ffprobePath());
}

export interface FfmpegPcmOptions {
  /** Anything ffmpeg's -i accepts: a path (prefix local paths with `file:`), a URL, a device. */
  input: string;
  /** Arguments before -i: `-f alsa`, `-rw_timeout 10000000`, `-reconnect 1`, ... */
  inputArgs?: string[];
  /** Arguments after the input, before the PCM output options: `-map 0:a:1`, `-af ...`. */
  outputArgs?: string[];
  /** Output rate in Hz (mono float32). */
  sampleRate: number;
  /** Samples per yielded chunk; all but the last are exactly this long. Default: one second. */
  chunkSamples?: number;
  signal?: AbortSignal;
  /** Every stderr line as ffmpeg wrote it (with its `[level]` tag). */
  onStderrLine?: (line: string) => void;
  /** ffmpeg's -loglevel. Default 'level+warning'; 'level+info' also prints the input's streams. */
  logLevel?: string;
  /** How the input is named in error messages. Default: input. */
  label?: string;
}

export interface FfmpegExit {
  /** ffmpeg's exit code; null when it ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when we stopped it: abort, or the consumer stopped iterating early. */
  stoppedByUs: boolean;
  /** Samples delivered. */
  samples: number;
  /** Parsed stderr (the first 200 lines and the last 50). */
  lines: FfmpegLogLine[];
  /** The input's description, when the log level printed it (level+info). */
  header: InputHeader | null;
  /** Why it failed, when it exited non-zero on its own (or could not start); null otherwise. */
  error: AudioError | null;
}

/**
 * A single-use stream of PCM chunks. Iterating it starts ffmpeg; breaking out of the loop or aborting
 * the signal kills ffmpeg and waits for it to exit. Iteration throws an AudioError when ffmpeg could
 * not start or failed before producing any audio; a failure after some audio ends the iteration
 * normally and is reported in `exit`.
 */
export interface FfmpegPcmStream extends AsyncIterable<Float32Array> {
  /** Settles (never rejects) once the iteration is over and ffmpeg has exited. */
  readonly exit: Promise<FfmpegExit>;
}

const HEAD_LINES = 200;
const TAIL_LINES = 50;
const KILL_GRACE_MS = 2000;

export function checkSampleRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw new RangeError(
      `sampleRate must be a whole number of Hz between 1000 and 384000, got ${sampleRate}`,
    );
  }
}

export function checkChunkSamples(chunkSamples: number): void {
  if (!Number.isInteger(chunkSamples) || chunkSamples < 1 || chunkSamples > 1 << 26) {
    throw new RangeError(`chunkSamples must be a whole number between 1 and ${1 << 26}, got ${chunkSamples}`);
  }
}

class FfmpegPcmRun implements FfmpegPcmStream {
  readonly exit: Promise<FfmpegExit>;
  private resolveExit!: (exit: FfmpegExit) => void;
  private iterated = false;

  constructor(private readonly opts: FfmpegPcmOptions) {
    checkSampleRate(opts.sampleRate);
    checkChunkSamples(opts.chunkSamples ?? opts.sampleRate);
    if (typeof opts.input !== 'string' || opts.input === '')
      throw new TypeError('ffmpegPcm: input is required');
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<Float32Array> {
    if (this.iterated) throw new Error('ffmpegPcm: a stream can be iterated only once');
    this.iterated = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<Float32Array> {
    const { opts } = this;
    const label = opts.label ?? opts.input;
    const chunkSamples = opts.chunkSamples ?? opts.sampleRate;
    const head: FfmpegLogLine[] = [];
    const tail: FfmpegLogLine[] = [];
    let samples = 0;
    let stoppedByUs = false;
    let spawnError: NodeJS.ErrnoException | null = null;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const snapshot = (): FfmpegLogLine[] => [...head, ...tail];
    const finish = (error: AudioError | null): void =>
      this.resolveExit({
        code: exitCode,
        signal: exitSignal,
        stoppedByUs,
        samples,
        lines: snapshot(),
        header: parseInputHeader(head),
        error,
      });

    if (opts.signal?.aborted) {
      stoppedByUs = true;
      finish(null);
      opts.signal.throwIfAborted();
    }
    const args = [
      '-nostdin',
      '-hide_banner',
      '-nostats',
      '-loglevel',
      opts.logLevel ?? 'level+warning',
      ...(opts.inputArgs ?? []),
      '-i',
      opts.input,
      ...(opts.outputArgs ?? []),
      // Down-mix by averaging the channels (ffmpeg's default (L+R)/sqrt(2) is 3 dB louder and can exceed 1).
      '-rematrix_maxval',
      '1',
      '-vn',
      '-sn',
      '-dn',
      '-ac',
      '1',
      '-ar',
      String(opts.sampleRate),
      '-f',
      'f32le',
      'pipe:1',
    ];
    const child: ChildProcess = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = new Promise<void>((resolve) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
        if (child.pid === undefined) resolve();
      });
      child.once('close', (code, signal) => {
        exitCode = code;
        exitSignal = signal;
        resolve();
      });
    });

    let previousLevel: FfmpegLogLevel = 'info';
    let partial = '';
    const takeLine = (raw: string): void => {
      if (raw === '') return;
      const line = parseLogLine(raw, previousLevel);
      previousLevel = line.level;
      if (head.length < HEAD_LINES) head.push(line);
      else {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
      opts.onStderrLine?.(raw);
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const parts = (partial + text).split(/\r?\n|\r/);
      partial = parts.pop() ?? '';
      for (const p of parts) takeLine(p);
    });
    child.stderr!.on('end', () => {
      takeLine(partial);
      partial = '';
    });

    let killTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (exitCode !== null || exitSignal !== null || child.pid === undefined) return;
      stoppedByUs = true;
      // Closing our end of the pipe makes a blocked write fail at once; the signal covers the rest.
      child.stdout?.destroy();
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = (): void => stop();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    let done = false;
    try {
      const chunker = new PcmChunker(chunkSamples);
      try {
        for await (const data of child.stdout! as AsyncIterable<Buffer>) {
          for (const chunk of chunker.push(data)) {
            samples += chunk.length;
            yield chunk;
          }
        }
      } catch (err) {
        // The stdout stream errors when we destroy it on abort; anything else is reported below.
        if (!stoppedByUs) throw err;
      }
      const last = chunker.flush();
      if (last && !stoppedByUs) {
        samples += last.length;
        yield last;
      }
      await closed;
      if (opts.signal?.aborted) opts.signal.throwIfAborted();
      const err = this.failure(label, spawnError, exitCode, exitSignal, stoppedByUs, head, tail);
      done = true;
      finish(err);
      if (err && samples === 0) throw err;
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (!done) {
        stop();
        await closed;
        finish(null);
      }
      if (killTimer) clearTimeout(killTimer);
    }
  }

  private failure(
    label: string,
    spawnError: NodeJS.ErrnoException | null,
    code: number | null,
    signal: NodeJS.Signals | null,
    stoppedByUs: boolean,
    head: FfmpegLogLine[],
    tail: FfmpegLogLine[],
  ): AudioError | null {
    if (spawnError) {
      if (spawnError.code === 'ENOENT' || spawnError.code === 'EACCES') {
        return new AudioError(
          'DECODER_MISSING',
          label,
          `cannot decode ${JSON.stringify(label)}: ffmpeg was not found (${ffmpegPath()}); ${INSTALL_FFMPEG_HINT}`,
          { cause: spawnError },
        );
      }
      return new AudioError('DECODE_FAILED', label, `could not start ffmpeg: ${spawnError.message}`, {
        cause: spawnError,
      });
    }
    if (stoppedByUs || code === 0) return null;
    const lines = [...head, ...tail];
    if (code === null) {
      return new AudioError(
        'DECODE_FAILED',
        label,
        `${JSON.stringify(label)}: ffmpeg was killed by ${signal}`,
      );
    }
    const f = classifyFailure({ input: label, lines, header: parseInputHeader(head) });
    return new AudioError(f.code, label, f.message);
  }
}

/** Reads mono float32 PCM from ffmpeg for any input it understands. See FfmpegPcmStream. */
export function ffmpegPcm(opts: FfmpegPcmOptions): FfmpegPcmStream {
  return new FfmpegPcmRun(opts);
}

/** Error-level lines of a finished run, for messages. */
export function errorText(exit: FfmpegExit, count = 2): string {
  return exit.lines
    .filter((l) => isErrorLevel(l.level))
    .slice(-count)
    .map((l) => (l.component ? `${l.component}: ${l.text}` : l.text))
    .join('; ');
}
