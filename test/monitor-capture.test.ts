// Capture through real ffmpeg against a real HTTP server: a live stream, a stalled one, one that never
// answers, one that answers HTML, a refused port; failover to a second source and back; graceful stop.
// No recognition here (see monitor-live.test.ts for that).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelRunner,
  MonitorRepository,
  monitorConfig,
  parseSource,
  readMp3Header,
  startCapture,
  validateChannel,
  type CaptureOptions,
} from '../src/monitor/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';
import {
  prepareBroadcast,
  startStreamServer,
  type PreparedBroadcast,
  type StreamServer,
} from './helpers/stream-server.js';

const SPEED = 8;
let broadcast: PreparedBroadcast;
let server: StreamServer;
let dir: string;
const servers: StreamServer[] = [];

/** A server of its own for a test, whose broadcast is at `atSec` now. */
async function fresh(atSec = 0, originMs?: number): Promise<StreamServer> {
  const s = await startStreamServer(broadcast, {
    speed: SPEED,
    originMs: originMs ?? Date.now() - (atSec * 1000) / SPEED,
  });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  broadcast = prepareBroadcast(join(tmpdir(), 'tyndau-test-cache'), [
    { kind: 'song', seed: 801, durationSec: 40, id: null },
    { kind: 'silence', durationSec: 12 },
    { kind: 'song', seed: 802, durationSec: 40, id: null },
  ]);
  server = await fresh();
  dir = mkdtempSync(join(tmpdir(), 'tyndau-monitor-capture-'));
});

afterAll(async () => {
  for (const s of servers) await s.close();
});

function capture(url: string, extra: Partial<CaptureOptions> = {}) {
  let samples = 0;
  let evidenceBytes = 0;
  const session = startCapture({
    source: { kind: 'http', url },
    sampleRate: 8000,
    evidence: { sampleRate: 16000, bitrateKbps: 32 },
    connectTimeoutMs: 1500,
    stallTimeoutMs: 1000,
    killGraceMs: 1000,
    ioTimeoutMs: 30_000,
    onPcm: (pcm) => (samples += pcm.length),
    onEvidence: (b) => (evidenceBytes += b.length),
    ...extra,
  });
  return { session, samples: () => samples, evidenceBytes: () => evidenceBytes };
}

describe('capture', () => {
  it('streams PCM at the analysis rate and the MP3 air-check, faster than real time with the server', async () => {
    const server = await fresh();
    const c = capture(`${server.url}/live.mp3`);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const exit = await c.session.stop();
    const wallSec = (Date.now() - t0) / 1000;
    expect(exit.reason).toBe('stopped');
    // the server sends SPEED seconds of audio per second
    expect(c.samples() / 8000).toBeGreaterThan(wallSec * SPEED * 0.5);
    expect(c.samples() / 8000).toBeLessThan(wallSec * SPEED * 1.2);
    expect(c.evidenceBytes()).toBeGreaterThan(0);
  });

  it('kills a stalled stream after the stall timeout', async () => {
    const server = await fresh();
    const c = capture(`${server.url}/live.mp3`);
    await new Promise((r) => setTimeout(r, 700));
    server.stall();
    try {
      const exit = await c.session.exited;
      expect(exit.reason).toBe('stalled');
      expect(exit.message).toMatch(/no audio for 1 s \(the stream stalled\)/);
      expect(c.samples()).toBeGreaterThan(0);
    } finally {
      server.unstall();
    }
  });

  it('kills a hung ffmpeg that no longer obeys SIGTERM', async () => {
    const server = await fresh();
    const c = capture(`${server.url}/live.mp3`);
    while (c.samples() === 0) await new Promise((r) => setTimeout(r, 20));
    // a stopped process neither writes nor handles SIGTERM: only SIGKILL ends it
    process.kill(c.session.pid!, 'SIGSTOP');
    const exit = await c.session.exited;
    expect(exit).toMatchObject({ reason: 'stalled', forcedKill: true, signal: 'SIGKILL' });
  });

  it('gives up on a source that never answers, with a clear message', async () => {
    const c = capture(`${server.url}/hang`);
    const exit = await c.session.exited;
    expect(exit.reason).toBe('connect_timeout');
    expect(exit.message).toMatch(/no audio within 2 s \(the source does not answer\)/);
    expect(c.samples()).toBe(0);
  });

  it('fails fast on a web page and on a refused port, saying why', async () => {
    const html = await capture(`${server.url}/html`).session.exited;
    expect(html.reason).toBe('failed');
    expect(html.message).toMatch(/Invalid data found when processing input/);
    const port = await freePort();
    const refused = await capture(`http://127.0.0.1:${port}/live`).session.exited;
    expect(refused.reason).toBe('failed');
    expect(refused.message).toMatch(/Connection refused/);
    const missing = await capture(`${server.url}/nothing.mp3`).session.exited;
    expect(missing.message).toMatch(/404 Not Found/);
  });

  for (const proto of ['udp', 'srt'] as const) {
    it(`receives an MPEG-TS stream over ${proto.toUpperCase()} from a real sender`, async () => {
      const port = await freePort();
      const listen = proto === 'udp' ? `udp://127.0.0.1:${port}` : `srt://127.0.0.1:${port}?mode=listener`;
      const target =
        proto === 'udp' ? `udp://127.0.0.1:${port}?pkt_size=1316` : `srt://127.0.0.1:${port}?mode=caller`;
      let samples = 0;
      const session = startCapture({
        source: parseSource(listen),
        sampleRate: 8000,
        evidence: null,
        connectTimeoutMs: 8000,
        stallTimeoutMs: 3000,
        killGraceMs: 1000,
        ioTimeoutMs: 8000,
        onPcm: (pcm) => (samples += pcm.length),
      });
      await new Promise((r) => setTimeout(r, 300));
      const sender = spawn('ffmpeg', [
        ...['-v', 'error', '-readrate', '8', '-i', broadcast.mp3Path, '-t', '30'],
        ...['-c', 'copy', '-f', 'mpegts', target],
      ]);
      try {
        const t0 = Date.now();
        while (samples < 4 * 8000 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
        expect(samples).toBeGreaterThanOrEqual(4 * 8000);
      } finally {
        sender.kill('SIGKILL');
        await session.stop();
      }
    });
  }

  it('encodes the air-check as constant-bit-rate MP3 frames', async () => {
    const server = await fresh();
    const chunks: Buffer[] = [];
    const c = capture(`${server.url}/live.mp3`, { onEvidence: (b) => chunks.push(b) });
    await new Promise((r) => setTimeout(r, 800));
    await c.session.stop();
    const all = Buffer.concat(chunks);
    const h = readMp3Header(all, 0);
    expect(h).toEqual({ sampleRate: 16000, samplesPerFrame: 576, bytes: 144 });
  });
});

describe('channel runner without recognition', () => {
  let store: Store;
  let repo: MonitorRepository;

  beforeAll(async () => {
    store = openStore({ url: `sqlite:${join(dir, 'tyndau.db')}` });
    await migrateToLatest(store);
    repo = new MonitorRepository(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  const fast = monitorConfig({
    backoffBaseMs: 200,
    backoffMaxMs: 1000,
    connectTimeoutMs: 1000,
    stallTimeoutMs: 1000,
    killGraceMs: 500,
    failedAfterAttempts: 2,
    recoveryProbeSec: 1,
    heartbeatEveryMs: 200,
  });

  async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('fails over to the second source and goes back when the first recovers', async () => {
    const server = await fresh();
    const primary = await fresh(0, server.originMs);
    primary.down();
    const channel = validateChannel(
      { id: 'fm-failover', sources: [`${primary.url}/live.mp3`, `${server.url}/live.mp3`] },
      Date.now(),
    );
    await repo.saveChannel(channel);
    const runner = new ChannelRunner({
      channel,
      config: fast,
      repo,
      matcher: null,
      evidenceDir: null,
      now: server.now,
    });
    const done = runner.start();
    try {
      await until(
        'the fallback source',
        () => runner.health().sourceIndex === 1 && runner.health().state === 'listening',
      );
      primary.up();
      await until(
        'the preferred source again',
        () => runner.health().sourceIndex === 0 && runner.health().state === 'listening',
      );
      expect(primary.requests.get('/live.mp3')).toBeGreaterThanOrEqual(2);
    } finally {
      await runner.stop();
      await done;
    }
    const gaps = await repo.gaps('fm-failover', 0, Number.MAX_SAFE_INTEGER);
    // only the moments of switching (if long enough to count) and the stop were unheard
    expect(
      gaps.slice(0, -1).every((g) => ['source_down', 'source_switch'].includes(g.reason) && g.endMs !== null),
    ).toBe(true);
    expect(gaps.at(-1)).toMatchObject({ reason: 'monitor_stopped', endMs: null });
    const state = await repo.state('fm-failover');
    expect(state).toMatchObject({ state: 'stopped', source_index: 0 });
  });

  it('reports a channel whose every source fails as failed, naming the reason, and keeps its gap open', async () => {
    const channel = validateChannel(
      { id: 'fm-broken', sources: [`${server.url}/html`, `${server.url}/hang`] },
      Date.now(),
    );
    await repo.saveChannel(channel);
    const runner = new ChannelRunner({ channel, config: fast, repo, matcher: null, evidenceDir: null });
    const done = runner.start();
    try {
      await until('the failed state', () => runner.health().state === 'failed', 20_000);
      expect(runner.health().detail).toMatch(/Invalid data found|does not answer/);
    } finally {
      await runner.stop();
      await done;
    }
    const gaps = await repo.gaps('fm-broken', 0, Number.MAX_SAFE_INTEGER);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ reason: 'source_down', endMs: null });
    expect(gaps[0].detail).toMatch(/html|hang/);
  });

  it('records silence as a gap, and a restart closes the stopped gap at the first audio', async () => {
    // the broadcast's silence is at 40-52 s
    const silenceAt = 40;
    const server = await fresh(silenceAt - 12);
    const channel = validateChannel({ id: 'fm-quiet', sources: [`${server.url}/live.mp3`] }, Date.now());
    await repo.saveChannel(channel);
    const run = async (untilSec: number): Promise<void> => {
      const runner = new ChannelRunner({
        channel,
        config: fast,
        repo,
        matcher: null,
        evidenceDir: null,
        now: server.now,
      });
      const done = runner.start();
      await until(`position ${untilSec}`, () => server.positionSec() >= untilSec, 20_000);
      await runner.stop();
      await done;
    };
    {
      await run(silenceAt + 20);
      const gaps = await repo.gaps('fm-quiet', 0, Number.MAX_SAFE_INTEGER);
      const silence = gaps.find((g) => g.reason === 'silence');
      expect(silence).toBeDefined();
      expect(silence!.startMs).toBeGreaterThan(server.utcOf(silenceAt) - 1000);
      expect(silence!.startMs).toBeLessThan(server.utcOf(silenceAt) + 1000);
      expect(silence!.endMs! - silence!.startMs).toBeGreaterThan(10_000);
      expect(silence!.endMs! - silence!.startMs).toBeLessThan(13_500);
    }
    const before = await repo.gaps('fm-quiet', 0, Number.MAX_SAFE_INTEGER);
    const stopped = before.find((g) => g.reason === 'monitor_stopped' && g.endMs === null);
    expect(stopped).toBeDefined();
    await run(server.positionSec() + 8);
    const after = await repo.gaps('fm-quiet', 0, Number.MAX_SAFE_INTEGER);
    const closed = after.find((g) => g.id === stopped!.id)!;
    expect(closed.endMs).not.toBeNull();
    expect(closed.endMs! - closed.startMs).toBeGreaterThan(0);
    expect(after.filter((g) => g.endMs === null)).toHaveLength(1);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
