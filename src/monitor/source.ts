import type { ChannelSource, SourceKind } from './types.js';

const SCHEMES: Array<[prefix: string, kind: SourceKind]> = [
  ['hls+https://', 'hls'],
  ['hls+http://', 'hls'],
  ['https://', 'http'],
  ['http://', 'http'],
  ['icy://', 'http'],
  ['rtmps://', 'rtmp'],
  ['rtmp://', 'rtmp'],
  ['udp://', 'udp'],
  ['rtp://', 'rtp'],
  ['srt://', 'srt'],
  ['alsa:', 'alsa'],
  ['file:', 'file'],
  ['dir:', 'folder'],
];

/**
 * Reads a source as written on the command line or in a config file:
 * `http(s)://` (Icecast/Shoutcast; `.m3u8` or `hls+http(s)://` is HLS), `rtmp://`, `udp://` (also
 * multicast), `rtp://`, `srt://`, `alsa:DEVICE` (a sound card), `file:PATH` or a path (a recording),
 * `dir:PATH` or a path ending in `/` (a folder of logger files).
 */
export function parseSource(text: string): ChannelSource {
  const t = text.trim();
  if (t === '') throw new Error('a channel source must not be empty');
  for (const [prefix, kind] of SCHEMES) {
    if (!t.toLowerCase().startsWith(prefix)) continue;
    let url = t;
    if (prefix.startsWith('hls+')) url = t.slice('hls+'.length);
    else if (prefix === 'icy://') url = `http://${t.slice(prefix.length)}`;
    else if (prefix === 'alsa:' || prefix === 'file:' || prefix === 'dir:') url = t.slice(prefix.length);
    if (url === '' || url === 'http://' || url === 'https://')
      throw new Error(`source "${text}" names nothing`);
    if (kind === 'http' && /\.m3u8(\?|$)/i.test(url)) return { kind: 'hls', url };
    if (kind !== 'alsa' && kind !== 'file' && kind !== 'folder') checkUrl(text, url);
    return { kind, url };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    throw new Error(
      `source "${text}" has an unsupported scheme; use http(s)://, hls+http(s)://, rtmp://, udp://, rtp://, srt://, alsa:, file: or dir:`,
    );
  }
  if (t.endsWith('/')) return { kind: 'folder', url: t };
  return { kind: 'file', url: t };
}

function checkUrl(text: string, url: string): void {
  try {
    const u = new URL(url);
    if (!u.hostname) throw new Error('no host');
  } catch {
    throw new Error(`source "${text}" is not a valid URL`);
  }
}

/** Back to the text form parseSource reads (for listing and config files). */
export function formatSource(source: ChannelSource): string {
  switch (source.kind) {
    case 'hls':
      return /\.m3u8(\?|$)/i.test(source.url) ? source.url : `hls+${source.url}`;
    case 'alsa':
      return `alsa:${source.url}`;
    case 'file':
      return `file:${source.url}`;
    case 'folder':
      return `dir:${source.url}`;
    default:
      return source.url;
  }
}

/** Validates a source object read from JSON (the database or a config file). */
export function sourceFromJson(value: unknown, where: string): ChannelSource {
  if (typeof value === 'string') return parseSource(value);
  if (value && typeof value === 'object' && 'url' in value && typeof value.url === 'string') {
    const kind = 'kind' in value ? value.kind : undefined;
    const parsed = parseSource(value.url);
    if (kind === undefined || kind === parsed.kind) return parsed;
    const known: SourceKind[] = ['http', 'hls', 'rtmp', 'udp', 'rtp', 'srt', 'alsa', 'file', 'folder'];
    if (typeof kind !== 'string' || !known.includes(kind as SourceKind)) {
      throw new Error(`${where}: unknown source kind ${JSON.stringify(kind)}`);
    }
    return { kind: kind as SourceKind, url: value.url };
  }
  throw new Error(`${where}: a source must be a string or {kind, url}, got ${JSON.stringify(value)}`);
}

/** True for sources that are played once from storage rather than listened to live. */
export function isRecordedSource(source: ChannelSource): boolean {
  return source.kind === 'file' || source.kind === 'folder';
}

/** The ffmpeg arguments that open a source (everything up to and including `-i`). */
export function ffmpegInputArgs(source: ChannelSource, ioTimeoutMs: number): string[] {
  const timeoutUs = String(Math.round(ioTimeoutMs * 1000));
  switch (source.kind) {
    case 'http':
      return ['-rw_timeout', timeoutUs, '-user_agent', 'Tyndau-monitor', '-i', source.url];
    case 'hls':
      // start at the live edge rather than three segments behind it
      return ['-rw_timeout', timeoutUs, '-live_start_index', '-1', '-f', 'hls', '-i', source.url];
    case 'rtmp':
      return ['-rw_timeout', timeoutUs, '-i', source.url];
    case 'udp':
    case 'rtp':
      return ['-timeout', timeoutUs, '-i', source.url];
    case 'srt':
      return ['-i', source.url];
    case 'alsa':
      return ['-f', 'alsa', '-i', source.url];
    case 'file':
      return ['-i', `file:${source.url}`];
    case 'folder':
      throw new Error('a folder source is opened file by file (see folderFiles)');
  }
}
