/**
 * Decoding real files of every supported format, made with ffmpeg from a synthesised song, through
 * ffmpeg and through the web-audio fallback; compared with the source waveform.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudio, decodeAudioFile, probeAudio, rmsDb, type AudioInfo } from '../src/audio/index.js';
import { bestCorrelation, childProcesses, ensureEncoded, ensureSong } from './helpers/catalogue.js';

const RATE = 8000;
const SONG_SEC = 8;
const VIDEO = ['-f', 'lavfi', '-i', `testsrc=s=64x48:r=10:d=${SONG_SEC}`, '-map', '1:v', '-map', '0:a'];

interface Format {
  name: string;
  ext: string;
  args: string[];
  lossless?: boolean;
  probe: Partial<AudioInfo>;
  /** ADTS has no length field: ffprobe estimates the duration from the bit rate. */
  probeDurationToleranceSec?: number;
}

const FORMATS: Format[] = [
  { name: 'WAV', ext: 'wav', args: [], lossless: true, probe: { container: 'wav', codec: 'pcm_s16le' } },
  {
    name: 'MP3',
    ext: 'mp3',
    args: ['-c:a', 'libmp3lame', '-b:a', '128k'],
    probe: { container: 'mp3', codec: 'mp3' },
  },
  {
    name: 'Ogg Vorbis',
    ext: 'ogg',
    args: ['-c:a', 'libvorbis', '-q:a', '4'],
    probe: { container: 'ogg', codec: 'vorbis' },
  },
  {
    name: 'Opus',
    ext: 'opus',
    args: ['-c:a', 'libopus', '-b:a', '96k'],
    probe: { container: 'ogg', codec: 'opus', sampleRate: 48000 },
  },
  {
    name: 'FLAC',
    ext: 'flac',
    args: ['-c:a', 'flac'],
    lossless: true,
    probe: { container: 'flac', codec: 'flac' },
  },
  {
    name: 'AAC in M4A, moov at the end',
    ext: 'm4a',
    args: ['-c:a', 'aac', '-b:a', '128k'],
    probe: { codec: 'aac' },
  },
  {
    name: 'AAC in M4A, fast start',
    ext: 'm4a',
    args: ['-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart'],
    probe: { codec: 'aac' },
  },
  {
    name: 'AAC ADTS',
    ext: 'aac',
    args: ['-c:a', 'aac', '-b:a', '128k'],
    probe: { container: 'aac', codec: 'aac' },
    probeDurationToleranceSec: 1,
  },
  {
    name: 'MP4 video (H.264 + AAC)',
    ext: 'mp4',
    args: [...VIDEO, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac'],
    probe: { codec: 'aac', hasVideo: true },
  },
  {
    name: 'MKV video (H.264 + MP3)',
    ext: 'mkv',
    args: [...VIDEO, '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'libmp3lame'],
    probe: { container: 'matroska,webm', codec: 'mp3', hasVideo: true },
  },
  {
    name: 'WebM video (VP8 + Opus)',
    ext: 'webm',
    args: [
      ...VIDEO,
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-b:v',
      '30k',
      '-c:a',
      'libopus',
    ],
    probe: { container: 'matroska,webm', codec: 'opus', sampleRate: 48000, hasVideo: true },
  },
];

let source: string;
const files = new Map<string, string>();
let reference: Float32Array;

beforeAll(async () => {
  source = ensureSong(21, SONG_SEC);
  for (const f of FORMATS) files.set(f.name, f.ext === 'wav' ? source : ensureEncoded(source, f.ext, f.args));
  reference = await decodeAudioFile(source, { sampleRate: RATE, decoder: 'ffmpeg' });
});

function expectSameMusic(pcm: Float32Array, lossless: boolean | undefined): void {
  expect(Math.abs(pcm.length / RATE - SONG_SEC)).toBeLessThan(0.06);
  const excerpt = 3 * RATE; // enough to measure, cheap to search over lags
  const { r, lag } = bestCorrelation(pcm.subarray(0, excerpt), reference.subarray(0, excerpt), 400);
  expect(r).toBeGreaterThan(lossless ? 0.9999 : 0.9);
  expect(Math.abs(lag)).toBeLessThanOrEqual(lossless ? 0 : 200); // priming not removed costs < 25 ms
  expect(Math.abs(rmsDb(pcm) - rmsDb(reference))).toBeLessThan(1);
}

describe('decodeAudio with ffmpeg', () => {
  it('m4a test file really has its moov atom after the audio', () => {
    const bytes = readFileSync(files.get('AAC in M4A, moov at the end')!);
    expect(bytes.indexOf('moov')).toBeGreaterThan(bytes.indexOf('mdat'));
    const fast = readFileSync(files.get('AAC in M4A, fast start')!);
    expect(fast.indexOf('moov')).toBeLessThan(fast.indexOf('mdat'));
  });

  it.each(FORMATS.map((f) => [f.name, f] as const))('decodes %s', async (_, f) => {
    const warnings: string[] = [];
    const pcm = await decodeAudioFile(files.get(f.name)!, {
      sampleRate: RATE,
      decoder: 'ffmpeg',
      onWarning: (w) => warnings.push(w),
    });
    expectSameMusic(pcm, f.lossless);
    expect(warnings).toEqual([]);
  });

  it.each(FORMATS.map((f) => [f.name, f] as const))('probes %s', async (_, f) => {
    const info = await probeAudio(files.get(f.name)!);
    expect(info).toMatchObject({ channels: 2, sampleRate: 44100, hasVideo: false, ...f.probe });
    expect(Math.abs(info.durationSec! - SONG_SEC)).toBeLessThan(f.probeDurationToleranceSec ?? 0.1);
  });

  it('yields chunks of exactly chunkSamples, then the rest', async () => {
    const sizes: number[] = [];
    for await (const chunk of decodeAudio(files.get('MP3')!, { sampleRate: RATE, chunkSamples: 3000 }))
      sizes.push(chunk.length);
    expect(sizes.slice(0, -1).every((n) => n === 3000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b)).toBe(reference.length);
    expect(sizes.at(-1)).toBe(reference.length - 3000 * (sizes.length - 1));
  });

  it('decodes at other rates', async () => {
    const pcm = await decodeAudioFile(source, { sampleRate: 11025 });
    expect(pcm.length).toBe(SONG_SEC * 11025);
  });

  it('stops ffmpeg when the consumer breaks out early', async () => {
    let n = 0;
    for await (const _chunk of decodeAudio(files.get('FLAC')!, { sampleRate: RATE, chunkSamples: 800 })) {
      expect(childProcesses('ffmpeg').length).toBe(1);
      if (++n === 2) break;
    }
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('stops ffmpeg and rejects with AbortError when aborted', async () => {
    const ctl = new AbortController();
    let n = 0;
    const run = async () => {
      for await (const _chunk of decodeAudio(files.get('Opus')!, {
        sampleRate: RATE,
        chunkSamples: 800,
        signal: ctl.signal,
      })) {
        if (++n === 1) ctl.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(n).toBeLessThan(SONG_SEC * 10);
    expect(childProcesses('ffmpeg')).toEqual([]);
    // Already aborted: nothing starts.
    await expect(decodeAudioFile(source, { sampleRate: RATE, signal: ctl.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('rejects bad options with a clear message', async () => {
    await expect(decodeAudioFile(source, { sampleRate: 0 })).rejects.toThrow(
      /sampleRate must be a whole number/,
    );
    await expect(decodeAudioFile(source, { sampleRate: 8000, chunkSamples: 0.5 })).rejects.toThrow(
      /chunkSamples/,
    );
    await expect(decodeAudioFile(source, { sampleRate: 8000, decoder: 'sox' as 'ffmpeg' })).rejects.toThrow(
      /decoder must be/,
    );
  });
});

describe('decodeAudio with the web-audio fallback', () => {
  const FALLBACK = ['WAV', 'MP3', 'Ogg Vorbis', 'FLAC'];

  it.each(FALLBACK)('decodes %s like ffmpeg does', async (name) => {
    const viaWeb = await decodeAudioFile(files.get(name)!, { sampleRate: RATE, decoder: 'web-audio' });
    const viaFfmpeg = await decodeAudioFile(files.get(name)!, { sampleRate: RATE, decoder: 'ffmpeg' });
    expectSameMusic(viaWeb, name === 'WAV' || name === 'FLAC');
    // Same level (both average the channels) and the same timing (MP3 encoder delay removed).
    expect(Math.abs(rmsDb(viaWeb) - rmsDb(viaFfmpeg))).toBeLessThan(0.1);
    expect(Math.abs(viaWeb.length - viaFfmpeg.length)).toBeLessThanOrEqual(1);
    const { r, lag } = bestCorrelation(viaWeb, viaFfmpeg, 100);
    expect(lag).toBe(0);
    expect(r).toBeGreaterThan(0.999);
  });

  it.each(['Opus', 'AAC in M4A, moov at the end', 'MP4 video (H.264 + AAC)'])(
    'refuses %s with DECODER_MISSING naming ffmpeg',
    async (name) => {
      await expect(
        decodeAudioFile(files.get(name)!, { sampleRate: RATE, decoder: 'web-audio' }),
      ).rejects.toMatchObject({
        code: 'DECODER_MISSING',
        message: expect.stringMatching(/without ffmpeg.*apt-get install ffmpeg/),
      });
    },
  );

  it('yields fixed-size chunks and honours abort', async () => {
    const sizes: number[] = [];
    for await (const chunk of decodeAudio(files.get('FLAC')!, {
      sampleRate: RATE,
      chunkSamples: 5000,
      decoder: 'web-audio',
    })) {
      sizes.push(chunk.length);
    }
    expect(sizes.slice(0, -1).every((n) => n === 5000)).toBe(true);
    const ctl = new AbortController();
    const run = async () => {
      for await (const _chunk of decodeAudio(files.get('WAV')!, {
        sampleRate: RATE,
        chunkSamples: 800,
        decoder: 'web-audio',
        signal: ctl.signal,
      })) {
        ctl.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
  });
});
