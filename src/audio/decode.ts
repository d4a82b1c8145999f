/** Decodes an audio (or video) file to mono float PCM at a chosen rate, in fixed-size chunks. */
import { AudioError, INSTALL_FFMPEG_HINT } from './errors.js';
import { checkAudioFile } from './file-check.js';
import {
  isCorruptFrameMessage,
  isDurationEstimateMessage,
  isTruncationMessage,
  parseInputHeader,
  parseLogLine,
  type FfmpegLogLevel,
  type FfmpegLogLine,
} from './ffmpeg-log.js';
import { checkChunkSamples, checkSampleRate, errorText, ffmpegAvailable, ffmpegPcm } from './ffmpeg.js';
import { concatPcm } from './signal.js';
import type { DecodeOptions } from './types.js';
import { decodeWithWebAudio, looksTruncated, needsFfmpegMessage, WEB_AUDIO_FORMATS } from './web-audio.js';

function checkOptions(opts: DecodeOptions): void {
  if (!opts || typeof opts !== 'object') throw new TypeError('decode options are required ({ sampleRate })');
  checkSampleRate(opts.sampleRate);
  checkChunkSamples(opts.chunkSamples ?? opts.sampleRate);
  const decoder = opts.decoder ?? 'auto';
  if (decoder !== 'auto' && decoder !== 'ffmpeg' && decoder !== 'web-audio') {
    throw new RangeError(`decoder must be 'auto', 'ffmpeg' or 'web-audio', got ${JSON.stringify(decoder)}`);
  }
}

const seconds = (samples: number, rate: number): string => (samples / rate).toFixed(1);

/**
 * Decodes with constant memory: chunks of `chunkSamples` (default one second) are yielded as ffmpeg
 * produces them. Damage that still leaves audio (corrupt frames, truncation, ffmpeg failing midway) is
 * reported through onWarning; no audio at all throws an AudioError. Breaking out of the loop or
 * aborting stops the decoder process.
 */
export async function* decodeAudio(path: string, opts: DecodeOptions): AsyncGenerator<Float32Array> {
  checkOptions(opts);
  opts.signal?.throwIfAborted();
  const { sniffed } = await checkAudioFile(path);
  const decoder = opts.decoder ?? 'auto';
  if (decoder === 'web-audio' || (decoder === 'auto' && !ffmpegAvailable())) {
    if (decoder === 'auto' && sniffed.kind !== 'unknown' && !WEB_AUDIO_FORMATS.has(sniffed.format)) {
      throw new AudioError('DECODER_MISSING', path, needsFfmpegMessage(path, sniffed));
    }
    yield* decodeWithWebAudio(path, opts);
    return;
  }
  if (!ffmpegAvailable()) {
    throw new AudioError(
      'DECODER_MISSING',
      path,
      `cannot decode ${JSON.stringify(path)}: ffmpeg is not installed; ${INSTALL_FFMPEG_HINT}`,
    );
  }
  yield* decodeWithFfmpeg(path, opts);
}

async function* decodeWithFfmpeg(path: string, opts: DecodeOptions): AsyncGenerator<Float32Array> {
  const q = JSON.stringify(path);
  const rate = opts.sampleRate;
  const warn = (message: string): void => opts.onWarning?.(message);
  const headerLines: FfmpegLogLine[] = [];
  let previousLevel: FfmpegLogLevel = 'info';
  let samples = 0;
  let decodeErrors = 0;
  let corruptLines = 0;
  let durationEstimated = false;
  let truncationHint: string | null = null;
  let headerDone = false;

  const onLine = (raw: string): void => {
    const line = parseLogLine(raw, previousLevel);
    previousLevel = line.level;
    if (!headerDone) {
      headerLines.push(line);
      if (/^(Stream mapping:|Output #0)/.test(line.text)) headerDone = true;
    }
    if (isDurationEstimateMessage(line)) durationEstimated = true;
    if (isTruncationMessage(line)) truncationHint ??= line.text;
    if (isCorruptFrameMessage(line)) {
      corruptLines++;
      // ffmpeg reports one bad frame as a decoder line plus "Error while decoding stream": count the latter.
      if (/Error while decoding/i.test(line.text)) decodeErrors++;
      if (corruptLines === 1) {
        const what = (line.component ? `${line.component}: ` : '') + line.text;
        warn(`${q}: corrupt data near ${seconds(samples, rate)} s (${what}); skipped it and kept decoding`);
      }
    }
  };

  const stream = ffmpegPcm({
    input: `file:${path}`,
    label: path,
    // ffmpeg flushes every audio frame to a pipe by default (~1 KB writes); in 32 KB blocks the
    // reading side costs a tenth of the CPU (0.5 -> 0.05 ms per second of audio, docs/benchmarks.md)
    outputArgs: ['-map', '0:a:0', '-flush_packets', '0'],
    sampleRate: rate,
    chunkSamples: opts.chunkSamples,
    signal: opts.signal,
    logLevel: 'level+info',
    onStderrLine: onLine,
  });
  for await (const chunk of stream) {
    samples += chunk.length;
    yield chunk;
  }
  const exit = await stream.exit;
  const header = parseInputHeader(headerLines);
  const events = Math.max(decodeErrors, corruptLines > 0 ? 1 : 0);
  if (samples === 0) {
    if (events > 0) {
      throw new AudioError(
        'CORRUPT',
        path,
        `${q}: no valid audio frame could be decoded (${errorText(exit)})`,
      );
    }
    throw new AudioError('EMPTY', path, `${q} contains an audio stream with no samples`);
  }
  if (exit.error) {
    warn(
      `${q}: ffmpeg stopped with an error after ${seconds(samples, rate)} s (${exit.error.message}); kept the audio decoded so far`,
    );
  }
  if (events > 1) warn(`${q}: ${events} corrupt frames were skipped in all`);
  const expected = header?.durationSec ?? null;
  if (expected !== null && !durationEstimated && looksTruncated(samples, expected * rate, rate)) {
    warn(
      `${q} looks truncated: decoded ${seconds(samples, rate)} s of the ${expected.toFixed(1)} s its header announces`,
    );
  } else if (truncationHint !== null && events === 0 && !exit.error) {
    warn(`${q} may be truncated or damaged (ffmpeg: ${truncationHint})`);
  }
}

/**
 * Decodes a whole file into one buffer. For short files (references, clips): memory grows with length
 * (4 bytes per sample; an hour at 8000 Hz is 115 MB). Use decodeAudio for long recordings.
 */
export async function decodeAudioFile(path: string, opts: DecodeOptions): Promise<Float32Array> {
  const chunks: Float32Array[] = [];
  for await (const chunk of decodeAudio(path, opts)) chunks.push(chunk);
  return concatPcm(chunks);
}
