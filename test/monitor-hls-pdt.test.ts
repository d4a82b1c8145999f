// HLS airtimes anchored to #EXT-X-PROGRAM-DATE-TIME, end to end: real ffmpeg, the real HTTP test
// server (8x real time) and the real recognition core. An HLS channel whose packager publishes every
// segment 3 s late (and loses one) is timed by its PDT to within 0.1 s; without PDT the old path
// (ffmpeg reads the HLS, arrival anchoring) is unchanged; a channel's latencySec takes a known delay
// off arrival-anchored times.
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReferenceIndex } from '../src/index/index.js';
import { StreamMatcher, matchFile } from '../src/match/index.js';
import {
  Monitor,
  MonitorRepository,
  monitorConfig,
  validateChannel,
  type AiredDetection,
} from '../src/monitor/index.js';
import type { Store } from '../src/store/index.js';
import { startStreamServer, type PreparedBroadcast, type StreamServer } from './helpers/stream-server.js';
import { openLiveFixture, type LiveFixture } from './helpers/live-fixture.js';

let broadcast: PreparedBroadcast;
let dir: string;
let index: ReferenceIndex;
let store: Store;
let repo: MonitorRepository;
const servers: StreamServer[] = [];

let fixture: LiveFixture | undefined;

beforeAll(async () => {
  fixture = await openLiveFixture('monitor-hls-pdt');
  ({ broadcast, dir, index, store, repo } = fixture);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await fixture?.close();
});

/**
 * A proxy that holds playlist requests until the server's first segment is out (`firstSec` of
 * broadcast): a real live stream always has segments, the test server's playlist starts empty.
 */
async function holdUntilFirstSegment(
  server: StreamServer,
  firstSec: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const proxy = createServer((req, res) => {
    const path = req.url ?? '/';
    const waitMs = path.includes('.m3u8') ? ((firstSec - server.positionSec()) * 1000) / server.speed : 0;
    setTimeout(
      () =>
        get(`${server.url}${path}`, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        }).on('error', () => res.destroy()),
      Math.max(0, waitMs),
    );
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => {
      proxy.closeAllConnections();
      return new Promise((r) => proxy.close(() => r()));
    },
  };
}

/**
 * How late each registered song was placed, seconds: the UTC the detection puts the reference's
 * first second at (start − refStart) minus when the song truly began. Unlike the detection's start,
 * this does not depend on where the matcher decided the airing began.
 */
function offsets(dets: AiredDetection[], originMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of dets) {
    const part = broadcast.parts.find((p) => p.kind === 'song' && p.id === d.recordingId)!;
    out.set(d.recordingId, (d.startMs - d.refStartSec * 1000 - (originMs + part.startSec * 1000)) / 1000);
  }
  return out;
}

describe('HLS anchored to #EXT-X-PROGRAM-DATE-TIME', () => {
  it('times HLS with PDT to within 0.1 s though segments are published 3 s late; without PDT the old path', async () => {
    const speed = 8;
    const originMs = Date.now() + 1000;
    const delay = 3;
    // segment 35 (about 70-72 s, in song B) is lost by the packager: a discontinuity
    const lost = 35;
    const pdt = await startStreamServer(broadcast, {
      speed,
      originMs,
      programDateTime: true,
      publishDelaySec: delay,
      dropSegments: [lost],
    });
    const plain = await startStreamServer(broadcast, { speed, originMs });
    const late = await startStreamServer(broadcast, { speed, originMs, publishDelaySec: delay });
    const master = await startStreamServer(broadcast, { speed, originMs, programDateTime: true });
    servers.push(pdt, plain, late, master);
    const proxies = [
      await holdUntilFirstSegment(pdt, 2.2 + delay),
      await holdUntilFirstSegment(plain, 2.2),
      await holdUntilFirstSegment(late, 2.2 + delay),
      await holdUntilFirstSegment(master, 2.2),
    ];
    const channels = [
      validateChannel({ id: 'hls-pdt', kind: 'tv', sources: [`${proxies[0].url}/hls/live.m3u8`] }, originMs),
      validateChannel(
        { id: 'hls-plain', kind: 'tv', sources: [`${proxies[1].url}/hls/live.m3u8`] },
        originMs,
      ),
      validateChannel(
        { id: 'hls-latency', kind: 'tv', sources: [`${proxies[2].url}/hls/live.m3u8`], latencySec: delay },
        originMs,
      ),
      // a master playlist: its variant is followed, PDT and all (segments published promptly)
      validateChannel(
        { id: 'hls-pdt-master', kind: 'tv', sources: [`${proxies[3].url}/hls/master.m3u8`] },
        originMs,
      ),
    ];
    for (const c of channels) await repo.saveChannel(c);
    expect((await repo.getChannel('hls-latency'))?.latencySec).toBe(delay);
    const monitor = new Monitor({
      store,
      channels,
      config: monitorConfig({ connectTimeoutMs: 3000, stallTimeoutMs: 2000, backoffBaseMs: 300 }),
      createMatcher: () => new StreamMatcher(index),
      evidenceDir: join(dir, 'evidence'),
      now: pdt.now,
      timeScale: speed,
      http: { host: '127.0.0.1', port: 0 },
      seed: 1,
    });
    await monitor.start();
    let metricsText = '';
    try {
      // the broadcast ends at 157 s; the last segments are published 3 s later
      const waitMs = ((155 + delay - pdt.positionSec()) * 1000) / speed;
      await new Promise((r) => setTimeout(r, waitMs));
      metricsText = await (await fetch(`${monitor.httpAddress}/metrics`)).text();
    } finally {
      await monitor.stop();
      for (const p of proxies) await p.close();
    }

    const found: Record<string, Map<string, number>> = {};
    for (const c of channels) {
      const dets = await repo.detections(c.id, 0, Number.MAX_SAFE_INTEGER);
      expect(
        dets.map((d) => d.recordingId),
        c.id,
      ).toEqual(['song-a', 'song-b', 'song-c']);
      found[c.id] = offsets(dets, originMs);
    }
    // with PDT: the packager's 3 s are gone, and so is the fetch latency
    for (const id of ['hls-pdt', 'hls-pdt-master']) {
      for (const [song, off] of found[id]) expect(Math.abs(off), `${id} ${song}`).toBeLessThan(0.1);
    }
    // without PDT: arrival anchoring as before, late by the publication latency (never early)
    for (const [song, off] of found['hls-plain']) {
      expect(off, `hls-plain ${song}`).toBeGreaterThan(-0.05);
      expect(off, `hls-plain ${song}`).toBeLessThan(1.5);
    }
    // a declared latency takes the packager's 3 s off arrival times; the fetch latency remains
    for (const [song, off] of found['hls-latency']) {
      expect(off, `hls-latency ${song}`).toBeGreaterThan(-0.05);
      expect(off, `hls-latency ${song}`).toBeLessThan(1.5);
    }

    // the lost segment is a discontinuity gap where it aired, song B one detection across it
    const gaps = await repo.gaps('hls-pdt', 0, Number.MAX_SAFE_INTEGER);
    const rel = (ms: number | null) => (ms === null ? NaN : (ms - originMs) / 1000);
    const hole = gaps.filter((g) => g.reason === 'discontinuity');
    expect(hole, JSON.stringify(gaps)).toHaveLength(1);
    const segStart = broadcast.hlsSegments[lost].startSec;
    const segEnd = broadcast.hlsSegments[lost].endSec;
    expect(Math.abs(rel(hole[0].startMs) - segStart), `gap from ${rel(hole[0].startMs)}`).toBeLessThan(0.1);
    expect(Math.abs(rel(hole[0].endMs) - segEnd), `gap to ${rel(hole[0].endMs)}`).toBeLessThan(0.1);
    expect(gaps.filter((g) => g.reason === 'discontinuity' || g.reason === 'source_down')).toHaveLength(1);

    // the air-check clips are stamped by the same anchors: each song begins in its clip where the
    // clip's time says (song B's clip jumps over the lost segment, after the song's start)
    const rows = await store.db
      .selectFrom('detections')
      .select(['recording_id', 'start_ms', 'evidence_path', 'evidence_start_ms'])
      .where('channel_id', '=', 'hls-pdt')
      .execute();
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      // (matching a file does not stitch: song B's clip is found in two parts, either side of the hole)
      const inClip = await matchFile(index, r.evidence_path!);
      expect([...new Set(inClip.map((d) => d.recording))]).toEqual([r.recording_id]);
      const expectedSec = (r.start_ms - r.evidence_start_ms!) / 1000;
      expect(
        Math.abs(inClip[0].start - expectedSec),
        `${r.recording_id} at ${inClip[0].start} s in its clip`,
      ).toBeLessThan(0.3);
    }

    for (const id of ['hls-pdt', 'hls-pdt-master']) {
      expect(metricsText).toContain(
        `tyndau_clock_anchoring{channel="${id}",anchoring="program_date_time"} 1`,
      );
    }
    expect(metricsText).toMatch(/tyndau_clock_anchoring\{channel="hls-plain",anchoring="arrival"\} 1/);
    expect(metricsText).toMatch(/tyndau_clock_anchoring\{channel="hls-latency",anchoring="arrival"\} 1/);
    // the latency the PDT took out: the 3 s of publishing delay and the fetch, or the fetch alone
    const latency = (id: string): number =>
      Number(
        new RegExp(`tyndau_clock_pdt_latency_seconds\\{channel="${id}"\\} ([-\\d.e]+)`).exec(
          metricsText,
        )?.[1],
      );
    expect(latency('hls-pdt')).toBeGreaterThan(delay);
    expect(latency('hls-pdt')).toBeLessThan(delay + 1.5);
    expect(latency('hls-pdt-master')).toBeGreaterThan(0);
    expect(latency('hls-pdt-master')).toBeLessThan(1.5);
    expect(metricsText).not.toMatch(/tyndau_clock_pdt_latency_seconds\{channel="hls-plain"\}/);
    // the old path does not re-time a PDT connection: its anchor is not an estimate
    expect(metricsText).not.toMatch(/tyndau_clock_retimed_seconds_total\{channel="hls-pdt"\} [1-9]/);
  });
});
