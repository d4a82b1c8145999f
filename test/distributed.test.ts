// Distributed mode end to end against a real Redis (a server of this test's own, so the shared one is
// never disturbed): two capture nodes on live MP3 streams served 8x faster than real time, matcher
// workers as separate `tyndau worker` processes, the centre on SQLite. Then the same with a worker
// killed mid-batch, a capture node's link cut, and Redis stopped for 30 s; and bad batches.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAudioFile } from '../src/audio/index.js';
import pino from 'pino';
import {
  CaptureNode,
  Centre,
  CentreLink,
  ChannelSpool,
  ChannelStitcher,
  PeakBatcher,
  WIRE_VERSION,
  batchPeaks,
  connectRedis,
  distributedConfig,
  matchBatch,
  resultInput,
  toWirePeaks,
  type PeakBatch,
  type SealedBatch,
} from '../src/distributed/index.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { matchFile } from '../src/match/index.js';
import {
  MonitorRepository,
  monitorConfig,
  validateChannel,
  type AiredDetection,
  type Channel,
} from '../src/monitor/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';
import { main } from '../src/cli/main.js';
import {
  prepareBroadcast,
  startStreamServer,
  LIVE_TEST_PLAN,
  type PreparedBroadcast,
  type StreamServer,
} from './helpers/stream-server.js';

const SPEED = 8;
// A: song-a 5-35, song-b 40-100, song-c 105-135, silence 135-147 (the monitor's live test broadcast)
const PLAN_A = LIVE_TEST_PLAN;
// B: song-d 4-44, song-e 50-85 (enrolled while the workers run), song-a again 90-120
const PLAN_B = [
  { kind: 'song', seed: 905, durationSec: 4, id: null },
  { kind: 'song', seed: 14, durationSec: 40, id: 'song-d' },
  { kind: 'song', seed: 906, durationSec: 6, id: null },
  { kind: 'song', seed: 17, durationSec: 35, id: 'song-e' },
  { kind: 'song', seed: 907, durationSec: 5, id: null },
  { kind: 'song', seed: 11, durationSec: 30, id: 'song-a' },
  { kind: 'song', seed: 908, durationSec: 25, id: null },
] as const;
const TRUTH: Record<string, Array<[string, number, number]>> = {
  'fm-a': [
    ['song-a', 5, 35],
    ['song-b', 40, 100],
    ['song-c', 105, 135],
  ],
  'fm-b': [
    ['song-d', 4, 44],
    ['song-e', 50, 85],
    ['song-a', 90, 120],
  ],
};

let dir: string;
let indexDir: string;
let redisPort: number;
let redis: ChildProcess | null = null;
let bA: PreparedBroadcast;
let bB: PreparedBroadcast;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

// --- helpers ---------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startRedis(): Promise<void> {
  const proc = spawn(
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  redis = proc;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(redisPort, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

async function stopRedis(): Promise<void> {
  const proc = redis;
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  spawn('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave'], { stdio: 'ignore' });
  await Promise.race([exited, sleep(5000)]);
  if (proc.exitCode === null) proc.kill('SIGKILL');
  redis = null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP proxy in front of Redis: cut() is a capture node losing its network. */
async function startProxy(targetPort: number) {
  const socks = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const up = connect(targetPort, '127.0.0.1');
    socks.add(client).add(up);
    client.pipe(up).pipe(client);
    const close = () => {
      client.destroy();
      up.destroy();
      socks.delete(client);
      socks.delete(up);
    };
    client.on('error', close).on('close', close);
    up.on('error', close).on('close', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      cut = true;
      for (const s of socks) s.destroy();
    },
    restore: () => {
      cut = false;
    },
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

interface WorkerProc {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves with the first line matching `re`, from the start or (fresh) only from now on. */
  waitFor(re: RegExp, timeoutMs: number, fresh?: boolean): Promise<string>;
}

function spawnWorker(name: string, prefix: string, settings: Record<string, number>): WorkerProc {
  const cfg = join(dir, `worker-${name}.json`);
  writeFileSync(cfg, JSON.stringify({ distributed: settings }));
  const proc = spawn(
    process.execPath,
    [
      ...['--import', 'tsx', 'src/cli/bin.ts', 'worker', '--redis', `redis://127.0.0.1:${redisPort}`],
      ...['--prefix', prefix, '--index', indexDir, '--config', cfg, '--name', name, '--log-level', 'debug'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let buf = '';
  const onData = (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const w: WorkerProc = {
    proc,
    lines,
    exited,
    waitFor: (re, timeoutMs, fresh = false) => {
      const seen = fresh ? undefined : lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `worker ${name}: no line ${re} in ${timeoutMs} ms; its last lines:\n${lines.slice(-8).join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
  cleanups.push(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  });
  return w;
}

const CONFIG = distributedConfig({
  lockDurationMs: 4000,
  indexRefreshSec: 1,
  republishMs: 1000,
  ackPollMs: 200,
  heartbeatSec: 2,
});
const MONITOR = monitorConfig({
  connectTimeoutMs: 3000,
  stallTimeoutMs: 2000,
  backoffBaseMs: 300,
  heartbeatEveryMs: 1000,
});

/** One deployment: its own Redis prefix, database, stream servers and capture nodes. */
class Pipeline {
  readonly prefix = `tyndau-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly store: Store;
  readonly repo: MonitorRepository;
  centre: Centre | null = null;
  readonly servers: StreamServer[] = [];
  readonly nodes: CaptureNode[] = [];
  readonly spooled = new Map<string, PeakBatch[]>();
  readonly latencies: number[] = [];
  channels: Channel[] = [];
  originMs = 0;

  constructor(readonly name: string) {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    this.store = openStore({ url: `sqlite:${join(d, 'tyndau.db')}` });
    this.repo = new MonitorRepository(this.store.db);
    cleanups.push(() => this.close());
  }

  get url(): string {
    return `redis://127.0.0.1:${redisPort}`;
  }

  /** The centre first (it knows the channels from the database); the broadcasts begin once the nodes start. */
  async startCentre(config = CONFIG): Promise<void> {
    await migrateToLatest(this.store);
    for (const id of ['fm-a', 'fm-b', 'fm-c']) {
      await this.repo.saveChannel(validateChannel({ id, sources: ['file:/dev/null'] }, Date.now()));
    }
    this.centre = new Centre({
      redisUrl: this.url,
      prefix: this.prefix,
      store: this.store,
      monitor: MONITOR,
      config,
      now: () => this.servers[0]?.now() ?? Date.now(),
      indexDir,
      evidenceDir: join(dir, this.name, 'centre-evidence'),
      onDetection: (_d, latencyMs) => this.latencies.push(latencyMs),
    });
    await this.centre.start();
  }

  async startNodes(
    urlFor: (channelId: string) => string = () => this.url,
    evidenceFor: (channelId: string) => boolean = () => false,
  ): Promise<void> {
    // the broadcasts begin a moment from now, once the nodes listen
    this.originMs = Date.now() + 1500;
    this.servers.push(await startStreamServer(bA, { speed: SPEED, originMs: this.originMs }));
    this.servers.push(await startStreamServer(bB, { speed: SPEED, originMs: this.originMs }));
    this.channels = [
      validateChannel({ id: 'fm-a', sources: [`${this.servers[0].url}/live.mp3`] }, this.originMs),
      validateChannel({ id: 'fm-b', sources: [`${this.servers[1].url}/live.mp3`] }, this.originMs),
    ];
    for (const ch of this.channels) {
      this.spooled.set(ch.id, []);
      const node = new CaptureNode({
        nodeId: `node-${ch.id}`,
        channels: [ch],
        monitor: MONITOR,
        config: CONFIG,
        redisUrl: urlFor(ch.id),
        prefix: this.prefix,
        spoolDir: join(dir, this.name, `node-${ch.id}`),
        evidenceDir: evidenceFor(ch.id) ? join(dir, this.name, `node-${ch.id}`, 'evidence') : null,
        now: this.servers[0].now,
        seed: 1,
        onSpooled: (b) => this.spooled.get(ch.id)!.push(b),
      });
      await node.start();
      this.nodes.push(node);
    }
  }

  /** Waits until broadcast position `sec` airs. */
  async until(sec: number): Promise<void> {
    const waitMs = ((sec - this.servers[0].positionSec()) * 1000) / SPEED;
    if (waitMs > 0) await sleep(waitMs);
  }

  async stopNodes(drainMs: number): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(drainMs)));
    const t0 = Date.now();
    // the centre acknowledged everything; let it finish applying
    while (Date.now() - t0 < 5000) {
      await this.centre!.settled();
      const flows = this.centre!.flows().filter((f) => f.channelId !== 'fm-c');
      const spooled = flows.every((f) => f.nextSeq === (this.spooled.get(f.channelId)?.length ?? 0) + 1);
      if (spooled) break;
      await sleep(100);
    }
  }

  async detections(channelId: string): Promise<AiredDetection[]> {
    return this.repo.detections(channelId, 0, Number.MAX_SAFE_INTEGER);
  }

  async close(): Promise<void> {
    for (const n of this.nodes.splice(0)) await n.stop(0).catch(() => {});
    await this.centre?.stop().catch(() => {});
    this.centre = null;
    for (const s of this.servers.splice(0)) await s.close();
    await this.store.close().catch(() => {});
  }
}

/** The pure pipeline on the batches a node spooled: what the centre must have stored, exactly. */
function replay(index: ReferenceIndex, channelId: string, batches: PeakBatch[]): AiredDetection[] {
  const st = new ChannelStitcher(channelId, {
    finalizeAfterSec: CONFIG.finalizeAfterSec,
    joinGapSec: CONFIG.joinGapSec,
    recentKeepSec: CONFIG.recentKeepSec,
    extendGapSec: CONFIG.extendGapSec,
    stitchEdgeSec: MONITOR.stitchEdgeSec,
    stitchWaitSec: MONITOR.stitchWaitSec,
    stitchOffsetToleranceSec: MONITOR.stitchOffsetToleranceSec,
  });
  const out = new Map<string, AiredDetection>();
  for (const b of [...batches].sort((x, y) => x.seq - y.seq)) {
    const { peaks, skips } = batchPeaks(b);
    const fragments =
      b.epochMs === null ? [] : matchBatch(index, { epochMs: b.epochMs, peaks, skips, toUnits: b.toUnits });
    const o = st.apply(resultInput({ ...b, fragments, rejected: null }, st.positionMs, null).input);
    for (const d of [...o.finals, ...o.corrected]) out.set(d.id, d);
  }
  return [...out.values()].sort((a, b) => a.startMs - b.startMs);
}

function expectTruth(dets: AiredDetection[], channelId: string, originMs: number): void {
  const truth = TRUTH[channelId];
  expect(
    dets.map((d) => d.recordingId),
    channelId,
  ).toEqual(truth.map((t) => t[0]));
  for (const [i, [id, start, end]] of truth.entries()) {
    const d = dets[i];
    expect(Math.abs((d.startMs - originMs) / 1000 - start), `${channelId} ${id} start`).toBeLessThan(1.5);
    expect(Math.abs((d.endMs - originMs) / 1000 - end), `${channelId} ${id} end`).toBeLessThan(1.5);
  }
}

const key = (d: AiredDetection) => [d.id, d.recordingId, d.startMs, d.endMs];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tyndau-distributed-'));
  bA = prepareBroadcast(
    join(tmpdir(), 'tyndau-test-cache'),
    PLAN_A.map((p) => ({ ...p })),
  );
  bB = prepareBroadcast(
    join(tmpdir(), 'tyndau-test-cache'),
    PLAN_B.map((p) => ({ ...p })),
  );
  indexDir = join(dir, 'fingerprints');
  const index = ReferenceIndex.open(indexDir);
  for (const id of ['song-a', 'song-b', 'song-c']) await enrollFile(index, bA.songs.get(id)!, { id });
  await enrollFile(index, bB.songs.get('song-d')!, { id: 'song-d' });
  index.close();
  redisPort = await freePort();
  await startRedis();
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopRedis();
});

describe('distributed mode on BullMQ and Redis', () => {
  let calm: Pipeline;
  /** The undisturbed run's detections: recording, start and end in broadcast seconds. */
  const calmList = new Map<string, Array<[string, number, number]>>();
  const workers: WorkerProc[] = [];

  it('two capture nodes, two matcher workers: every registered recording is detected exactly once', async () => {
    calm = new Pipeline('calm');
    workers.push(spawnWorker('w1', calm.prefix, {}), spawnWorker('w2', calm.prefix, {}));
    await calm.startCentre();
    await Promise.all(workers.map((w) => w.waitFor(/matcher worker started/, 30_000)));
    // song-e is enrolled while the workers run: every worker picks it up without a restart
    const index = ReferenceIndex.open(indexDir);
    await enrollFile(index, bB.songs.get('song-e')!, { id: 'song-e' });
    index.close();
    await Promise.all(workers.map((w) => w.waitFor(/reference index refreshed/, 30_000)));
    // fm-a keeps air-check evidence: clips are cut at the node and uploaded with their detections
    await calm.startNodes(undefined, (ch) => ch === 'fm-a');
    await calm.until(162);
    await calm.stopNodes(20_000);

    const replayIndex = ReferenceIndex.open(indexDir, { readonly: true });
    try {
      for (const ch of ['fm-a', 'fm-b']) {
        const dets = await calm.detections(ch);
        expectTruth(dets, ch, calm.originMs);
        calmList.set(
          ch,
          dets.map((d) => [
            d.recordingId,
            (d.startMs - calm.originMs) / 1000,
            (d.endMs - calm.originMs) / 1000,
          ]),
        );
        expect(await calm.repo.pending(ch), ch).toEqual([]);
        // the stored detections are exactly what the batches give, matched and stitched in one process
        expect(dets.map(key), ch).toEqual(replay(replayIndex, ch, calm.spooled.get(ch)!).map(key));
      }
    } finally {
      replayIndex.close();
    }
    // both workers did work; the centre applied every batch once, in order
    for (const w of workers)
      expect(w.lines.filter((l) => l.includes('matching batch')).length).toBeGreaterThan(3);
    for (const f of calm.centre!.flows().filter((f) => f.channelId !== 'fm-c')) {
      expect(f.batchesApplied).toBe(calm.spooled.get(f.channelId)!.length);
      expect(f.batchesLost).toBe(0);
    }
    // the evidence: each fm-a detection has its clip at the centre, and the clip is the recording
    const rows = await calm.store.db
      .selectFrom('detections')
      .select(['recording_id', 'start_ms', 'end_ms', 'evidence_path', 'evidence_start_ms'])
      .where('channel_id', '=', 'fm-a')
      .orderBy('start_ms')
      .execute();
    expect(rows).toHaveLength(3);
    const clipIndex = ReferenceIndex.open(indexDir, { readonly: true });
    try {
      for (const r of rows) {
        expect(r.evidence_path, r.recording_id).toContain(join(dir, 'calm', 'centre-evidence', 'fm-a'));
        expect(existsSync(r.evidence_path!)).toBe(true);
        expect(Math.abs(r.evidence_start_ms! - (r.start_ms - 5000))).toBeLessThan(1000);
        const found = await matchFile(clipIndex, r.evidence_path!);
        expect(found.map((d) => d.recording)).toEqual([r.recording_id]);
      }
    } finally {
      clipIndex.close();
    }
    const gaps = await calm.repo.gaps('fm-a', 0, Number.MAX_SAFE_INTEGER);
    const silence = gaps.find((g) => g.reason === 'silence')!;
    expect(Math.abs((silence.startMs - calm.originMs) / 1000 - 135)).toBeLessThan(1);
    expect(Math.abs((silence.endMs! - calm.originMs) / 1000 - 147)).toBeLessThan(1);
    expect(await calm.repo.state('fm-a')).toMatchObject({ state: 'stopped' });
  });

  it('rejects malformed, oversized, unknown-channel and wrong-version batches with a reason, counts them, and keeps going', async () => {
    const queue = new Queue('batches', {
      connection: connectRedis(calm.url, 'worker', 'test'),
      prefix: calm.prefix,
    });
    cleanups.push(() => queue.close());
    // a good stream for channel fm-c, made here: song-d between two bits of unregistered music
    const pcm = await decodeAudioFile(bB.songs.get('song-d')!, { sampleRate: 8000 });
    const epoch = Date.UTC(2025, 0, 1);
    const sealed: SealedBatch[] = [];
    let pos = 0;
    const batcher = new PeakBatcher({
      channelId: 'fm-c',
      session: 'test',
      batchSec: 5,
      contextSec: 10,
      lastAudioMs: () => epoch + pos * 1000,
      onSealed: (s) => sealed.push(s),
    });
    for (let i = 0; i < pcm.length + 8000 * 20; i += 4000) {
      batcher.push(i < pcm.length ? pcm.subarray(i, i + 4000) : new Float32Array(4000));
      pos += 0.5;
    }
    batcher.sealEnd();
    const good = sealed.map((s, i) => ({
      ...s,
      nodeId: 'test',
      spoolId: 'spool-c',
      seq: i + 1,
      holdsFrom: 1,
    }));
    const template = good[3];
    const bad = [
      ['malformed', { ...template, seq: 'three' }, /seq must be an integer >= 1/],
      ['oversized', { ...template, seq: 1000, padding: 'x'.repeat(400_000) }, /the limit is 262144/],
      ['unknown_channel', { ...template, channelId: 'nope' }, /channel "nope" is not registered/],
      ['version', { ...template, seq: 1002, v: 7 }, /batch version 7/],
      [
        'malformed',
        { ...template, seq: 1001, spoolId: 'imposter', peaks: { ...template.peaks, count: 5 } },
        /peaks decoded/,
      ],
    ] as const;
    // bad ones first, good ones behind them: the queue must not stall
    for (const [i, [, data]] of bad.entries())
      await queue.add('batch', data, { jobId: `bad-${i}`, attempts: 3 });
    for (const b of good) await queue.add('batch', b, { jobId: `fm-c.${b.spoolId}.${b.seq}` });
    const t0 = Date.now();
    while ((await calm.detections('fm-c')).length === 0 && Date.now() - t0 < 30_000) await sleep(200);
    const dets = await calm.detections('fm-c');
    expect(dets.map((d) => d.recordingId)).toEqual(['song-d']);
    expect(Math.abs((dets[0].startMs - epoch) / 1000)).toBeLessThan(1);
    for (const [i, [reason, , message]] of bad.entries()) {
      const job = await queue.getJob(`bad-${i}`);
      expect(await job!.getState(), reason).toBe('failed');
      expect(job!.failedReason).toMatch(message);
      expect(job!.failedReason.startsWith(`${reason}:`)).toBe(true);
      expect(job!.attemptsMade, 'rejected at once, not retried').toBe(1);
    }
    await sleep(500);
    const counts = await calm.centre!.dist.rejectionCounts();
    expect(counts).toEqual({ malformed: 2, oversized: 1, unknown_channel: 1, version: 1 });
    const res = await fetchMetrics(calm);
    expect(res).toMatch(/tyndau_dist_rejected_batches_total\{reason="malformed"\} 2/);
    expect(res).toMatch(/tyndau_dist_queue_jobs\{queue="batches",state="failed"\} 5/);
    expect(res).toMatch(/tyndau_dist_channel_lag_seconds\{channel="fm-a"\} \d/);
    // and on the command line
    const status = await runCli([
      'centre',
      'status',
      '--json',
      '--redis',
      calm.url,
      '--prefix',
      calm.prefix,
      '--db',
      `sqlite:${join(dir, 'calm', 'tyndau.db')}`,
    ]);
    const s = JSON.parse(status) as {
      queues: Record<string, Record<string, number>>;
      rejections: Record<string, number>;
      channels: Array<{ channelId: string; batchesApplied: number }>;
    };
    expect(s.queues.batches.failed).toBe(5);
    expect(s.rejections).toEqual(counts);
    expect(s.channels.map((c) => c.channelId)).toEqual(['fm-a', 'fm-b', 'fm-c']);
    await queue.close();
    for (const w of workers.splice(0)) {
      w.proc.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    }
    await calm.close();
  });

  it('loses and duplicates nothing through a worker killed mid-batch, a cut link and Redis down for 30 s', async () => {
    const rough = new Pipeline('rough');
    // the victim takes long over each batch (5 s), so that it is surely killed in the middle of one
    const victim = spawnWorker('victim', rough.prefix, { simulateWorkMs: 5000, lockDurationMs: 2000 });
    const steady = spawnWorker('steady', rough.prefix, {});
    await rough.startCentre();
    await Promise.all([victim, steady].map((w) => w.waitFor(/matcher worker started/, 30_000)));
    const proxy = await startProxy(redisPort);
    cleanups.push(() => proxy.close());
    await rough.startNodes((ch) => (ch === 'fm-b' ? `redis://127.0.0.1:${proxy.port}` : rough.url));
    const nodeB = rough.nodes[1];

    await rough.until(20);
    // the batch it began less than 4 s ago, or else the next one it begins (waiting for a fresh start
    // of a 5 s batch would put the kill past the link cut at 30; with 1.5 s batches the kill, sent
    // when the line reached this busy process, once came after the batch was done: none stalled)
    const sentAt = (line: string) => (JSON.parse(line.slice(line.indexOf('{'))) as { time: number }).time;
    const latest = victim.lines.findLast((l) => l.includes('"matching batch"'));
    const mid =
      latest && Date.now() - sentAt(latest) < 4000
        ? latest
        : await victim.waitFor(/matching batch/, 20_000, true);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const killedJob = (JSON.parse(mid.slice(mid.indexOf('{'))) as { job: string }).job;
    const replacement = spawnWorker('replacement', rough.prefix, {});

    await rough.until(30);
    proxy.cut();
    await rough.until(60);
    const cutStatus = nodeB.status();
    expect(cutStatus.link!.up).toBe(false);
    expect(cutStatus.channels[0].pending).toBeGreaterThan(3);
    proxy.restore();

    // its lock lapsed: another worker took the batch over
    await Promise.any([steady, replacement].map((w) => w.waitFor(/a batch stalled/, 25_000)));
    await rough.until(110);
    await stopRedis();
    await sleep(30_000);
    // the broadcasts are over by now; the nodes kept capturing into their spools
    expect(rough.nodes.map((n) => n.status().channels[0].pending).every((p) => p > 5)).toBe(true);
    await startRedis();
    await rough.stopNodes(60_000);

    const replayIndex = ReferenceIndex.open(indexDir, { readonly: true });
    try {
      for (const ch of ['fm-a', 'fm-b']) {
        const dets = await rough.detections(ch);
        expectTruth(dets, ch, rough.originMs);
        expect(dets.map(key), ch).toEqual(replay(replayIndex, ch, rough.spooled.get(ch)!).map(key));
        expect(await rough.repo.pending(ch)).toEqual([]);
        // nothing was lost on the way: no hole the centre had to record (lost, rejected, unmatched batches)
        const gaps = await rough.repo.gaps(ch, 0, Number.MAX_SAFE_INTEGER);
        expect(
          gaps.filter((g) => /lost at the capture node|not matched|rejected|new spool/.test(g.detail ?? '')),
          ch,
        ).toEqual([]);
      }
    } finally {
      replayIndex.close();
    }
    // the same list as the undisturbed run, airing for airing (the capture's UTC anchor differs by a few ms)
    for (const ch of ['fm-a', 'fm-b']) {
      const rel = (await rough.detections(ch)).map((d) => [
        d.recordingId,
        (d.startMs - rough.originMs) / 1000,
        (d.endMs - rough.originMs) / 1000,
      ]);
      const calmRel = calmList.get(ch)!;
      expect(rel.map((x) => x[0])).toEqual(calmRel.map((x) => x[0]));
      for (const [i, x] of rel.entries()) {
        expect(Math.abs((x[1] as number) - calmRel[i][1]), `${ch} ${x[0]} start`).toBeLessThan(1);
        expect(Math.abs((x[2] as number) - calmRel[i][2]), `${ch} ${x[0]} end`).toBeLessThan(1);
      }
    }
    const steadyLog = [...steady.lines, ...replacement.lines].join('\n');
    expect(steadyLog, 'the killed batch was matched again').toMatch(
      new RegExp(`"job":"${killedJob.replace(/\./g, '\\.')}"`),
    );
    for (const f of rough.centre!.flows().filter((f) => f.channelId !== 'fm-c'))
      expect(f.batchesLost).toBe(0);
    // nothing of this run stays behind for the next test: its centre, workers and proxy go now
    for (const w of [steady, replacement]) {
      w.proc.kill('SIGTERM');
      await w.exited;
    }
    await proxy.close();
    await rough.close();
  }, 180_000);

  it('delivers what a capture node spooled before it was restarted', { timeout: 120_000 }, async () => {
    const name = 'restart';
    const p = new Pipeline(name);
    const worker = spawnWorker(name, p.prefix, {});
    await p.startCentre();
    await worker.waitFor(/matcher worker started/, 30_000);
    // a logger folder: the node plays the file once and remembers it did
    const logger = join(dir, name, 'logger');
    mkdirSync(logger, { recursive: true });
    const file = join(logger, 'fm-d_2025-03-14_12-00-00.mp3');
    copyFileSync(bA.mp3Path, file);
    utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const channel = validateChannel({ id: 'fm-d', sources: [`dir:${logger}/`] }, Date.now());
    await p.repo.saveChannel(channel);
    const node = (url: string) =>
      new CaptureNode({
        nodeId: 'node-d',
        channels: [channel],
        monitor: MONITOR,
        config: CONFIG,
        redisUrl: url,
        prefix: p.prefix,
        spoolDir: join(dir, name, 'node-d'),
        evidenceDir: null,
      });
    // first run: the link is down the whole time, so everything stays in the spool
    const proxy = await startProxy(redisPort);
    cleanups.push(() => proxy.close());
    proxy.cut();
    const first = node(`redis://127.0.0.1:${proxy.port}`);
    await first.start();
    const t0 = Date.now();
    while (!(first.status().channels[0].health.detail ?? '').includes('waiting for new logger files')) {
      if (Date.now() - t0 > 30_000) throw new Error('the logger file was not played');
      await sleep(100);
    }
    await first.stop(0);
    const spooled = first.status().channels[0];
    expect(spooled.acked).toBe(0);
    expect(spooled.spooled).toBeGreaterThan(25);
    expect(await p.detections('fm-d')).toEqual([]);
    // the node comes back (and its link with it): the spool drains, the file is not played again
    const second = node(p.url);
    await second.start();
    const drained = await second.drain(30_000);
    expect(drained, drained ? '' : await flowState(p, second, worker, 'fm-d')).toBe(true);
    await p.centre!.settled();
    const originMs = Date.UTC(2025, 2, 14, 7, 0, 0); // 12:00 in Almaty
    expectTruth(await p.detections('fm-d'), 'fm-a', originMs);
    // the second run played nothing again: only its heartbeat and end batches were added
    expect(second.status().channels[0].spooled - spooled.spooled).toBeLessThan(5);
    await second.stop(5000);
    const flow = p.centre!.flows().find((f) => f.channelId === 'fm-d')!;
    expect(flow.batchesLost).toBe(0);
    expect(flow.batchesApplied).toBeGreaterThanOrEqual(spooled.spooled);
    worker.proc.kill('SIGTERM');
    await worker.exited;
    await proxy.close();
    await p.close();
  });

  it('holds the batches of a channel the centre does not list yet, and delivers them once it does', async () => {
    // The race behind the restart test's drain timing out: a channel registered after the centre
    // started is in its published list only from the next republish. Batches sent before that were
    // refused by the workers as of an unknown channel, for good (a failed job keeps its id, so a
    // resend cannot replace it), and the centre waited for their seqs: nothing was ever applied.
    const p = new Pipeline('late-channel');
    const worker = spawnWorker('late', p.prefix, {});
    await p.startCentre({ ...CONFIG, republishMs: 4000 });
    await worker.waitFor(/matcher worker started/, 30_000);
    await p.repo.saveChannel(validateChannel({ id: 'fm-late', sources: ['file:/dev/null'] }, Date.now()));
    const spool = ChannelSpool.open(join(dir, 'late-channel', 'spool'), {
      maxBytes: 1 << 20,
      segmentBytes: 1 << 16,
      fsync: false,
    });
    for (let i = 0; i < 5; i++) spool.append(emptyBatch('fm-late'));
    const link = new CentreLink({
      redisUrl: p.url,
      prefix: p.prefix,
      nodeId: 'node-late',
      config: CONFIG,
      log: pino({ level: 'silent' }),
    });
    link.addChannel('fm-late', spool);
    try {
      link.start();
      expect(await link.drain(20_000)).toBe(true);
      await p.centre!.settled();
      expect(p.centre!.flows().find((f) => f.channelId === 'fm-late')).toMatchObject({
        nextSeq: 6,
        batchesApplied: 5,
      });
      expect(await p.centre!.dist.rejectionCounts()).toEqual({});
    } finally {
      await link.close();
      spool.close();
      worker.proc.kill('SIGTERM');
      await worker.exited;
      await p.close();
    }
  });

  it("keeps a capture node's link working when Redis stalls just as the node connects", async () => {
    // BullMQ starts a queue once, with a version check (INFO). When Redis did not answer it within the
    // link's command timeout (5 s), that queue failed every call from then on: the link stayed down
    // and the spool was never sent, however long Redis had been fine again.
    const spool = ChannelSpool.open(join(dir, 'stall', 'spool'), {
      maxBytes: 1 << 20,
      segmentBytes: 1 << 16,
      fsync: false,
    });
    for (let i = 0; i < 3; i++) spool.append(emptyBatch('fm-stall'));
    const prefix = `tyndau-test-${process.pid}-stall`;
    const link = new CentreLink({
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      prefix,
      nodeId: 'node-stall',
      config: CONFIG,
      log: pino({ level: 'silent' }),
    });
    link.addChannel('fm-stall', spool);
    const queue = new Queue('batches', {
      connection: connectRedis(`redis://127.0.0.1:${redisPort}`, 'worker', 'test'),
      prefix,
    });
    try {
      // the link's connection is up; then Redis answers nobody for 6 s, just as the link starts
      const conn = (link as unknown as { redis: { status: string } }).redis;
      for (let i = 0; conn.status !== 'ready' && i < 200; i++) await sleep(25);
      expect(conn.status).toBe('ready');
      execFileSync('redis-cli', ['-p', String(redisPort), 'client', 'pause', '6000']);
      const t0 = Date.now();
      link.start();
      while ((await queue.count()) < 3 && Date.now() - t0 < 25_000) await sleep(250);
      expect(await queue.count(), JSON.stringify(link.status())).toBe(3);
      expect(link.status().up).toBe(true);
    } finally {
      await link.close();
      await queue.close();
      spool.close();
    }
  });
});

/** A batch of a channel with nothing heard (a heartbeat). */
function emptyBatch(channelId: string): SealedBatch {
  return {
    v: WIRE_VERSION,
    channelId,
    session: 'test',
    epochMs: null,
    fromUnits: 0,
    toUnits: 0,
    audioSec: 0,
    peaks: toWirePeaks([]),
    skips: [],
    context: null,
    end: false,
    gaps: [],
    state: null,
    sealedAtMs: Date.now(),
  };
}

/** Where a channel's batches are, for the message of a failed wait. */
async function flowState(
  p: Pipeline,
  node: CaptureNode,
  worker: WorkerProc,
  channelId: string,
): Promise<string> {
  const batches = new Queue('batches', {
    connection: connectRedis(p.url, 'plain', 'test-state'),
    prefix: p.prefix,
  });
  try {
    const failed = await batches.getFailed(0, 20);
    return JSON.stringify(
      {
        node: node.status(),
        centre: p.centre?.flows().find((f) => f.channelId === channelId),
        queues: await p.centre?.queueDepths(),
        workerEvents: await p.centre?.workerEvents(),
        rejections: await p.centre?.dist.rejectionCounts(),
        failedBatches: failed.map((j) => [j.id, j.failedReason, j.attemptsMade]),
        worker: worker.lines.filter((l) => !l.includes('"matching batch"')).slice(-15),
      },
      null,
      1,
    );
  } catch (err) {
    return `state unavailable: ${(err as Error).message}`;
  } finally {
    await batches.close();
  }
}

async function fetchMetrics(p: Pipeline): Promise<string> {
  // the centre's registry, as /metrics serves it
  const c = p.centre as unknown as {
    refreshGauges(): Promise<void>;
    registry: { metrics(): Promise<string> };
  };
  await c.refreshGauges();
  return c.registry.metrics();
}

async function runCli(args: string[]): Promise<string> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b) => (out += b));
  proc.stderr!.on('data', (b) => (err += b));
  const code = await new Promise((r) => proc.once('exit', r));
  if (code !== 0) throw new Error(`tyndau ${args.join(' ')} exited ${String(code)}: ${err}`);
  return out;
}

describe('distributed roles on the command line', () => {
  it('say what is missing when Redis is not configured', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (errors.push(String(s)), true)) as typeof process.stderr.write;
    const saved = process.env.TYNDAU_REDIS_URL;
    delete process.env.TYNDAU_REDIS_URL;
    try {
      expect(await main(['worker'])).toBe(2);
      expect(await main(['capture', '--redis', 'localhost:6379'])).toBe(2);
    } finally {
      process.stderr.write = write;
      if (saved !== undefined) process.env.TYNDAU_REDIS_URL = saved;
    }
    expect(errors.join('')).toMatch(/tyndau worker is a distributed role: set TYNDAU_REDIS_URL/);
    expect(errors.join('')).toMatch(
      /TYNDAU_REDIS_URL must look like redis:\/\/HOST:PORT, got "localhost:6379"/,
    );
  });
});
