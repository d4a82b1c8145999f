/**
 * Reads ffmpeg's stderr (run with `-loglevel level+info`, so every line carries its level) and turns it
 * into facts: the input's container, duration and streams, decode errors, and why a run failed.
 * Pure: no I/O. The patterns are those of ffmpeg 4.4-7.x; an unknown message falls back to
 * DECODE_FAILED with ffmpeg's own words.
 */
import type { AudioErrorCode } from './errors.js';

export type FfmpegLogLevel =
  'quiet' | 'panic' | 'fatal' | 'error' | 'warning' | 'info' | 'verbose' | 'debug' | 'trace';

export interface FfmpegLogLine {
  level: FfmpegLogLevel;
  /** The component in brackets, e.g. 'mp3float' from "[mp3float @ 0x55..]"; '' when none. */
  component: string;
  text: string;
}

const LEVELS = new Set<string>([
  'quiet',
  'panic',
  'fatal',
  'error',
  'warning',
  'info',
  'verbose',
  'debug',
  'trace',
]);

/**
 * Parses one line. Lines without a level tag are continuations of the previous message and take its
 * level (pass it as previousLevel).
 */
export function parseLogLine(line: string, previousLevel: FfmpegLogLevel = 'info'): FfmpegLogLine {
  let rest = line;
  let component = '';
  const comp = /^\[([^\]@]+?) @ (?:0x)?[0-9a-f]+\] /.exec(rest);
  if (comp) {
    component = comp[1];
    rest = rest.slice(comp[0].length);
  }
  const lvl = /^\[([a-z]+)\] /.exec(rest);
  if (lvl && LEVELS.has(lvl[1])) {
    return { level: lvl[1] as FfmpegLogLevel, component, text: rest.slice(lvl[0].length) };
  }
  return { level: previousLevel, component, text: rest };
}

export function isErrorLevel(level: FfmpegLogLevel): boolean {
  return level === 'error' || level === 'fatal' || level === 'panic';
}

export interface InputStream {
  /** 'Audio', 'Video', 'Subtitle', 'Data', 'Attachment'. */
  type: string;
  /** First word of the description: 'mp3', 'aac', 'h264', 'none' (unknown codec). */
  codec: string;
  /** The description after "Audio: ", as ffmpeg prints it. */
  description: string;
  sampleRate?: number;
  channels?: number;
}

export interface InputHeader {
  container: string;
  /** Null when ffmpeg prints "Duration: N/A" (live streams, some raw formats). */
  durationSec: number | null;
  bitRateBps: number | null;
  streams: InputStream[];
}

const CHANNEL_WORDS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  '2.1': 3,
  quad: 4,
  '4.0': 4,
  '5.0': 5,
  '5.1': 6,
};

function parseStream(text: string): InputStream | null {
  const m = /^Stream #\d+:\d+\S*: (\w+): (.*)$/.exec(text.trim());
  if (!m) return null;
  const [, type, description] = m;
  const s: InputStream = { type, codec: description.split(/[\s,(]/)[0], description };
  if (type === 'Audio') {
    const rate = /(\d+) Hz/.exec(description);
    if (rate) s.sampleRate = Number(rate[1]);
    const parts = description.split(', ').map((p) => p.trim());
    for (const p of parts) {
      const word = p.replace(/\(.*\)$/, '');
      if (word in CHANNEL_WORDS) s.channels = CHANNEL_WORDS[word];
      const n = /^(\d+) channels/.exec(p);
      if (n) s.channels = Number(n[1]);
    }
  }
  return s;
}

/**
 * Extracts "Input #0" from the lines printed before decoding starts; null when ffmpeg never opened
 * the input (missing file, unrecognised data).
 */
export function parseInputHeader(lines: readonly FfmpegLogLine[]): InputHeader | null {
  let header: InputHeader | null = null;
  for (const { text } of lines) {
    const input = /^Input #0, (.+?), from '/.exec(text);
    if (input) {
      header = { container: input[1], durationSec: null, bitRateBps: null, streams: [] };
      continue;
    }
    if (!header) continue;
    if (/^(Stream mapping:|Output #0)/.test(text)) break;
    const dur = /^\s*Duration: (?:(\d+):(\d+):(\d+(?:\.\d+)?)|N\/A)/.exec(text);
    if (dur) {
      if (dur[1] !== undefined)
        header.durationSec = Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]);
      const br = /bitrate: (\d+) kb\/s/.exec(text);
      if (br) header.bitRateBps = Number(br[1]) * 1000;
      continue;
    }
    const stream = parseStream(text);
    if (stream) header.streams.push(stream);
  }
  return header;
}

/** A message that means the stream's data is damaged at this point (decoding goes on). */
export function isCorruptFrameMessage(line: FfmpegLogLine): boolean {
  if (!isErrorLevel(line.level) && line.level !== 'warning') return false;
  return /Error while decoding|Invalid data found|Header missing|invalid (residual|sync|frame|block)|decode_frame\(\) failed|overread|error while decoding|corrupt|invalid new backstep|Packet corrupt|big_values|Error parsing frame/i.test(
    line.text,
  );
}

/** ffmpeg's hint that the file is shorter than its header claims. */
export function isTruncationMessage(line: FfmpegLogLine): boolean {
  return /filesize and duration do not match|Truncating packet|Packet size \d+ exceeds|moov atom not found|End of file|stream ends prematurely|truncated/i.test(
    line.text,
  );
}

/** ffmpeg's hint that the duration it prints is an estimate (so do not judge truncation by it). */
export function isDurationEstimateMessage(line: FfmpegLogLine): boolean {
  return /Estimating duration from bitrate|using bitrate for duration/i.test(line.text);
}

export interface FailureContext {
  /** File path or URL, as shown to the user. */
  input: string;
  lines: readonly FfmpegLogLine[];
  header: InputHeader | null;
}

export interface Failure {
  code: AudioErrorCode;
  message: string;
}

function lastErrors(lines: readonly FfmpegLogLine[], count = 3): string {
  const errors = lines
    .filter((l) => isErrorLevel(l.level))
    .map((l) => (l.component ? `${l.component}: ` : '') + l.text);
  const picked = (errors.length > 0 ? errors : lines.map((l) => l.text)).slice(-count);
  return picked.join('; ') || 'no message';
}

function describeStreams(streams: readonly InputStream[]): string {
  return streams.map((s) => `${s.type.toLowerCase()} ${s.codec}`).join(', ');
}

const IMAGE_CONTAINERS =
  /^(image2|\w+_pipe|gif|apng|webp_pipe|png_pipe|jpeg_pipe|bmp_pipe|tiff_pipe|svg_pipe)$/;

/**
 * Why ffmpeg produced no audio, from its log. Call when it exited with no samples written.
 */
export function classifyFailure(ctx: FailureContext): Failure {
  const { input, lines, header } = ctx;
  const all = lines.map((l) => l.text).join('\n');
  const q = JSON.stringify(input);
  if (/No such file or directory/i.test(all)) {
    return { code: 'FILE_NOT_FOUND', message: `${q}: no such file` };
  }
  if (/Is a directory/i.test(all)) {
    return { code: 'NOT_AUDIO', message: `${q} is a directory, not an audio file` };
  }
  if (/Permission denied/i.test(all)) {
    return { code: 'DECODE_FAILED', message: `${q}: permission denied` };
  }
  if (header) {
    const audio = header.streams.filter((s) => s.type === 'Audio');
    if (audio.length === 0 || /matches no streams|does not contain any stream/.test(all)) {
      if (audio.length === 0) {
        const images =
          IMAGE_CONTAINERS.test(header.container) ||
          (header.streams.length > 0 &&
            header.streams.every((s) => /^(png|mjpeg|gif|bmp|webp|tiff)$/.test(s.codec)));
        if (images) {
          return { code: 'NOT_AUDIO', message: `${q} is an image (${header.container}), not audio` };
        }
        const what = header.streams.length > 0 ? ` (it has ${describeStreams(header.streams)})` : '';
        return { code: 'EMPTY', message: `${q} has no audio track${what}` };
      }
    }
    if (
      /Decoder \(codec [^)]*\) not found|Decoding requested, but no decoder|unknown codec|Unsupported codec|is not supported|Could not find codec parameters/i.test(
        all,
      )
    ) {
      const stream = audio[0];
      return {
        code: 'UNSUPPORTED_CODEC',
        message: `${q}: unsupported audio codec${stream ? ` (${stream.description})` : ''}; ffmpeg cannot decode it`,
      };
    }
    if (lines.some(isCorruptFrameMessage) || /Invalid data found/i.test(all)) {
      return {
        code: 'CORRUPT',
        message: `${q} is ${header.container} audio but no frame could be decoded (${lastErrors(lines)})`,
      };
    }
    if (audio.length > 0 && !lines.some((l) => isErrorLevel(l.level))) {
      return { code: 'EMPTY', message: `${q} contains an audio stream with no samples` };
    }
    return { code: 'DECODE_FAILED', message: `${q}: ffmpeg failed: ${lastErrors(lines)}` };
  }
  // ffmpeg never opened the input.
  if (
    /Invalid data found when processing input|Failed to read frame size|Could not seek|misdetection possible|Invalid argument|could not find codec parameters|Format .* detected only with low score/i.test(
      all,
    )
  ) {
    if (
      /^(https?|rtmps?|rtsp|srt|udp|rtp|tcp|icecast|hls):/i.test(input) &&
      !/Invalid data found/i.test(all)
    ) {
      return {
        code: 'DECODE_FAILED',
        message: `${q}: ffmpeg could not open the stream: ${lastErrors(lines)}`,
      };
    }
    return { code: 'NOT_AUDIO', message: `${q} is not an audio or video file ffmpeg recognises` };
  }
  return { code: 'DECODE_FAILED', message: `${q}: ffmpeg failed: ${lastErrors(lines)}` };
}
