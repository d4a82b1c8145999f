// End to end with the real recognition core: live MP3 and HLS broadcasts served k times faster than
// real time, an outage mid-song, corrupt bytes, the monitor process killed and restarted, logger files.
// Every registered recording must be found once, at the UTC it aired.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../src/audio/index.js';
import type { ReferenceIndex } from '../src/index/index.js';
import { StreamMatcher, matchFile } from '../src/match/index.js';
import {
  ChannelRunner,
  Monitor,
  MonitorMetrics,
  listClips,
  MonitorRepository,
  monitorConfig,
  validateChannel,
  zonedTimeToUtcMs,
  type AiredDetection,
} from '../src/monitor/index.js';
import type { Store } from '../src/store/index.js';
import { startStreamServer, type PreparedBroadcast, type StreamServer } from './helpers/stream-server.js';
import { openLiveFixture, type LiveFixture } from './helpers/live-fixture.js';

// LIVE_TEST_PLAN: A 5-35, B 40-100, C 105-135, silence 135-147, unregistered music around them

let broadcast: PreparedBroadcast;
let dir: string;
let indexDir: string;
let index: ReferenceIndex;
let store: Store;
let repo: MonitorRepository;
const servers: StreamServer[] = [];

let fixture: LiveFixture | undefined;

beforeAll(async () => {
  fixture = await openLiveFixture('monitor-live');
  ({ broadcast, dir, indexDir, index, store, repo } = fixture);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await fixture?.close();
});

/** Truth: where each registered song sits in the broadcast, seconds. */
function truth(): Array<{ id: string; startSec: number; endSec: number }> {
  return broadcast.parts
    .filter((p) => p.kind === 'song' && p.id)
    .map((p) => ({ id: (p as { id: string }).id, startSec: p.startSec, endSec: p.endSec }));
}

/** Every registered song found exactly once, within `tolSec` of when it aired (origin = position 0). */
function expectAllFound(dets: AiredDetection[], originMs: number, tolSec: number, label: string): void {
  const got = [...dets].sort((a, b) => a.startMs - b.startMs);
  expect(
    got.map((d) => d.recordingId),
    label,
  ).toEqual(truth().map((t) => t.id));
  for (const [i, t] of truth().entries()) {
    const d = got[i];
    const startSec = (d.startMs - originMs) / 1000;
    const endSec = (d.endMs - originMs) / 1000;
    expect(Math.abs(startSec - t.startSec), `${label} ${t.id} start ${startSec}`).toBeLessThan(tolSec);
    expect(Math.abs(endSec - t.endSec), `${label} ${t.id} end ${endSec}`).toBeLessThan(tolSec);
    expect(d.refStartSec).toBeLessThan(tolSec);
    expect(d.refEndSec).toBeGreaterThan(t.endSec - t.startSec - tolSec);
  }
}

/**
 * The test server publishes its first 2 s HLS segment once position 2 s has aired; before that its
 * playlist is empty. A client that connects then fails and backs off (at 8x the backoff is several
 * seconds of broadcast), and starts at the live edge, possibly past the start of song A. A real live
 * stream always has segments, so the tests hold the first playlist request until then (as the MP3
 * streams hold a connection until the broadcast begins).
 */
const HLS_FIRST_SEGMENT_SEC = 2.2;

function holdEmptyPlaylist(server: StreamServer, path: string): number {
  if (!path.includes('.m3u8')) return 0;
  return Math.max(0, ((HLS_FIRST_SEGMENT_SEC - server.positionSec()) * 1000) / server.speed);
}

async function untilPosition(server: StreamServer, sec: number): Promise<void> {
  const waitMs = ((sec - server.positionSec()) * 1000) / server.speed;
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}

/** Runs a logger-folder channel until it has played every file and waits for new ones, then stops it. */
async function runUntilLoggerWaits(runner: ChannelRunner): Promise<void> {
  const done = runner.start();
  const t0 = Date.now();
  while (!(runner.health().detail ?? '').includes('waiting for new logger files')) {
    if (Date.now() - t0 > 30_000) throw new Error('the logger files were not played');
    await new Promise((r) => setTimeout(r, 100));
  }
  await runner.stop();
  await done;
}

/** A proxy in front of a stream server that holds each response back for `delayMs(path)` wall ms. */
async function startDelayingProxy(
  target: string,
  delayMs: (path: string) => number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    setTimeout(
      () => {
        get(`${target}${req.url ?? '/'}`, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        }).on('error', () => res.destroy());
      },
      delayMs(req.url ?? '/'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('live monitoring with recognition', () => {
  it('monitors three channels at once: MP3 with an outage mid-song, HLS, and a corrupted stream', async () => {
    const speed = 8;
    // the broadcast begins a second from now, once the monitor listens
    const originMs = Date.now() + 1000;
    for (let i = 0; i < 3; i++) servers.push(await startStreamServer(broadcast, { speed, originMs }));
    const [sLive, sHls, sCorrupt] = servers.slice(-3);
    const hls = await startDelayingProxy(sHls.url, (path) => holdEmptyPlaylist(sHls, path));
    const channels = [
      validateChannel({ id: 'fm-live', sources: [`${sLive.url}/live.mp3`] }, originMs),
      validateChannel({ id: 'tv-hls', kind: 'tv', sources: [`${hls.url}/hls/live.m3u8`] }, originMs),
      validateChannel({ id: 'fm-corrupt', sources: [`${sCorrupt.url}/corrupt.mp3`] }, originMs),
    ];
    for (const c of channels) await repo.saveChannel(c);
    const evidenceDir = join(dir, 'evidence');
    const monitor = new Monitor({
      store,
      channels,
      config: monitorConfig({ connectTimeoutMs: 3000, stallTimeoutMs: 2000, backoffBaseMs: 300 }),
      createMatcher: () => new StreamMatcher(index),
      evidenceDir,
      now: sLive.now,
      http: { host: '127.0.0.1', port: 0 },
      seed: 1,
    });
    await monitor.start();
    let metricsText = '';
    try {
      // mid song B: what is airing, health, metrics
      await untilPosition(sLive, 58);
      const live = (await (await fetch(`${monitor.httpAddress}/channels`)).json()) as {
        channels: Array<{ channelId: string; state: string; currentRecordings: string[] }>;
      };
      const fm = live.channels.find((c) => c.channelId === 'fm-live')!;
      expect(fm.state).toBe('listening');
      expect(fm.currentRecordings).toEqual(['song-b']);
      const health = await fetch(`${monitor.httpAddress}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, channels: 3, hearing: 3 });

      // the station's stream drops for 8 s in the middle of song B
      await untilPosition(sLive, 60);
      sLive.down();
      await untilPosition(sLive, 68);
      sLive.up();

      await untilPosition(sLive, 152);
      metricsText = await (await fetch(`${monitor.httpAddress}/metrics`)).text();
    } finally {
      await monitor.stop();
      await hls.close();
    }

    const all = (id: string) => repo.detections(id, 0, Number.MAX_SAFE_INTEGER);
    expectAllFound(await all('fm-live'), originMs, 1.5, 'fm-live');
    expectAllFound(await all('fm-corrupt'), originMs, 1.5, 'fm-corrupt');
    // HLS is heard when a segment is published, a little after it aired
    expectAllFound(await all('tv-hls'), originMs, 2.5, 'tv-hls');
    for (const c of channels) expect(await repo.pending(c.id), c.id).toEqual([]);

    // the outage is a gap from where the stream dropped until audio came back
    const gaps = await repo.gaps('fm-live', 0, Number.MAX_SAFE_INTEGER);
    const rel = (ms: number | null) => (ms === null ? null : (ms - originMs) / 1000);
    const outage = gaps.find(
      (g) => g.reason === 'source_down' && rel(g.startMs)! > 50 && rel(g.startMs)! < 80,
    );
    expect(outage, JSON.stringify(gaps)).toBeDefined();
    expect(rel(outage!.startMs)).toBeGreaterThan(59);
    expect(rel(outage!.startMs)).toBeLessThan(61);
    expect(rel(outage!.endMs)).toBeGreaterThan(68);
    const silence = gaps.find((g) => g.reason === 'silence');
    expect(Math.abs(rel(silence!.startMs)! - 135)).toBeLessThan(1);
    expect(Math.abs(rel(silence!.endMs)! - 147)).toBeLessThan(1);

    // evidence: one clip per detection, and it is the song (the matcher finds it in the clip)
    const rows = await store.db
      .selectFrom('detections')
      .select(['channel_id', 'recording_id', 'start_ms', 'end_ms', 'evidence_path', 'evidence_start_ms'])
      .where('channel_id', '=', 'fm-corrupt')
      .execute();
    for (const r of rows) {
      expect(r.evidence_path && existsSync(r.evidence_path), r.recording_id).toBe(true);
      expect(Math.abs(r.evidence_start_ms! - (r.start_ms - 5000)), JSON.stringify(r)).toBeLessThan(500);
      const info = await probeAudio(r.evidence_path!);
      expect(Math.abs(info.durationSec! - (r.end_ms - r.start_ms + 10_000) / 1000)).toBeLessThan(1.5);
      const found = await matchFile(index, r.evidence_path!);
      expect(found.map((d) => d.recording)).toEqual([r.recording_id]);
    }
    expect(metricsText).toMatch(/tyndau_detections_total\{channel="fm-live"\} 3/);
    expect(metricsText).toMatch(
      /tyndau_monitoring_gaps_total\{channel="fm-live",reason="source_down"\} [1-9]/,
    );
    expect(metricsText).toMatch(/tyndau_channel_state\{channel="tv-hls",state="listening"\} 1/);
  });

  it('re-times an HLS connection whose first segments came late: the airing stays one detection, at its time', async () => {
    // What a loaded machine or a slow CDN does to HLS: for the first 16 s of the broadcast every segment
    // arrives half a second (4 s of broadcast at 8x) after it was published, so the connection's
    // anchor settles about 4 s late; then segments come promptly and show it. The connection's audio
    // must be re-timed as a whole (song A is airing), not cut short to catch up.
    const speed = 8;
    const originMs = Date.now() + 1000;
    const server = await startStreamServer(broadcast, { speed, originMs });
    servers.push(server);
    const proxy = await startDelayingProxy(server.url, (path) =>
      path.startsWith('/hls/seg') && server.positionSec() < 16 ? 500 : holdEmptyPlaylist(server, path),
    );
    const channel = validateChannel(
      { id: 'tv-hls-late', kind: 'tv', sources: [`${proxy.url}/hls/live.m3u8`] },
      originMs,
    );
    await repo.saveChannel(channel);
    const metrics = new MonitorMetrics();
    const evidenceDir = join(dir, 'evidence-late');
    const runner = new ChannelRunner({
      channel,
      config: monitorConfig({ connectTimeoutMs: 3000, stallTimeoutMs: 2000, backoffBaseMs: 300 }),
      repo,
      matcher: new StreamMatcher(index),
      evidenceDir,
      now: server.now,
      metrics,
      random: () => 0.5,
    });
    const done = runner.start();
    try {
      await untilPosition(server, 50);
    } finally {
      await runner.stop();
      await done;
      await proxy.close();
    }
    const retimed = (await metrics.retimedSeconds.get()).values[0]?.value ?? 0;
    expect(retimed, 'the late anchor was noticed and corrected').toBeGreaterThan(2);
    const dets = await repo.detections('tv-hls-late', 0, Number.MAX_SAFE_INTEGER);
    expect(dets.map((d) => d.recordingId)).toEqual(['song-a']);
    const [a] = dets;
    const rel = (ms: number) => (ms - originMs) / 1000;
    expect(Math.abs(rel(a.startMs) - 5), `start ${rel(a.startMs)}`).toBeLessThan(1.5);
    expect(Math.abs(rel(a.endMs) - 35), `end ${rel(a.endMs)}`).toBeLessThan(1.5);
    expect(a.refStartSec).toBeLessThan(1);
    const gaps = await repo.gaps('tv-hls-late', 0, Number.MAX_SAFE_INTEGER);
    expect(gaps.filter((g) => g.reason === 'discontinuity')).toEqual([]);
    // its clip was re-timed with it: the song begins in the clip where the clip's time says it does
    // (the clip cannot begin 5 s before the song when the connection's first segment began later)
    const row = await store.db
      .selectFrom('detections')
      .select(['evidence_path', 'evidence_start_ms', 'start_ms'])
      .where('channel_id', '=', 'tv-hls-late')
      .executeTakeFirstOrThrow();
    expect(row.evidence_start_ms!).toBeGreaterThan(row.start_ms - 5500);
    expect(row.evidence_start_ms!).toBeLessThan(row.start_ms);
    const inClip = await matchFile(index, row.evidence_path!);
    expect(inClip.map((d) => d.recording)).toEqual(['song-a']);
    const expectedSec = (row.start_ms - row.evidence_start_ms!) / 1000;
    expect(Math.abs(inClip[0].start - expectedSec), `song at ${inClip[0].start} s in the clip`).toBeLessThan(
      1,
    );
  });

  it('survives the monitor process being killed mid-song: the gap is recorded, nothing duplicated or lost', async () => {
    const speed = 6;
    // the broadcast begins once the monitor process has started and connected
    const originMs = Date.now() + 5000;
    const server = await startStreamServer(broadcast, { speed, originMs });
    servers.push(server);
    await repo.saveChannel(validateChannel({ id: 'fm-proc', sources: [`${server.url}/live.mp3`] }, originMs));
    const dbUrl = `sqlite:${join(dir, 'tyndau.db')}`;
    const start = (): ChildProcess =>
      spawn(
        process.execPath,
        [
          ...['--import', 'tsx', 'src/cli/bin.ts', 'monitor', '--channel', 'fm-proc', '--db', dbUrl],
          ...[
            '--index',
            indexDir,
            '--evidence',
            join(dir, 'evidence-proc'),
            '--no-http',
            '--log-level',
            'warn',
          ],
          ...['--time-scale', String(speed), '--time-origin', String(originMs)],
          ...[
            '--config',
            JSON.stringify({ heartbeatEveryMs: 200, connectTimeoutMs: 10_000, backoffBaseMs: 300 }),
          ],
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
    const exited = (p: ChildProcess) =>
      new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    let stderr = '';
    const first = start();
    first.stderr!.on('data', (b) => (stderr += b));
    await untilPosition(server, 55); // song B airs 40-100
    const killedAt = server.positionSec();
    first.kill('SIGKILL');
    await exited(first);
    const second = start();
    second.stderr!.on('data', (b) => (stderr += b));
    const secondExit = exited(second);
    await untilPosition(server, 150);
    second.kill('SIGTERM');
    expect(await secondExit, stderr).toBe(0);

    const dets = await repo.detections('fm-proc', 0, Number.MAX_SAFE_INTEGER);
    expectAllFound(dets, originMs, 1.5, 'fm-proc');
    expect(await repo.pending('fm-proc')).toEqual([]);
    const gaps = await repo.gaps('fm-proc', 0, Number.MAX_SAFE_INTEGER);
    const rel = (ms: number | null) => (ms === null ? null : (ms - originMs) / 1000);
    const down = gaps.find((g) => g.reason === 'monitor_down');
    expect(down, JSON.stringify(gaps)).toBeDefined();
    expect(rel(down!.startMs)).toBeLessThanOrEqual(killedAt + 0.5);
    expect(rel(down!.startMs)).toBeGreaterThan(killedAt - 3);
    expect(rel(down!.endMs)).toBeGreaterThan(killedAt);
    // the graceful stop leaves a gap that the next run will close
    const stopped = gaps.at(-1)!;
    expect(stopped).toMatchObject({ reason: 'monitor_stopped', endMs: null });
    expect(Math.abs(rel(stopped.startMs)! - 150)).toBeLessThan(2);
    expect(await repo.state('fm-proc')).toMatchObject({ state: 'stopped' });
    // song B's clip was begun by the first process and finished by the second
    const b = await store.db
      .selectFrom('detections')
      .select(['evidence_path'])
      .where('channel_id', '=', 'fm-proc')
      .where('recording_id', '=', 'song-b')
      .executeTakeFirstOrThrow();
    expect(existsSync(b.evidence_path!)).toBe(true);
    expect((await matchFile(index, b.evidence_path!)).map((d) => d.recording)).toContain('song-b');
    expect(listClips(join(dir, 'evidence-proc'))).toHaveLength(3);
    expect(execFileSync('find', [join(dir, 'evidence-proc'), '-name', '*.part']).toString()).toBe('');
  });

  it('plays logger files in time order, one airing across the file boundary, at the time their names say', async () => {
    const logger = join(dir, 'logger');
    mkdirSync(logger);
    const cut = (from: number, len: number, name: string) => {
      const out = join(logger, name);
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-ss',
        String(from),
        '-t',
        String(len),
        '-i',
        broadcast.mp3Path,
        '-c',
        'copy',
        out,
      ]);
      const old = new Date(Date.now() - 60_000);
      utimesSync(out, old, old);
    };
    // 12:00:00 and 12:01:10 local time in Almaty; song B (40-100) spans the two files
    cut(0, 70, 'fm-logger_2025-03-14_12-00-00.mp3');
    cut(70, 200, 'fm-logger_2025-03-14_12-01-10.mp3');
    const channel = validateChannel({ id: 'fm-logger', sources: [`dir:${logger}`] }, Date.now());
    await repo.saveChannel(channel);
    const runner = new ChannelRunner({
      channel,
      config: monitorConfig(),
      repo,
      matcher: new StreamMatcher(index),
      evidenceDir: null,
    });
    await runUntilLoggerWaits(runner);
    const originMs = zonedTimeToUtcMs('Asia/Almaty', 2025, 3, 14, 12, 0, 0);
    const dets = await repo.detections('fm-logger', 0, Number.MAX_SAFE_INTEGER);
    expectAllFound(dets, originMs, 1.5, 'fm-logger');
    expect(await repo.state('fm-logger')).toMatchObject({ cursor: 'fm-logger_2025-03-14_12-01-10.mp3' });
    const gaps = await repo.gaps('fm-logger', 0, Number.MAX_SAFE_INTEGER);
    expect(gaps.filter((g) => g.reason === 'discontinuity')).toEqual([]);
  });

  it("restarts with the channel's rotation: the recordings it aired in the last 6 h, most recent first", async () => {
    const empty = join(dir, 'rotation-logger');
    mkdirSync(empty);
    const channel = validateChannel({ id: 'fm-rotation', sources: [`dir:${empty}`] }, Date.now());
    await repo.saveChannel(channel);
    const [a, b, c] = truth().map((t) => t.id);
    const now = Date.now();
    const aired = (recordingId: string, agoMin: number, confidence: number): AiredDetection => ({
      id: `fm-rotation-${recordingId}-${agoMin}`,
      channelId: channel.id,
      recordingId,
      startMs: now - agoMin * 60_000,
      endMs: now - agoMin * 60_000 + 30_000,
      refStartSec: 0,
      refEndSec: 30,
      speed: 1.02,
      confidence,
    });
    // c aired 7 h ago (past the horizon), a 2 h ago, b 1 h ago, and a 30 min ago below the threshold
    for (const d of [aired(c, 420, 0.99), aired(a, 120, 0.99), aired(b, 60, 0.97), aired(c, 30, 0.3)])
      await repo.writeFinal(d, null, 1000, now);
    const matcher = new StreamMatcher(index);
    const runner = new ChannelRunner({ channel, config: monitorConfig(), repo, matcher, evidenceDir: null });
    await runUntilLoggerWaits(runner);
    expect(matcher.rotationRecordings()).toEqual([b, a]);
  });
});
