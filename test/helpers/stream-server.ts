/**
 * A live broadcast server for the monitor's tests: serves one prepared broadcast as a live MP3
 * stream (Icecast-like) and as live HLS, k times faster than real time, plus endpoints that misbehave.
 *
 * Time: the broadcast's position p (seconds) airs at `originMs + p * 1000` on the server's clock,
 * `now() = originMs + k * (Date.now() - originMs)`. A monitor given the same clock (`--time-scale k
 * --time-origin originMs`) sees exactly what it would see live, k times faster.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { indexMp3Frames } from '../../src/monitor/index.js';
import { synthesizeSong } from '../../scripts/synth/music.js';
import { writeWav } from '../../scripts/synth/wav.js';

/** One piece of a test broadcast. */
export type BroadcastPart =
  | { kind: 'song'; seed: number; durationSec: number; id: string | null }
  | { kind: 'silence'; durationSec: number };

/**
 * The broadcast the live tests (monitor and distributed) air: song-a 5-35 s, song-b 40-100 s,
 * song-c 105-135 s, silence 135-147 s, unregistered music around them.
 */
export const LIVE_TEST_PLAN = [
  { kind: 'song', seed: 901, durationSec: 5, id: null },
  { kind: 'song', seed: 11, durationSec: 30, id: 'song-a' },
  { kind: 'song', seed: 902, durationSec: 5, id: null },
  { kind: 'song', seed: 12, durationSec: 60, id: 'song-b' },
  { kind: 'song', seed: 903, durationSec: 5, id: null },
  { kind: 'song', seed: 13, durationSec: 30, id: 'song-c' },
  { kind: 'silence', durationSec: 12 },
  { kind: 'song', seed: 904, durationSec: 10, id: null },
] as const;

export interface PreparedBroadcast {
  /** Where each part sits in the broadcast, seconds. */
  parts: Array<BroadcastPart & { startSec: number; endSec: number }>;
  /** WAV of every song with an id (to enrol), by id. */
  songs: Map<string, string>;
  /** CBR MP3 (32 kHz, 64 kbit/s: 288-byte frames of 36 ms). */
  mp3Path: string;
  /** Folder with `vod.m3u8` and its AAC segments (2 s). */
  hlsDir: string;
  /** The HLS segments in broadcast order: where each sits in the broadcast, seconds. */
  hlsSegments: Array<{ name: string; startSec: number; endSec: number; durationSec: number }>;
  durationSec: number;
}

const RATE = 22050;

/** Builds (or reuses from `cacheDir`) a broadcast of synthesized songs and silences, encoded as MP3 and HLS. */
export function prepareBroadcast(cacheDir: string, plan: BroadcastPart[]): PreparedBroadcast {
  const key = plan
    .map((p) => (p.kind === 'song' ? `s${p.seed}-${p.durationSec}` : `z${p.durationSec}`))
    .join('_');
  const dir = join(cacheDir, `broadcast-v1-${key}`);
  const songs = new Map<string, string>();
  const parts: PreparedBroadcast['parts'] = [];
  let t = 0;
  for (const p of plan) {
    parts.push({ ...p, startSec: t, endSec: t + p.durationSec });
    t += p.durationSec;
    if (p.kind === 'song' && p.id) songs.set(p.id, join(dir, `song-${p.seed}-${p.durationSec}.wav`));
  }
  const mp3Path = join(dir, 'broadcast.mp3');
  const hlsDir = join(dir, 'hls');
  if (!existsSync(join(dir, 'done'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(hlsDir, { recursive: true });
    const left: Float32Array[] = [];
    const right: Float32Array[] = [];
    for (const p of plan) {
      if (p.kind === 'silence') {
        const z = new Float32Array(Math.round(p.durationSec * RATE));
        left.push(z);
        right.push(z);
        continue;
      }
      const s = synthesizeSong(p.seed, p.durationSec, RATE);
      left.push(s.left);
      right.push(s.right);
      if (p.id) writeWav(join(dir, `song-${p.seed}-${p.durationSec}.wav`), [s.left, s.right], RATE);
    }
    const cat = (xs: Float32Array[]): Float32Array => {
      const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
      let o = 0;
      for (const x of xs) {
        out.set(x, o);
        o += x.length;
      }
      return out;
    };
    const wav = join(dir, 'broadcast.wav');
    writeWav(wav, [cat(left), cat(right)], RATE);
    const ff = (args: string[]) =>
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    ff([
      '-i',
      wav,
      '-ar',
      '32000',
      '-ac',
      '2',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '64k',
      '-write_xing',
      '0',
      '-id3v2_version',
      '0',
      mp3Path,
    ]);
    ff([
      ...['-i', wav, '-ar', '44100', '-c:a', 'aac', '-b:a', '96k', '-f', 'hls', '-hls_time', '2'],
      ...[
        '-hls_playlist_type',
        'vod',
        '-hls_segment_filename',
        join(hlsDir, 'seg%05d.ts'),
        join(hlsDir, 'vod.m3u8'),
      ],
    ]);
    rmSync(wav);
    execFileSync('touch', [join(dir, 'done.tmp')]);
    renameSync(join(dir, 'done.tmp'), join(dir, 'done'));
  }
  return { parts, songs, mp3Path, hlsDir, hlsSegments: readVodPlaylist(hlsDir), durationSec: t };
}

export interface StreamServer {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  /**
   * Wall ms at which the broadcast's position 0 airs (and the server's clock equals the wall clock);
   * in the future, streams connected before it wait for the broadcast to begin.
   */
  originMs: number;
  speed: number;
  /** The server's clock: UTC ms of what is airing now. */
  now(): number;
  /** Broadcast position airing now, seconds. */
  positionSec(): number;
  /** UTC ms at which broadcast position `sec` aired. */
  utcOf(sec: number): number;
  /** Keeps connections open but stops sending (a stalled stream) until unstall(). */
  stall(): void;
  unstall(): void;
  /** Drops every live connection and refuses new ones until up(). */
  down(): void;
  up(): void;
  /** Stream requests served so far, by path. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Routes: /live.mp3 (live MP3), /corrupt.mp3 (live MP3 with garbage in it), /hls/live.m3u8 (live HLS,
 * sliding window, durations scaled by k; optionally with PDT, a publishing delay, lost segments;
 * /hls/master.m3u8 names it as its one variant), /hang (accepts and never answers), /html (a web page).
 * The broadcast starts airing when the server starts and, once over, the streams end.
 */
export async function startStreamServer(
  b: PreparedBroadcast,
  opts: {
    speed: number;
    originMs?: number;
    /**
     * HLS: write `#EXT-X-PROGRAM-DATE-TIME` before every segment, the UTC at which its first sample
     * aired on the server's clock (`utcOf(startSec)`).
     */
    programDateTime?: boolean;
    /** HLS: publish each segment this many seconds of broadcast after it has aired (a packager's and CDN's latency). */
    publishDelaySec?: number;
    /**
     * HLS: segments (by index in the broadcast) the packager lost: left out of the playlist, the
     * segment after each marked `#EXT-X-DISCONTINUITY`.
     */
    dropSegments?: number[];
  },
): Promise<StreamServer> {
  const speed = opts.speed;
  const mp3 = readFileSync(b.mp3Path);
  const { frames, frameSec } = indexMp3Frames(mp3);
  const dropped = new Set(opts.dropSegments ?? []);
  const vod = readVodPlaylist(b.hlsDir);
  const hls = vod
    .map((s, i) => ({ ...s, discontinuity: i > 0 && dropped.has(i - 1) }))
    .filter((_, i) => !dropped.has(i));
  const publishDelaySec = opts.publishDelaySec ?? 0;
  const sockets = new Set<Socket>();
  const live = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const requests = new Map<string, number>();
  let isDown = false;
  let stalled = false;
  const originMs = opts.originMs ?? Date.now();
  const now = (): number => originMs + (Date.now() - originMs) * speed;
  const positionSec = (): number => (now() - originMs) / 1000;

  const streamMp3 = (req: IncomingMessage, res: ServerResponse, corrupt: boolean): void => {
    // before the broadcast starts (an origin in the future) the connection waits
    let next = Math.max(0, Math.floor(positionSec() / frameSec));
    if (next >= frames.length) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'audio/mpeg',
      'cache-control': 'no-cache',
      'icy-name': 'Tyndau test FM',
    });
    live.add(res);
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 4294967296;
    };
    const tick = setInterval(() => {
      if (stalled) return;
      const upTo = Math.min(frames.length, Math.floor(positionSec() / frameSec) + 1);
      const out: Buffer[] = [];
      for (; next < upTo; next++) {
        const f = frames[next];
        let data = mp3.subarray(f.offset, f.offset + f.bytes);
        if (corrupt && next % 25 === 7) {
          // scribble over the frame's audio data (its header stays), and now and then add junk between frames
          data = Buffer.from(data);
          for (let k = 40; k < data.length; k += 3) data[k] = Math.floor(rnd() * 256);
          if (next % 100 === 7)
            out.push(Buffer.from(Array.from({ length: 97 }, () => Math.floor(rnd() * 256))));
        }
        out.push(data);
      }
      if (out.length > 0) res.write(Buffer.concat(out));
      if (next >= frames.length) {
        clearInterval(tick);
        timers.delete(tick);
        live.delete(res);
        res.end();
      }
    }, 20);
    timers.add(tick);
    req.on('close', () => {
      clearInterval(tick);
      timers.delete(tick);
      live.delete(res);
    });
  };

  const playlist = (res: ServerResponse): void => {
    const pos = positionSec();
    const published = hls.filter((s) => s.endSec + publishDelaySec <= pos);
    const windowed = published.slice(-20);
    const ended = published.length === hls.length;
    const first = windowed.length > 0 ? hls.indexOf(windowed[0]) : 0;
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:1',
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
    ];
    for (const s of windowed) {
      if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      if (opts.programDateTime)
        lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(originMs + s.startSec * 1000).toISOString()}`);
      lines.push(`#EXTINF:${(s.durationSec / speed).toFixed(3)},`, `/hls/${s.name}`);
    }
    if (ended) lines.push('#EXT-X-ENDLIST');
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache' });
    res.end(lines.join('\n') + '\n');
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (isDown) {
      req.socket.destroy();
      return;
    }
    if (path === '/live.mp3') return streamMp3(req, res, false);
    if (path === '/corrupt.mp3') return streamMp3(req, res, true);
    if (path === '/hls/live.m3u8') return playlist(res);
    if (path === '/hls/master.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=96000,CODECS="mp4a.40.2"\nlive.m3u8\n');
      return;
    }
    if (path.startsWith('/hls/seg')) {
      const seg = hls.find((s) => `/hls/${s.name}` === path);
      if (!seg || seg.endSec + publishDelaySec > positionSec()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'video/mp2t' });
      res.end(readFileSync(join(b.hlsDir, seg.name)));
      return;
    }
    if (path === '/hang') return; // accepted, never answered
    if (path === '/html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!doctype html><html><head><title>Radio</title></head><body><h1>Listen live!</h1></body></html>\n',
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    originMs,
    speed,
    now,
    positionSec,
    utcOf: (sec) => originMs + sec * 1000,
    stall: () => {
      stalled = true;
    },
    unstall: () => {
      stalled = false;
    },
    down: () => {
      isDown = true;
      for (const t of timers) clearInterval(t);
      timers.clear();
      live.clear();
      for (const s of sockets) s.destroy();
    },
    up: () => {
      isDown = false;
    },
    requests,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readVodPlaylist(
  dir: string,
): Array<{ name: string; startSec: number; endSec: number; durationSec: number }> {
  const text = readFileSync(join(dir, 'vod.m3u8'), 'utf8');
  const out: Array<{ name: string; startSec: number; endSec: number; durationSec: number }> = [];
  let pending: number | null = null;
  let t = 0;
  for (const line of text.split('\n')) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) pending = Number(m[1]);
    else if (line.trim() !== '' && !line.startsWith('#') && pending !== null) {
      out.push({ name: line.trim(), startSec: t, endSec: t + pending, durationSec: pending });
      t += pending;
      pending = null;
    }
  }
  if (out.length === 0 || out.length !== readdirSync(dir).filter((n) => n.endsWith('.ts')).length) {
    throw new Error(`${dir}: unexpected HLS playlist`);
  }
  return out;
}
