/**
 * Bad input, each case made for real: missing, non-audio, empty, silent video, truncated, damaged,
 * unknown codec, ffmpeg missing or failing midway. Every error names the file and the problem.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AudioError,
  decodeAudio,
  decodeAudioFile,
  ffmpegAvailable,
  ffmpegPcm,
  probeAudio,
  type AudioErrorCode,
  type DecodeOptions,
} from '../src/audio/index.js';
import { childProcesses, ensureEncoded, ensureSong } from './helpers/catalogue.js';

const RATE = 8000;
const SONG_SEC = 8;
const DECODERS = ['ffmpeg', 'web-audio'] as const;

let dir: string;
let wav: string;
let mp3: string;
let flac: string;
const bad: Record<string, string> = {};

/** Sets or removes an environment variable (assigning undefined would store the string "undefined"). */
function setEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

function ff(...args: string[]): void {
  execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tyndau-audio-errors-'));
  wav = ensureSong(22, SONG_SEC);
  mp3 = ensureEncoded(wav, 'mp3', ['-c:a', 'libmp3lame', '-b:a', '128k']);
  flac = ensureEncoded(wav, 'flac', ['-c:a', 'flac']);
  const put = (name: string, data: string | Uint8Array): void => {
    bad[name] = join(dir, name);
    writeFileSync(bad[name], data);
  };
  put('notes.mp3', 'These are the programme notes for Friday, not a recording.\n');
  put(
    'page.mp3',
    '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not found</body></html>\n',
  );
  ff('-f', 'lavfi', '-i', 'testsrc=s=32x32:d=1', '-frames:v', '1', join(dir, 'cover.png'));
  put('cover.mp3', readFileSync(join(dir, 'cover.png')));
  put('empty.mp3', '');
  // Binary that no sniffing rule knows: only ffmpeg's own verdict can classify it.
  put(
    'noise.mp3',
    Uint8Array.from({ length: 20000 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff),
  );
  ff(
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=10:d=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    join(dir, 'silent-video.mp4'),
  );
  bad['silent-video.mp4'] = join(dir, 'silent-video.mp4');
  const mp3Bytes = readFileSync(mp3);
  put('truncated.mp3', mp3Bytes.subarray(0, Math.floor(mp3Bytes.length * 0.4)));
  const flacBytes = readFileSync(flac);
  put('truncated.flac', flacBytes.subarray(0, Math.floor(flacBytes.length * 0.4)));
  const half = Math.floor(mp3Bytes.length / 2);
  const garbage = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7919) & 0xff);
  put('garbage-inside.mp3', Buffer.concat([mp3Bytes.subarray(0, half), garbage, mp3Bytes.subarray(half)]));
  // A WAV whose format tag (0x7777) no decoder knows.
  const unknownCodec = Buffer.from(readFileSync(wav));
  unknownCodec.writeUInt16LE(0x7777, unknownCodec.indexOf('fmt ') + 8);
  put('unknown-codec.wav', unknownCodec);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(path: string, opts: Partial<DecodeOptions> = {}): Promise<AudioError> {
  try {
    await decodeAudioFile(path, { sampleRate: RATE, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(AudioError);
    return err as AudioError;
  }
  throw new Error(`decoding ${path} did not fail`);
}

function expectError(err: AudioError, code: AudioErrorCode, path: string, words: RegExp): void {
  expect(err.code).toBe(code);
  expect(err.path).toBe(path);
  expect(err.message).toContain(JSON.stringify(path));
  expect(err.message).toMatch(words);
}

describe.each(DECODERS)('with the %s decoder', (decoder) => {
  it('a missing file is FILE_NOT_FOUND', async () => {
    const path = join(dir, 'no-such-song.mp3');
    expectError(await failure(path, { decoder }), 'FILE_NOT_FOUND', path, /no such file/);
  });

  it.each([
    ['notes.mp3', /text file/],
    ['page.mp3', /HTML document/],
    ['cover.mp3', /PNG image/],
    ['noise.mp3', /not an audio/],
  ])('%s is NOT_AUDIO', async (name, words) => {
    expectError(await failure(bad[name], { decoder }), 'NOT_AUDIO', bad[name], words);
  });

  it('a directory is NOT_AUDIO', async () => {
    expectError(await failure(dir, { decoder }), 'NOT_AUDIO', dir, /directory/);
  });

  it('a zero-length file is EMPTY', async () => {
    expectError(await failure(bad['empty.mp3'], { decoder }), 'EMPTY', bad['empty.mp3'], /empty \(0 bytes\)/);
  });

  it('an unknown codec is UNSUPPORTED_CODEC', async () => {
    const path = bad['unknown-codec.wav'];
    expectError(await failure(path, { decoder }), 'UNSUPPORTED_CODEC', path, /unsupported/);
  });

  it.each(['truncated.mp3', 'truncated.flac'])('%s decodes what is there and warns', async (name) => {
    const warnings: string[] = [];
    const pcm = await decodeAudioFile(bad[name], {
      sampleRate: RATE,
      decoder,
      onWarning: (w) => warnings.push(w),
    });
    // 40 % of the bytes: roughly 40 % of the music (FLAC frames differ in size).
    expect(pcm.length / RATE).toBeGreaterThan(0.25 * SONG_SEC);
    expect(pcm.length / RATE).toBeLessThan(0.6 * SONG_SEC);
    expect(warnings.join('\n')).toMatch(/looks truncated: decoded \d+\.\d s of the 8\.\d s/);
    expect(warnings.every((w) => w.includes(JSON.stringify(bad[name])))).toBe(true);
  });

  it('garbage in the middle of an MP3 is skipped', async () => {
    const warnings: string[] = [];
    const pcm = await decodeAudioFile(bad['garbage-inside.mp3'], {
      sampleRate: RATE,
      decoder,
      onWarning: (w) => warnings.push(w),
    });
    expect(Math.abs(pcm.length / RATE - SONG_SEC)).toBeLessThan(0.3);
    // ffmpeg reports the damage; the web-audio decoder skips it silently (see docs/audio.md).
    if (decoder === 'ffmpeg')
      expect(warnings.join('\n')).toMatch(/corrupt data near \d+\.\d s .*kept decoding/);
  });
});

describe('ffmpeg-only cases', () => {
  it('a video without an audio track is EMPTY', async () => {
    const path = bad['silent-video.mp4'];
    expectError(await failure(path), 'EMPTY', path, /no audio track \(it has video h264\)/);
    await expect(probeAudio(path)).rejects.toMatchObject({
      code: 'EMPTY',
      message: expect.stringMatching(/no audio track/),
    });
  });

  it('probe names the same problems', async () => {
    await expect(probeAudio(bad['notes.mp3'])).rejects.toMatchObject({ code: 'NOT_AUDIO' });
    await expect(probeAudio(bad['noise.mp3'])).rejects.toMatchObject({ code: 'NOT_AUDIO' });
    await expect(probeAudio(bad['empty.mp3'])).rejects.toMatchObject({ code: 'EMPTY' });
    await expect(probeAudio(join(dir, 'missing.ogg'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it('ffmpeg failing after some audio is a warning, with the audio kept', async () => {
    // A wrapper that makes ffmpeg stop at the first decoding error (-xerror), exit status 1.
    const wrapper = join(dir, 'ffmpeg-xerror');
    writeFileSync(wrapper, '#!/bin/sh\nexec ffmpeg -xerror "$@"\n');
    chmodSync(wrapper, 0o755);
    const saved = process.env.TYNDAU_FFMPEG;
    process.env.TYNDAU_FFMPEG = wrapper;
    try {
      const warnings: string[] = [];
      const pcm = await decodeAudioFile(bad['garbage-inside.mp3'], {
        sampleRate: RATE,
        onWarning: (w) => warnings.push(w),
      });
      expect(pcm.length / RATE).toBeGreaterThan(0.3 * SONG_SEC);
      expect(pcm.length / RATE).toBeLessThan(0.7 * SONG_SEC);
      expect(warnings.join('\n')).toMatch(
        /ffmpeg stopped with an error after \d+\.\d s .*kept the audio decoded so far/,
      );
    } finally {
      setEnv('TYNDAU_FFMPEG', saved);
    }
  });

  it('ffmpegPcm reports a stream that cannot be opened, and never hangs', async () => {
    const stream = ffmpegPcm({ input: 'http://127.0.0.1:1/live.mp3', sampleRate: RATE });
    const read = async () => {
      for await (const _chunk of stream) throw new Error('no audio expected');
    };
    await expect(read()).rejects.toMatchObject({
      code: 'DECODE_FAILED',
      message: expect.stringMatching(/Connection refused/),
    });
    const exit = await stream.exit;
    expect(exit.code).not.toBe(0);
    expect(exit.samples).toBe(0);
    expect(exit.error?.code).toBe('DECODE_FAILED');
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('ffmpegPcm ends normally when ffmpeg fails midway, and says so in exit', async () => {
    const stream = ffmpegPcm({
      input: bad['garbage-inside.mp3'],
      outputArgs: ['-xerror'],
      sampleRate: RATE,
      logLevel: 'level+info',
    });
    let samples = 0;
    for await (const chunk of stream) samples += chunk.length;
    const exit = await stream.exit;
    expect(samples).toBeGreaterThan(0);
    expect(exit).toMatchObject({ code: 1, samples, stoppedByUs: false });
    expect(exit.error).toBeInstanceOf(AudioError);
    expect(exit.header?.streams[0]).toMatchObject({ type: 'Audio', codec: 'mp3' });
  });

  it('ffmpegPcm reports a stop by the consumer in exit', async () => {
    const stream = ffmpegPcm({ input: `file:${wav}`, sampleRate: RATE, chunkSamples: 100 });
    for await (const _chunk of stream) break;
    const exit = await stream.exit;
    expect(exit).toMatchObject({ stoppedByUs: true, samples: 100, error: null });
    expect(childProcesses('ffmpeg')).toEqual([]);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/only once/);
  });
});

describe('without ffmpeg', () => {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.TYNDAU_FFMPEG;
    process.env.TYNDAU_FFMPEG = join(dir, 'not-installed', 'ffmpeg');
  });
  afterAll(() => setEnv('TYNDAU_FFMPEG', saved));

  it('is detected', () => {
    expect(ffmpegAvailable()).toBe(false);
  });

  it('decodes WAV, MP3, Ogg Vorbis and FLAC with the fallback', async () => {
    for (const path of [wav, mp3, flac, ensureEncoded(wav, 'ogg', ['-c:a', 'libvorbis', '-q:a', '4'])]) {
      const pcm = await decodeAudioFile(path, { sampleRate: RATE });
      expect(Math.abs(pcm.length / RATE - SONG_SEC)).toBeLessThan(0.01);
    }
  });

  it('gives DECODER_MISSING, naming ffmpeg and how to install it, for formats that need it', async () => {
    const opus = ensureEncoded(wav, 'opus', ['-c:a', 'libopus', '-b:a', '96k']);
    const m4a = ensureEncoded(wav, 'm4a', ['-c:a', 'aac', '-b:a', '128k']);
    for (const path of [opus, m4a]) {
      expectError(
        await failure(path),
        'DECODER_MISSING',
        path,
        /without ffmpeg.*install ffmpeg \(Debian\/Ubuntu: apt-get install ffmpeg/,
      );
    }
    expectError(await failure(wav, { decoder: 'ffmpeg' }), 'DECODER_MISSING', wav, /ffmpeg is not installed/);
    const stream = ffmpegPcm({ input: wav, sampleRate: RATE });
    await expect(stream[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'DECODER_MISSING' });
  });

  it('still probes WAV, FLAC and MP3 from their headers', async () => {
    expect(await probeAudio(wav)).toMatchObject({
      container: 'wav',
      codec: 'pcm',
      channels: 2,
      sampleRate: 44100,
      durationSec: SONG_SEC,
    });
    expect(await probeAudio(flac)).toMatchObject({
      container: 'flac',
      codec: 'flac',
      sampleRate: 44100,
      durationSec: SONG_SEC,
    });
    const info = await probeAudio(mp3);
    expect(info).toMatchObject({ container: 'mp3', codec: 'mp3', channels: 2, sampleRate: 44100 });
    expect(Math.abs(info.durationSec! - SONG_SEC)).toBeLessThan(0.1);
  });
});

describe('decodeAudio is lazy', () => {
  it('does nothing until iterated', async () => {
    const it = decodeAudio(join(dir, 'never-read.mp3'), { sampleRate: RATE });
    expect(childProcesses('ffmpeg')).toEqual([]);
    await expect(it[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
