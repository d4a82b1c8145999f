/**
 * Recognises a file from its first bytes: the common audio containers (with the native sample rate and
 * announced length where the header gives them) and the usual things that are not audio. Pure: no I/O.
 * Used to reject non-audio before spawning a decoder, to pick the fallback decoder's native rate, and to
 * notice truncated files (decoded fewer frames than the header announces).
 */

export type SniffedKind =
  /** An audio-only container we can describe. */
  | 'audio'
  /** A container that may carry audio beside video (mp4, matroska, avi, mpeg-ts, ...). */
  | 'media'
  /** Certainly not audio: text, an image, an archive, a program, MIDI. */
  | 'not-audio'
  /** Binary data we do not recognise: let the decoder decide. */
  | 'unknown';

export interface Sniffed {
  kind: SniffedKind;
  /** 'wav', 'flac', 'ogg-vorbis', 'ogg-opus', 'ogg-flac', 'mp3', 'aac-adts', 'mp4', 'matroska', 'png', 'text', ... */
  format: string;
  /** Words for messages: 'an MP3 file', 'a PNG image', 'an HTML document'. */
  description: string;
  sampleRate?: number;
  channels?: number;
  /** Samples per channel the header announces (WAV data size, FLAC STREAMINFO, MP3 Xing/Info frame count). */
  declaredFrames?: number;
  /** WAV only: the format tag (1 = PCM, 3 = float, 0x11 = IMA ADPCM, ...). */
  wavFormatTag?: number;
  /**
   * MP3 with a LAME/Lavc tag: samples a gapless decoder drops at the start (encoder delay + the
   * decoder's 529) and at the end (padding - 529), as ffmpeg does.
   */
  gaplessTrim?: { startFrames: number; endFrames: number };
}

/** MP3 layer III decoders output this many samples before the first real one. */
const MP3_DECODER_DELAY = 529;

function ascii(b: Uint8Array, offset: number, length: number): string {
  if (offset + length > b.length) return '';
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(b[offset + i]);
  return s;
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

const NOT_AUDIO_MAGIC: { magic: number[]; at?: number; format: string; description: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47], format: 'png', description: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], format: 'jpeg', description: 'a JPEG image' },
  { magic: [0x47, 0x49, 0x46, 0x38], format: 'gif', description: 'a GIF image' },
  { magic: [0x25, 0x50, 0x44, 0x46], format: 'pdf', description: 'a PDF document' },
  { magic: [0x50, 0x4b, 0x03, 0x04], format: 'zip', description: 'a ZIP archive (or an office document)' },
  { magic: [0x1f, 0x8b], format: 'gzip', description: 'a gzip archive' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], format: '7z', description: 'a 7-Zip archive' },
  { magic: [0x7f, 0x45, 0x4c, 0x46], format: 'elf', description: 'a program (ELF executable)' },
  { magic: [0x4d, 0x5a], format: 'exe', description: 'a Windows program' },
  { magic: [0x49, 0x49, 0x2a, 0x00], format: 'tiff', description: 'a TIFF image' },
  { magic: [0x4d, 0x4d, 0x00, 0x2a], format: 'tiff', description: 'a TIFF image' },
  {
    magic: [0x4d, 0x54, 0x68, 0x64],
    format: 'midi',
    description: 'a MIDI file (note data, not recorded audio)',
  },
  {
    magic: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66],
    format: 'sqlite',
    description: 'an SQLite database',
  },
];

function startsWith(b: Uint8Array, magic: number[], at = 0): boolean {
  if (b.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[at + i] !== magic[i]) return false;
  return true;
}

/** Text if no control bytes other than tab, newline, form feed, carriage return and escape. */
function sniffText(b: Uint8Array): Sniffed | null {
  const n = Math.min(b.length, 4096);
  if (n === 0) return null;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c < 0x09 || (c > 0x0d && c < 0x20 && c !== 0x1b)) return null;
  }
  const start = ascii(b, 0, Math.min(n, 512))
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
    .toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || /<(head|body)[\s>]/.test(start)) {
    return { kind: 'not-audio', format: 'html', description: 'an HTML document' };
  }
  if (start.startsWith('<?xml') || start.startsWith('<svg')) {
    return { kind: 'not-audio', format: 'xml', description: 'an XML document' };
  }
  if (start.startsWith('#extm3u') || start.startsWith('[playlist]')) {
    return { kind: 'not-audio', format: 'playlist', description: 'a playlist (a text file listing streams)' };
  }
  if (start.startsWith('{') || start.startsWith('[')) {
    return { kind: 'not-audio', format: 'json', description: 'a JSON or other text file' };
  }
  return { kind: 'not-audio', format: 'text', description: 'a text file' };
}

function sniffWav(b: Uint8Array): Sniffed {
  const s: Sniffed = { kind: 'audio', format: 'wav', description: 'a WAV file' };
  const is64 = ascii(b, 0, 4) === 'RF64';
  let offset = 12;
  let blockAlign = 0;
  while (offset + 8 <= b.length) {
    const id = ascii(b, offset, 4);
    const size = u32le(b, offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= b.length) {
      let tag = u16le(b, body);
      if (tag === 0xfffe && body + 26 <= b.length) tag = u16le(b, body + 24);
      s.wavFormatTag = tag;
      s.channels = u16le(b, body + 2);
      s.sampleRate = u32le(b, body + 4);
      blockAlign = u16le(b, body + 12);
    } else if (id === 'data') {
      // Streamed WAVs (written to a pipe) leave the size at 0 or 0xFFFFFFFF: length unknown.
      if (!is64 && blockAlign > 0 && size !== 0 && size !== 0xffffffff) {
        s.declaredFrames = Math.floor(size / blockAlign);
      }
      break;
    }
    offset = body + size + (size & 1);
  }
  return s;
}

function sniffFlacStreamInfo(
  b: Uint8Array,
  at: number,
): Pick<Sniffed, 'sampleRate' | 'channels' | 'declaredFrames'> {
  // at points at the STREAMINFO body: 2+2 block sizes, 3+3 frame sizes, then 20 bits of rate,
  // 3 bits channels - 1, 5 bits bits-per-sample - 1, 36 bits of total samples.
  const o = at + 10;
  if (o + 8 > b.length) return {};
  const sampleRate = (b[o] << 12) | (b[o + 1] << 4) | (b[o + 2] >> 4);
  const channels = ((b[o + 2] >> 1) & 7) + 1;
  const total = (b[o + 3] & 0x0f) * 2 ** 32 + u32be(b, o + 4);
  return { sampleRate, channels, declaredFrames: total > 0 ? total : undefined };
}

function sniffOgg(b: Uint8Array): Sniffed {
  const segments = b[26] ?? 0;
  const p = 27 + segments;
  if (ascii(b, p + 1, 6) === 'vorbis' && b[p] === 1) {
    return {
      kind: 'audio',
      format: 'ogg-vorbis',
      description: 'an Ogg Vorbis file',
      channels: b[p + 11],
      sampleRate: u32le(b, p + 12),
    };
  }
  if (ascii(b, p, 8) === 'OpusHead') {
    return {
      kind: 'audio',
      format: 'ogg-opus',
      description: 'an Ogg Opus file',
      channels: b[p + 9],
      sampleRate: 48000,
    };
  }
  if (b[p] === 0x7f && ascii(b, p + 1, 4) === 'FLAC') {
    return {
      kind: 'audio',
      format: 'ogg-flac',
      description: 'an Ogg FLAC file',
      ...sniffFlacStreamInfo(b, p + 17),
    };
  }
  if (ascii(b, p, 8) === 'Speex   ')
    return { kind: 'audio', format: 'ogg-speex', description: 'an Ogg Speex file' };
  if (ascii(b, p + 1, 6) === 'theora')
    return { kind: 'media', format: 'ogg-theora', description: 'an Ogg video' };
  return { kind: 'media', format: 'ogg', description: 'an Ogg file' };
}

const MP3_RATES = [
  [11025, 12000, 8000], // MPEG 2.5
  [0, 0, 0],
  [22050, 24000, 16000], // MPEG 2
  [44100, 48000, 32000], // MPEG 1
];
const KBPS_V1 = [
  [], // layer index 0 is reserved
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // layer III
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // layer II
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // layer I
];
const KBPS_V2 = [
  [],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
];

export interface MpegFrameHeader {
  sampleRate: number;
  channels: number;
  frameBytes: number;
  samplesPerFrame: number;
  /** Offset of the Xing/Info tag inside the frame. */
  sideInfoEnd: number;
}

/** Parses an MPEG audio (layer I/II/III) frame header at offset; null when it is not one. */
export function parseMpegFrameHeader(b: Uint8Array, o: number): MpegFrameHeader | null {
  if (o + 4 > b.length || b[o] !== 0xff || (b[o + 1] & 0xe0) !== 0xe0) return null;
  const version = (b[o + 1] >> 3) & 3;
  const layerBits = (b[o + 1] >> 1) & 3;
  const bitrateIndex = b[o + 2] >> 4;
  const rateIndex = (b[o + 2] >> 2) & 3;
  if (version === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3)
    return null;
  const sampleRate = MP3_RATES[version][rateIndex];
  const kbps = (version === 3 ? KBPS_V1 : KBPS_V2)[layerBits][bitrateIndex];
  const padding = (b[o + 2] >> 1) & 1;
  const mono = b[o + 3] >> 6 === 3;
  let frameBytes: number;
  let samplesPerFrame: number;
  if (layerBits === 3) {
    frameBytes = (Math.floor((12 * kbps * 1000) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layerBits === 2 || version === 3) {
    frameBytes = Math.floor((144 * kbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameBytes = Math.floor((72 * kbps * 1000) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  const sideInfo = version === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  return { sampleRate, channels: mono ? 1 : 2, frameBytes, samplesPerFrame, sideInfoEnd: 4 + sideInfo };
}

/** Some encoders leave padding or junk between the ID3 tag and the first frame: look a little further. */
function scanForMp3(b: Uint8Array, from: number): Sniffed | null {
  const end = Math.min(b.length - 4, from + 65536);
  for (let o = from; o < end; o++) {
    if (b[o] === 0xff) {
      const s = sniffMp3At(b, o, true);
      if (s) return s;
    }
  }
  return null;
}

/** Length of an ID3v2 tag at offset (0 when there is none). */
function id3Length(b: Uint8Array, o: number): number {
  if (ascii(b, o, 3) !== 'ID3' || o + 10 > b.length) return 0;
  const size =
    ((b[o + 6] & 0x7f) << 21) | ((b[o + 7] & 0x7f) << 14) | ((b[o + 8] & 0x7f) << 7) | (b[o + 9] & 0x7f);
  return 10 + size + (b[o + 5] & 0x10 ? 10 : 0);
}

function sniffMp3At(b: Uint8Array, o: number, requireNext: boolean): Sniffed | null {
  const h = parseMpegFrameHeader(b, o);
  if (!h) return null;
  // A lone sync word happens by chance; two frames in a row do not.
  const next = o + h.frameBytes;
  if (requireNext && next + 4 <= b.length && !parseMpegFrameHeader(b, next)) return null;
  const s: Sniffed = {
    kind: 'audio',
    format: 'mp3',
    description: 'an MP3 file',
    sampleRate: h.sampleRate,
    channels: h.channels,
  };
  const tag = ascii(b, o + h.sideInfoEnd, 4);
  if ((tag === 'Xing' || tag === 'Info') && o + h.sideInfoEnd + 12 <= b.length) {
    const x = o + h.sideInfoEnd;
    const flags = u32be(b, x + 4);
    if (flags & 1) s.declaredFrames = u32be(b, x + 8) * h.samplesPerFrame;
    // Optional fields: frames, bytes, 100-byte TOC, quality; then the LAME extension, whose bytes
    // 21-23 hold 12 bits of encoder delay and 12 bits of padding.
    const lame =
      x + 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
    if (/^(LAME|Lavc|Lavf|L3.99|GOGO)/.test(ascii(b, lame, 4)) && lame + 24 <= b.length) {
      const delay = (b[lame + 21] << 4) | (b[lame + 22] >> 4);
      const padding = ((b[lame + 22] & 0x0f) << 8) | b[lame + 23];
      s.gaplessTrim = {
        startFrames: delay + MP3_DECODER_DELAY,
        endFrames: Math.max(0, padding - MP3_DECODER_DELAY),
      };
    }
  }
  return s;
}

/** Identifies the data from its first bytes (4 KB is plenty; pass the whole file for rates behind big tags). */
export function sniffMedia(b: Uint8Array): Sniffed {
  if (b.length === 0) return { kind: 'unknown', format: 'empty', description: 'an empty file' };
  const tag4 = ascii(b, 0, 4);
  const form = ascii(b, 8, 4);
  if ((tag4 === 'RIFF' || tag4 === 'RF64') && form === 'WAVE') return sniffWav(b);
  if (tag4 === 'RIFF' && form === 'WEBP')
    return { kind: 'not-audio', format: 'webp', description: 'a WebP image' };
  if (tag4 === 'RIFF' && form === 'AVI ')
    return { kind: 'media', format: 'avi', description: 'an AVI video' };
  if (tag4 === 'FORM' && (form === 'AIFF' || form === 'AIFC')) {
    return { kind: 'audio', format: 'aiff', description: 'an AIFF file' };
  }
  if (tag4 === 'OggS') return sniffOgg(b);
  if (tag4 === 'caff') return { kind: 'audio', format: 'caf', description: 'a Core Audio file' };
  if (tag4 === '.snd') return { kind: 'audio', format: 'au', description: 'an AU file' };
  if (ascii(b, 0, 5) === '#!AMR') return { kind: 'audio', format: 'amr', description: 'an AMR file' };
  if (ascii(b, 4, 4) === 'ftyp') return { kind: 'media', format: 'mp4', description: 'an MP4/M4A file' };
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) {
    return { kind: 'media', format: 'matroska', description: 'a Matroska/WebM file' };
  }
  if (startsWith(b, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) {
    return { kind: 'media', format: 'asf', description: 'a Windows Media file' };
  }
  if (b.length > 376 && b[0] === 0x47 && b[188] === 0x47 && b[376] === 0x47) {
    return { kind: 'media', format: 'mpeg-ts', description: 'an MPEG transport stream' };
  }
  if (startsWith(b, [0x00, 0x00, 0x01, 0xba])) {
    return { kind: 'media', format: 'mpeg-ps', description: 'an MPEG program stream' };
  }
  const skip = id3Length(b, 0);
  if (ascii(b, skip, 4) === 'fLaC') {
    return { kind: 'audio', format: 'flac', description: 'a FLAC file', ...sniffFlacStreamInfo(b, skip + 8) };
  }
  if (skip > 0) {
    // An ID3 tag fronts MP3 (and sometimes AAC); the frame may lie beyond the bytes we were given.
    return (
      sniffMp3At(b, skip, false) ??
      scanForMp3(b, skip) ??
      (b[skip] === 0xff && (b[skip + 1] & 0xf6) === 0xf0
        ? { kind: 'audio', format: 'aac-adts', description: 'an AAC (ADTS) file' }
        : { kind: 'audio', format: 'mp3', description: 'an MP3 file' })
    );
  }
  if (b[0] === 0xff && (b[1] & 0xf6) === 0xf0) {
    return { kind: 'audio', format: 'aac-adts', description: 'an AAC (ADTS) file' };
  }
  if (startsWith(b, [0x0b, 0x77])) return { kind: 'audio', format: 'ac3', description: 'an AC-3 file' };
  const mp3 = sniffMp3At(b, 0, true);
  if (mp3) return mp3;
  for (const m of NOT_AUDIO_MAGIC) {
    if (startsWith(b, m.magic, m.at))
      return { kind: 'not-audio', format: m.format, description: m.description };
  }
  return sniffText(b) ?? { kind: 'unknown', format: 'unknown', description: 'an unrecognised binary file' };
}

/**
 * The granule position of the last Ogg page: for Vorbis, the number of samples per channel the
 * stream holds (the last packet is padded; decoders trim to this). Null when not found.
 */
export function oggLastGranule(b: Uint8Array): number | null {
  const from = Math.max(0, b.length - 65536);
  for (let o = b.length - 27; o >= from; o--) {
    if (b[o] === 0x4f && b[o + 1] === 0x67 && b[o + 2] === 0x67 && b[o + 3] === 0x53 && b[o + 4] === 0) {
      const low = u32le(b, o + 6);
      const high = u32le(b, o + 10);
      if (high === 0xffffffff) continue; // -1: no packet ends on this page
      return high * 2 ** 32 + low;
    }
  }
  return null;
}
