/**
 * The fallback decoder for machines without ffmpeg: node-web-audio-api's decodeAudioData (a Rust
 * decoder, symphonia) for WAV, MP3, Ogg Vorbis and FLAC. It decodes the WHOLE file into memory at once:
 * about 4 bytes x channels x native rate per second of audio, plus the file itself (a 5-minute 44.1 kHz
 * stereo file: ~100 MB of samples; node-web-audio-api peaks at several hundred MB). Its own resampler
 * aliases, so we decode at the file's native rate, down-mix, and resample with ours.
 */
import { readFile } from 'node:fs/promises';
import { FloatChunker } from './chunker.js';
import { AudioError, INSTALL_FFMPEG_HINT } from './errors.js';
import { Resampler } from './resample.js';
import { downmix } from './signal.js';
import { oggLastGranule, sniffMedia, type Sniffed } from './sniff.js';
import type { DecodeOptions } from './types.js';

/** Formats the fallback reads; anything else needs ffmpeg. */
export const WEB_AUDIO_FORMATS = new Set(['wav', 'mp3', 'ogg-vorbis', 'flac']);

interface DecodedBuffer {
  readonly sampleRate: number;
  readonly numberOfChannels: number;
  readonly length: number;
  getChannelData(channel: number): Float32Array;
}
interface OfflineContext {
  decodeAudioData(data: ArrayBuffer): Promise<DecodedBuffer>;
}
type OfflineContextClass = new (opts: {
  numberOfChannels: number;
  length: number;
  sampleRate: number;
}) => OfflineContext;

let contextClass: Promise<OfflineContextClass> | undefined;

function loadContextClass(): Promise<OfflineContextClass> {
  // Loaded on first use: the native module is big and most runs never need it.
  contextClass ??= import('node-web-audio-api').then(
    (m) => (m as unknown as { OfflineAudioContext: OfflineContextClass }).OfflineAudioContext,
  );
  return contextClass;
}

export function needsFfmpegMessage(path: string, sniffed: Sniffed): string {
  return (
    `cannot decode ${JSON.stringify(path)} (${sniffed.description}) without ffmpeg: the built-in decoder ` +
    `reads only WAV, MP3, Ogg Vorbis and FLAC; ${INSTALL_FFMPEG_HINT}`
  );
}

/** Frames of slack before a short decode counts as truncation: 0.5 s or 2 %. */
export function looksTruncated(decodedFrames: number, declaredFrames: number, sampleRate: number): boolean {
  return decodedFrames < declaredFrames - Math.max(0.5 * sampleRate, 0.02 * declaredFrames);
}

export async function* decodeWithWebAudio(path: string, opts: DecodeOptions): AsyncGenerator<Float32Array> {
  const q = JSON.stringify(path);
  const chunkSamples = opts.chunkSamples ?? opts.sampleRate;
  let file: Buffer | null = await readFile(path);
  opts.signal?.throwIfAborted();
  const sniffed = sniffMedia(file);
  if (!WEB_AUDIO_FORMATS.has(sniffed.format)) {
    if (sniffed.kind === 'unknown') {
      throw new AudioError('NOT_AUDIO', path, `${q} is not an audio file the built-in decoder recognises`);
    }
    throw new AudioError('DECODER_MISSING', path, needsFfmpegMessage(path, sniffed));
  }
  const nativeRate = sniffed.sampleRate;
  if (!nativeRate || nativeRate < 3000 || nativeRate > 768_000) {
    throw new AudioError(
      'CORRUPT',
      path,
      `${q} is ${sniffed.description} but its header gives no usable sample rate`,
    );
  }
  const Context = await loadContextClass();
  const ctx = new Context({ numberOfChannels: 1, length: 1, sampleRate: nativeRate });
  let decoded: DecodedBuffer;
  let fileEnd: Uint8Array | null = null;
  try {
    const bytes: ArrayBuffer = file.buffer.slice(
      file.byteOffset,
      file.byteOffset + file.byteLength,
    ) as ArrayBuffer;
    fileEnd = file.subarray(Math.max(0, file.length - 65536));
    file = null;
    decoded = await ctx.decodeAudioData(bytes);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (/unsupported (codec|wave format|feature: (?!core \(probe\)))/i.test(text)) {
      throw new AudioError(
        'UNSUPPORTED_CODEC',
        path,
        `${q}: unsupported codec in ${sniffed.description} (${text})`,
        {
          cause: err,
        },
      );
    }
    throw new AudioError(
      'CORRUPT',
      path,
      `${q} looks like ${sniffed.description} but could not be decoded (${text})`,
      {
        cause: err,
      },
    );
  }
  opts.signal?.throwIfAborted();
  if (decoded.length === 0) throw new AudioError('EMPTY', path, `${q} contains no audio samples`);
  if (decoded.sampleRate !== nativeRate) {
    throw new AudioError(
      'DECODE_FAILED',
      path,
      `${q}: decoder returned ${decoded.sampleRate} Hz, expected ${nativeRate}`,
    );
  }
  const channels: Float32Array[] = [];
  for (let c = 0; c < decoded.numberOfChannels; c++) channels.push(decoded.getChannelData(c));
  let mono = downmix(channels);
  channels.length = 0;
  if (sniffed.gaplessTrim) {
    // Drop the encoder delay and padding as ffmpeg does, so both decoders give the same samples.
    const { startFrames, endFrames } = sniffed.gaplessTrim;
    const complete = sniffed.declaredFrames !== undefined && mono.length >= sniffed.declaredFrames;
    const end = complete ? mono.length - endFrames : mono.length;
    if (end > startFrames) mono = mono.subarray(startFrames, end);
  }
  if (sniffed.format === 'ogg-vorbis' && fileEnd) {
    // The last page's granule position says where the stream ends; the rest is padding.
    const granule = oggLastGranule(fileEnd);
    if (granule !== null && granule > 0 && granule < mono.length) mono = mono.subarray(0, granule);
  }
  if (sniffed.declaredFrames) {
    const trim = sniffed.gaplessTrim ? sniffed.gaplessTrim.startFrames + sniffed.gaplessTrim.endFrames : 0;
    const announced = sniffed.declaredFrames - trim;
    if (looksTruncated(mono.length, announced, nativeRate)) {
      opts.onWarning?.(
        `${q} looks truncated: decoded ${(mono.length / nativeRate).toFixed(1)} s of the ` +
          `${(announced / nativeRate).toFixed(1)} s its header announces`,
      );
    }
  }

  const chunker = new FloatChunker(chunkSamples);
  const resampler = nativeRate === opts.sampleRate ? null : new Resampler(nativeRate, opts.sampleRate);
  const blockSamples = nativeRate; // one second of input per step, so abort is honoured promptly
  for (let start = 0; start < mono.length; start += blockSamples) {
    opts.signal?.throwIfAborted();
    const block = mono.subarray(start, Math.min(mono.length, start + blockSamples));
    const out = resampler ? resampler.process(block) : block;
    for (const chunk of chunker.push(out)) yield chunk;
  }
  if (resampler) for (const chunk of chunker.push(resampler.flush())) yield chunk;
  const last = chunker.flush();
  if (last) yield last;
}
