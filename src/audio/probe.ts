/** Describes an audio file without decoding it: ffprobe when installed, else the file's own header. */
import { spawn } from 'node:child_process';
import { AudioError, INSTALL_FFMPEG_HINT } from './errors.js';
import { checkAudioFile } from './file-check.js';
import { classifyFailure, parseLogLine, type FfmpegLogLevel, type FfmpegLogLine } from './ffmpeg-log.js';
import { ffprobeAvailable, ffprobePath } from './ffmpeg.js';
import type { Sniffed } from './sniff.js';
import type { AudioInfo } from './types.js';

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
}
interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; bit_rate?: string };
}

const PROBE_TIMEOUT_MS = 60_000;

function runFfprobe(path: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffprobePath(),
      [
        '-hide_banner',
        '-loglevel',
        'level+error',
        '-show_format',
        '-show_streams',
        '-of',
        'json',
        `file:${path}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS, killSignal: 'SIGKILL' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      if (stderr.length < 65536) stderr += t;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function num(text: string | undefined): number | null {
  if (text === undefined || text === 'N/A') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Turns ffprobe's JSON into AudioInfo; throws when there is no audio stream. Pure. */
export function audioInfoFromProbe(path: string, json: ProbeJson): AudioInfo {
  const q = JSON.stringify(path);
  const streams = json.streams ?? [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  const container = json.format?.format_name ?? 'unknown';
  const video = streams.filter((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!audio) {
    if (video.length > 0 && /_pipe$|^image2$|^gif$|^apng$/.test(container)) {
      throw new AudioError('NOT_AUDIO', path, `${q} is an image (${container}), not audio`);
    }
    const what = streams.map((s) => `${s.codec_type} ${s.codec_name ?? '?'}`).join(', ');
    throw new AudioError('EMPTY', path, `${q} has no audio track${what ? ` (it has ${what})` : ''}`);
  }
  return {
    durationSec: num(audio.duration) ?? num(json.format?.duration),
    container,
    codec: audio.codec_name ?? `unknown (tag ${audio.codec_tag_string ?? '?'})`,
    channels: audio.channels ?? 0,
    sampleRate: num(audio.sample_rate) ?? 0,
    bitRateBps: num(json.format?.bit_rate),
    hasVideo: video.length > 0,
  };
}

const WAV_CODECS: Record<number, string> = {
  1: 'pcm',
  3: 'pcm_f32le',
  6: 'pcm_alaw',
  7: 'pcm_mulaw',
  2: 'adpcm_ms',
  0x11: 'adpcm_ima_wav',
  0x55: 'mp3',
};

/** What the header alone tells, for machines without ffprobe. */
function audioInfoFromHeader(path: string, sniffed: Sniffed): AudioInfo {
  const byFormat: Record<string, { container: string; codec: string }> = {
    wav: {
      container: 'wav',
      codec:
        WAV_CODECS[sniffed.wavFormatTag ?? -1] ?? `wav format 0x${(sniffed.wavFormatTag ?? 0).toString(16)}`,
    },
    flac: { container: 'flac', codec: 'flac' },
    'ogg-vorbis': { container: 'ogg', codec: 'vorbis' },
    'ogg-opus': { container: 'ogg', codec: 'opus' },
    'ogg-flac': { container: 'ogg', codec: 'flac' },
    mp3: { container: 'mp3', codec: 'mp3' },
  };
  const known = byFormat[sniffed.format];
  if (!known || !sniffed.sampleRate || !sniffed.channels) {
    throw new AudioError(
      'DECODER_MISSING',
      path,
      `cannot probe ${JSON.stringify(path)} (${sniffed.description}) without ffprobe; ${INSTALL_FFMPEG_HINT}`,
    );
  }
  return {
    durationSec: sniffed.declaredFrames ? sniffed.declaredFrames / sniffed.sampleRate : null,
    container: known.container,
    codec: known.codec,
    channels: sniffed.channels,
    sampleRate: sniffed.sampleRate,
    bitRateBps: null,
    hasVideo: false,
  };
}

/** Container, codec, channels, native rate and duration of the first audio stream. */
export async function probeAudio(path: string): Promise<AudioInfo> {
  const { sniffed } = await checkAudioFile(path);
  if (!ffprobeAvailable()) return audioInfoFromHeader(path, sniffed);
  const r = await runFfprobe(path).catch((err: unknown) => {
    throw new AudioError('DECODE_FAILED', path, `could not run ffprobe: ${String(err)}`, { cause: err });
  });
  if (r.code !== 0) {
    let previous: FfmpegLogLevel = 'error';
    const lines: FfmpegLogLine[] = r.stderr
      .split(/\r?\n/)
      .filter((l) => l !== '')
      .map((l) => {
        const line = parseLogLine(l, previous);
        previous = line.level;
        return line;
      });
    const f = classifyFailure({ input: path, lines, header: null });
    throw new AudioError(f.code, path, f.message);
  }
  let json: ProbeJson;
  try {
    json = JSON.parse(r.stdout) as ProbeJson;
  } catch (err) {
    throw new AudioError(
      'DECODE_FAILED',
      path,
      `ffprobe printed something that is not JSON for ${JSON.stringify(path)}`,
      {
        cause: err,
      },
    );
  }
  return audioInfoFromProbe(path, json);
}
