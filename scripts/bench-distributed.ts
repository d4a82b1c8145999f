/**
 * Distributed mode benchmark (docs/distributed.md, "Measured"):
 *
 *   1. throughput: a backlog of peak batches for N channel-hours is queued in Redis; W matcher worker
 *      processes (`tyndau worker`) and the centre work it off. Reported in channel-hours of audio per
 *      hour per matcher worker, next to the same matching in one process without the queue.
 *   2. latency: L live channels at real time (capture nodes on live MP3 streams, workers, centre):
 *      from the end of each airing to its stored detection, p50 / p95 / max.
 *
 *   npx tsx scripts/bench-distributed.ts [--workers 1] [--hours 4] [--channels 8] [--live 3] [--live-minutes 4]
 *
 * Starts a redis-server of its own on a free port (or uses --redis URL). Results also go to
 * bench/out/distributed.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Command } from 'commander';
import { decodeAudioFile } from '../src/audio/index.js';
import {
  CaptureNode,
  Centre,
  PeakBatcher,
  batchJobId,
  batchPeaks,
  connectRedis,
  distributedConfig,
  matchBatch,
  type PeakBatch,
  type SealedBatch,
} from '../src/distributed/index.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { MonitorRepository, monitorConfig, validateChannel } from '../src/monitor/index.js';
import { migrateToLatest, openStore } from '../src/store/index.js';
import { prepareBroadcast, startStreamServer } from '../test/helpers/stream-server.js';

const program = new Command()
  .name('bench-distributed')
  .option('--workers <n>', 'matcher worker processes', Number, 1)
  .option('--hours <h>', 'channel-hours of audio in the throughput backlog', Number, 4)
  .option('--channels <n>', 'channels the backlog is spread over', Number, 8)
  .option('--live <n>', 'live channels in the latency run (0 skips it)', Number, 3)
  .option('--live-minutes <m>', 'length of the latency run, minutes of real time', Number, 4)
  .option('--redis <url>', 'use this Redis instead of starting one')
  .option('--out <file>', 'JSON results', 'bench/out/distributed.json')
  .parse();
const opts = program.opts<{
  workers: number;
  hours: number;
  channels: number;
  live: number;
  liveMinutes: number;
  redis?: string;
  out: string;
}>();

// ~4 minutes: five registered songs and unregistered music between them
const PLAN = [
  { kind: 'song', seed: 921, durationSec: 6, id: null },
  { kind: 'song', seed: 21, durationSec: 40, id: 'bench-1' },
  { kind: 'song', seed: 922, durationSec: 8, id: null },
  { kind: 'song', seed: 22, durationSec: 45, id: 'bench-2' },
  { kind: 'song', seed: 23, durationSec: 35, id: 'bench-3' },
  { kind: 'song', seed: 923, durationSec: 10, id: null },
  { kind: 'song', seed: 24, durationSec: 50, id: 'bench-4' },
  { kind: 'song', seed: 924, durationSec: 6, id: null },
  { kind: 'song', seed: 25, durationSec: 30, id: 'bench-5' },
  { kind: 'song', seed: 925, durationSec: 10, id: null },
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'tyndau-bench-dist-'));
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startRedis(): Promise<string> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  children.push(proc);
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return `redis://127.0.0.1:${port}`;
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

function startWorkers(n: number, url: string, prefix: string, indexDir: string): Promise<void[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const p = spawn(
        process.execPath,
        [
          ...['--import', 'tsx', 'src/cli/bin.ts', 'worker', '--redis', url, '--prefix', prefix],
          ...['--index', indexDir, '--name', `bench-${i}`, '--log-level', 'info'],
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(p);
      return new Promise<void>((resolve) => {
        p.stdout!.on('data', (b: Buffer) => {
          if (b.toString().includes('matcher worker started')) resolve();
        });
      });
    }),
  );
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

async function main(): Promise<void> {
  const b = prepareBroadcast(
    join(tmpdir(), 'tyndau-test-cache'),
    PLAN.map((p) => ({ ...p })),
  );
  const indexDir = join(dir, 'fingerprints');
  const index = ReferenceIndex.open(indexDir);
  for (const [id, path] of b.songs) await enrollFile(index, path, { id });
  const url = opts.redis ?? (await startRedis());
  const config = distributedConfig();
  const results: Record<string, unknown> = { workers: opts.workers, broadcastSec: b.durationSec };

  // --- 1. throughput -------------------------------------------------------------------------------
  const perChannelSec = (opts.hours * 3600) / opts.channels;
  const pcm = await decodeAudioFile(b.mp3Path, { sampleRate: 8000 });
  const sealed: SealedBatch[] = [];
  let pos = 0;
  const epoch = Date.UTC(2025, 0, 1);
  const batcher = new PeakBatcher({
    channelId: 'bench-0',
    session: 'bench',
    batchSec: config.batchSec,
    contextSec: config.contextSec,
    lastAudioMs: () => epoch + pos * 1000,
    onSealed: (s) => sealed.push(s),
  });
  for (let done = 0; done < perChannelSec * 8000;) {
    for (let i = 0; i < pcm.length && done < perChannelSec * 8000; i += 8000, done += 8000) {
      const chunk = pcm.subarray(i, i + 8000);
      batcher.push(chunk);
      pos += chunk.length / 8000;
    }
  }
  batcher.sealEnd();
  const batchBytes = sealed.reduce((n, s) => n + JSON.stringify(s).length, 0) / sealed.length;
  process.stderr.write(
    `throughput: ${opts.channels} channels x ${(perChannelSec / 60).toFixed(0)} min = ${opts.hours} channel-hours, ` +
      `${sealed.length} batches per channel (${Math.round(batchBytes)} bytes each)\n`,
  );
  // the same matching in this process, without the queue: the ceiling
  let t0 = performance.now();
  let inProcSec = 0;
  for (const s of sealed.slice(0, Math.min(sealed.length, 400))) {
    const pb = { ...s, nodeId: 'n', spoolId: 's', seq: 1, holdsFrom: 1 } as PeakBatch;
    const { peaks, skips } = batchPeaks(pb);
    matchBatch(index, { epochMs: s.epochMs!, peaks, skips, toUnits: s.toUnits });
    inProcSec += s.audioSec;
  }
  const inProcRate = inProcSec / 3600 / ((performance.now() - t0) / 3_600_000);
  index.close();

  const store = openStore({ url: `sqlite:${join(dir, 'tyndau.db')}` });
  await migrateToLatest(store);
  const repo = new MonitorRepository(store.db);
  const channels = Array.from({ length: opts.channels }, (_, i) => `bench-${i}`);
  for (const id of channels)
    await repo.saveChannel(validateChannel({ id, sources: ['file:/dev/null'] }, Date.now()));
  const prefix = `bench-${process.pid}`;
  const centre = new Centre({ redisUrl: url, prefix, store, monitor: monitorConfig(), config });
  await centre.start();
  const queue = new Queue('batches', { connection: connectRedis(url, 'worker', 'bench'), prefix });
  queue.on('error', () => {});
  for (const id of channels) {
    const jobs = sealed.map((s, k) => {
      const data: PeakBatch = {
        ...s,
        channelId: id,
        nodeId: 'bench',
        spoolId: 'bench',
        seq: k + 1,
        holdsFrom: 1,
      };
      return { name: 'batch', data, opts: { jobId: batchJobId(data), removeOnComplete: true } };
    });
    for (let i = 0; i < jobs.length; i += 500) await queue.addBulk(jobs.slice(i, i + 500));
  }
  t0 = performance.now();
  await startWorkers(opts.workers, url, prefix, indexDir);
  const startup = performance.now() - t0;
  t0 = performance.now();
  for (;;) {
    const flows = centre.flows();
    if (flows.every((f) => f.nextSeq === sealed.length + 1)) break;
    await sleep(200);
  }
  const wallSec = (performance.now() - t0) / 1000;
  const rate = opts.hours / (wallSec / 3600) / opts.workers;
  const dets = (
    await Promise.all(channels.map((c) => repo.countDetections(c, 0, Number.MAX_SAFE_INTEGER)))
  ).reduce((a, n) => a + n, 0);
  results.throughput = {
    channelHours: opts.hours,
    channels: opts.channels,
    batches: sealed.length * opts.channels,
    bytesPerBatch: Math.round(batchBytes),
    wallSec: Math.round(wallSec * 10) / 10,
    workerStartupSec: Math.round(startup / 100) / 10,
    channelHoursPerHourPerWorker: Math.round(rate),
    inProcessChannelHoursPerHour: Math.round(inProcRate),
    detections: dets,
  };
  process.stderr.write(`${JSON.stringify(results.throughput)}\n`);
  await queue.close();
  await centre.stop();

  // --- 2. latency ----------------------------------------------------------------------------------
  if (opts.live > 0) {
    const liveStore = openStore({ url: `sqlite:${join(dir, 'live.db')}` });
    await migrateToLatest(liveStore);
    const liveRepo = new MonitorRepository(liveStore.db);
    const livePrefix = `${prefix}-live`;
    const latencies: number[] = [];
    const c2 = new Centre({
      redisUrl: url,
      prefix: livePrefix,
      store: liveStore,
      monitor: monitorConfig(),
      config,
      onDetection: (_d, ms) => latencies.push(ms / 1000),
    });
    await c2.start();
    // each channel airs the broadcast from another point, so airings do not all end together
    const nodes: CaptureNode[] = [];
    const servers = [];
    for (let i = 0; i < opts.live; i++) {
      const origin = Date.now() + 2000 - (i * b.durationSec * 1000) / opts.live / 2;
      const server = await startStreamServer(b, { speed: 1, originMs: origin });
      servers.push(server);
      const ch = validateChannel({ id: `live-${i}`, sources: [`${server.url}/live.mp3`] }, Date.now());
      await liveRepo.saveChannel(ch);
      const node = new CaptureNode({
        nodeId: `node-${i}`,
        channels: [ch],
        monitor: monitorConfig(),
        config,
        redisUrl: url,
        prefix: livePrefix,
        spoolDir: join(dir, `node-${i}`),
        evidenceDir: null,
      });
      nodes.push(node);
    }
    await startWorkers(opts.workers, url, livePrefix, indexDir);
    for (const n of nodes) await n.start();
    process.stderr.write(`latency: ${opts.live} live channels for ${opts.liveMinutes} min at real time\n`);
    await sleep(opts.liveMinutes * 60_000);
    for (const n of nodes) await n.stop(10_000);
    await c2.stop();
    for (const s of servers) await s.close();
    await liveStore.close();
    results.latency = {
      detections: latencies.length,
      p50Sec: Math.round(percentile(latencies, 0.5) * 10) / 10,
      p95Sec: Math.round(percentile(latencies, 0.95) * 10) / 10,
      maxSec: Math.round(Math.max(...latencies) * 10) / 10,
    };
    process.stderr.write(`${JSON.stringify(results.latency)}\n`);
  }
  await store.close();
  mkdirSync(join(opts.out, '..'), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
process.exit(0);
