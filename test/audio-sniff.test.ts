import { describe, expect, it } from 'vitest';
import { encodeWav } from '../scripts/synth/wav.js';
import {
  classifyFailure,
  parseInputHeader,
  parseLogLine,
  type FfmpegLogLine,
} from '../src/audio/ffmpeg-log.js';
import { parseMpegFrameHeader, sniffMedia } from '../src/audio/sniff.js';

const bytes = (...xs: (number | string)[]): Uint8Array =>
  Uint8Array.from(xs.flatMap((x) => (typeof x === 'string' ? Array.from(Buffer.from(x, 'latin1')) : [x])));

describe('sniffMedia', () => {
  it('reads rate, channels and length from a WAV header', () => {
    const wav = encodeWav([new Float32Array(1234), new Float32Array(1234)], 22050);
    expect(sniffMedia(wav.subarray(0, 4096))).toMatchObject({
      kind: 'audio',
      format: 'wav',
      sampleRate: 22050,
      channels: 2,
      declaredFrames: 1234,
      wavFormatTag: 1,
    });
  });

  it('reads FLAC STREAMINFO', () => {
    // fLaC, STREAMINFO header (last block, 34 bytes), block sizes 4096, frame sizes 0,
    // then 44100 Hz, 2 channels, 16 bits, 441000 samples.
    const rateBits = 44100 << 12; // 20 bits of rate, 3 of channels-1, 5 of bps-1 (+ 4 high bits of total)
    const packed = rateBits | (1 << 9) | (15 << 4);
    const info = bytes(
      'fLaC',
      0x80,
      0,
      0,
      34,
      0x10,
      0,
      0x10,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      (packed >>> 24) & 0xff,
      (packed >>> 16) & 0xff,
      (packed >>> 8) & 0xff,
      packed & 0xff,
      0x00,
      0x06,
      0xba,
      0xa8,
      ...new Array(16).fill(0),
    );
    expect(sniffMedia(info)).toMatchObject({
      format: 'flac',
      sampleRate: 44100,
      channels: 2,
      declaredFrames: 441000,
    });
  });

  it('parses MPEG audio frame headers', () => {
    // MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding, joint stereo.
    const h = parseMpegFrameHeader(bytes(0xff, 0xfb, 0x90, 0x44), 0);
    expect(h).toMatchObject({ sampleRate: 44100, channels: 2, frameBytes: 417, samplesPerFrame: 1152 });
    // MPEG-2 layer III, 64 kb/s, 22.05 kHz, mono.
    expect(parseMpegFrameHeader(bytes(0xff, 0xf3, 0x80, 0xc0), 0)).toMatchObject({
      sampleRate: 22050,
      channels: 1,
      samplesPerFrame: 576,
    });
    expect(parseMpegFrameHeader(bytes(0xff, 0xfb, 0xf0, 0x44), 0)).toBeNull(); // bad bit rate index
    expect(parseMpegFrameHeader(bytes(0xff, 0xf1, 0x50, 0x80), 0)).toBeNull(); // AAC ADTS, not MPEG audio
  });

  it('recognises an MP3 only when two frames follow each other', () => {
    const frame = new Uint8Array(417);
    frame.set([0xff, 0xfb, 0x90, 0x44]);
    const two = new Uint8Array(834 + 4);
    two.set(frame);
    two.set(frame, 417);
    expect(sniffMedia(two)).toMatchObject({ kind: 'audio', format: 'mp3', sampleRate: 44100 });
    const lone = new Uint8Array(2000);
    lone.set(frame.subarray(0, 4));
    lone[600] = 0x01;
    expect(sniffMedia(lone).format).not.toBe('mp3');
  });

  it('recognises containers that may carry audio', () => {
    expect(sniffMedia(bytes(0, 0, 0, 0x20, 'ftypM4A ')).format).toBe('mp4');
    expect(sniffMedia(bytes(0x1a, 0x45, 0xdf, 0xa3, 0x9f)).format).toBe('matroska');
    expect(sniffMedia(bytes(0xff, 0xf1, 0x50, 0x80, 0x02)).format).toBe('aac-adts');
    expect(sniffMedia(bytes('ID3', 4, 0, 0, 0, 0, 0, 0)).format).toBe('mp3');
  });

  it('names things that are not audio', () => {
    const cases: [Uint8Array, string][] = [
      [bytes(0x89, 'PNG\r\n', 0x1a, '\n'), 'a PNG image'],
      [bytes(0xff, 0xd8, 0xff, 0xe0), 'a JPEG image'],
      [bytes('%PDF-1.7\n'), 'a PDF document'],
      [bytes('PK', 3, 4, 20, 0), 'a ZIP archive (or an office document)'],
      [bytes('<!DOCTYPE html><html><body>404</body></html>'), 'an HTML document'],
      [bytes('  <html lang="kk"><head>'), 'an HTML document'],
      [bytes('#EXTM3U\n#EXTINF:-1,Radio\nhttp://x/stream\n'), 'a playlist (a text file listing streams)'],
      [bytes('title,isrc\nSong,KZ-ABC-25-00001\n'), 'a text file'],
      [bytes('MThd', 0, 0, 0, 6), 'a MIDI file (note data, not recorded audio)'],
    ];
    for (const [b, description] of cases)
      expect(sniffMedia(b)).toMatchObject({ kind: 'not-audio', description });
  });

  it('leaves unrecognised binary to the decoder', () => {
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
    expect(sniffMedia(noise).kind).toBe('unknown');
    expect(sniffMedia(new Uint8Array(0)).format).toBe('empty');
  });
});

function log(text: string): FfmpegLogLine[] {
  let previous: FfmpegLogLine['level'] = 'info';
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const line = parseLogLine(l, previous);
      previous = line.level;
      return line;
    });
}

// Real stderr of ffmpeg 5.1 run with -loglevel level+info.
const FLAC_HEADER = `[info] Input #0, flac, from 'trunc.flac':
[info]   Metadata:
[info]     encoder         : Lavf59.27.100
[info]   Duration: 00:00:05.00, start: 0.000000, bitrate: 32 kb/s
[info]   Stream #0:0: Audio: flac, 22050 Hz, stereo, s16
[info] Stream mapping:
[info]   Stream #0:0 -> #0:0 (flac (native) -> pcm_f32le (native))
[flac @ 0x55d2d201fbc0] [error] invalid residual`;

const NO_AUDIO = `[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'noaudio.mp4':
[info]   Duration: 00:00:02.00, start: 0.000000, bitrate: 20 kb/s
[info]   Stream #0:0[0x1](und): Video: h264 (High 4:4:4 Predictive) (avc1 / 0x31637661), yuv444p(progressive), 64x48 [SAR 1:1 DAR 4:3], 14 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
[fatal] Stream map '0:a:0' matches no streams.
To ignore this, add a trailing '?' to the map.`;

const UNKNOWN_CODEC = `[wav @ 0x55c5da7e8940] [warning] Could not find codec parameters for stream 0 (Audio: none (ww[0][0] / 0x7777), 22050 Hz, 2 channels, 705 kb/s): unknown codec
Consider increasing the value for the 'analyzeduration' (0) and 'probesize' (5000000) options
[info] Input #0, wav, from 'unk.wav':
[info]   Duration: 00:00:05.00, bitrate: 705 kb/s
[info]   Stream #0:0: Audio: none (ww[0][0] / 0x7777), 22050 Hz, stereo, 705 kb/s
[info] Stream mapping:
[error] Decoder (codec none) not found for input stream #0:0`;

describe('ffmpeg log', () => {
  it('parses levels, components and continuation lines', () => {
    const lines = log(UNKNOWN_CODEC);
    expect(lines[0]).toMatchObject({ level: 'warning', component: 'wav' });
    expect(lines[1]).toMatchObject({ level: 'warning', component: '' }); // continuation
    expect(lines[2]).toMatchObject({ level: 'info', text: "Input #0, wav, from 'unk.wav':" });
  });

  it('reads the input header', () => {
    expect(parseInputHeader(log(FLAC_HEADER))).toEqual({
      container: 'flac',
      durationSec: 5,
      bitRateBps: 32000,
      streams: [
        {
          type: 'Audio',
          codec: 'flac',
          description: 'flac, 22050 Hz, stereo, s16',
          sampleRate: 22050,
          channels: 2,
        },
      ],
    });
    const aac = parseInputHeader(
      log(`[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.m4a':
[info]   Duration: 01:02:03.50, start: 0.000000, bitrate: 130 kb/s
[info]   Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 44100 Hz, 5.1, fltp, 128 kb/s (default)`),
    );
    expect(aac?.durationSec).toBeCloseTo(3723.5, 6);
    expect(aac?.streams[0]).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 6 });
    expect(parseInputHeader(log('[error] x.mp3: Invalid argument'))).toBeNull();
  });

  it('classifies failures', () => {
    const classify = (text: string, input = 'x') => {
      const lines = log(text);
      return classifyFailure({ input, lines, header: parseInputHeader(lines) }).code;
    };
    expect(classify(NO_AUDIO)).toBe('EMPTY');
    expect(classify(UNKNOWN_CODEC)).toBe('UNSUPPORTED_CODEC');
    expect(classify('[error] x: No such file or directory')).toBe('FILE_NOT_FOUND');
    expect(classify('[error] rnd.bin: Invalid data found when processing input')).toBe('NOT_AUDIO');
    expect(classify('[error] /etc: Is a directory')).toBe('NOT_AUDIO');
    expect(
      classify(
        '[tcp @ 0x55cce3064fc0] [error] Connection to tcp://127.0.0.1:9 failed: Connection refused\n[error] http://127.0.0.1:9/x.mp3: Connection refused',
        'http://127.0.0.1:9/x.mp3',
      ),
    ).toBe('DECODE_FAILED');
    expect(
      classify(
        `${FLAC_HEADER}\n[error] Error while decoding stream #0:0: Invalid data found when processing input`,
      ),
    ).toBe('CORRUPT');
  });
});
