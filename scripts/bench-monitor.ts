/**
 * How many live channels one core sustains: N channel runners in one process, each fed a broadcast
 * file through its own ffmpeg as fast as it will go (a recorded `file:` source, so nothing waits for
 * the wall clock), matching against a catalogue padded to CATALOGUE_HOURS. Whole pipeline: ffmpeg
 * decode (+ MP3 air-check encode), clock, silence, matcher, stitcher, SQLite writes, evidence clips.
 *
 *   channels per core = seconds of audio processed / CPU seconds spent (node + its ffmpeg children)
 *
 * Usage: node --expose-gc --import tsx scripts/bench-monitor.ts [--channels 16] [--hours 1000] [--minutes 10] [--no-evidence]
 *        [--out bench/out/monitor.json]
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { StreamMatcher } from '../src/match/index.js';
import { ChannelRunner, MonitorRepository, monitorConfig, validateChannel } from '../src/monitor/index.js';
import { migrateToLatest, openStore } from '../src/store/index.js';
import { synthesizeSong } from './synth/music.js';
import { writeWav } from './synth/wav.js';

const { values: args } = parseArgs({
  options: {
    channels: { type: 'string', default: '16' },
    hours: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '10' },
    'no-evidence': { type: 'boolean', default: false },
    out: { type: 'string' },
    cache: { type: 'string', default: 'bench/cache/monitor' },
  },
});
const CHANNELS = Number(args.channels);
const CATALOGUE_HOURS = Number(args.hours);
const MINUTES = Number(args.minutes);
const EVIDENCE = !args['no-evidence'];
const RATE = 44100;

/** CPU seconds of this process and of its reaped children (ffmpeg), from /proc/self/stat. */
function cpu(): { self: number; children: number } {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const tick = 100; // USER_HZ
  // fields after the ")": state is [0]; utime [11], stime [12], cutime [13], cstime [14]
  return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}

function rssMb(pid: number | 'self'): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** JavaScript heap plus typed arrays and buffers, MB. */
function jsMb(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.external) / 2 ** 20;
}

/** PSS (shared library pages split between the processes using them) of a process, MB. */
function pssMb(pid: number): number {
  try {
    const m = /Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** PSS of the running ffmpeg children of this process, MB each (found in /proc, no subprocess). */
function childrenPssMb(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [comm, rest] = [
        stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        stat.slice(stat.lastIndexOf(')') + 2),
      ];
      if (comm === 'ffmpeg' && Number(rest.split(' ')[1]) === process.pid) out.push(pssMb(Number(name)));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** A broadcast of registered songs between unregistered ones, encoded like a typical stream (MP3 128k). */
function prepare(cache: string): { mp3: string; songs: string[]; registeredSec: number } {
  const dir = join(cache, `v1-${MINUTES}min`);
  const mp3 = join(dir, 'broadcast.mp3');
  const songs: string[] = [];
  const parts: Array<{ seed: number; sec: number; registered: boolean }> = [];
  let total = 0;
  for (let i = 0; total < MINUTES * 60; i++) {
    const registered = i % 3 !== 2;
    const sec = registered ? 150 : 40;
    parts.push({ seed: 5000 + i, sec, registered });
    total += sec;
    if (registered) songs.push(join(dir, `song-${5000 + i}.wav`));
  }
  if (!existsSync(join(dir, 'done'))) {
    mkdirSync(dir, { recursive: true });
    const left: Float32Array[] = [];
    const right: Float32Array[] = [];
    for (const p of parts) {
      const s = synthesizeSong(p.seed, p.sec, RATE);
      left.push(s.left);
      right.push(s.right);
      if (p.registered) writeWav(join(dir, `song-${p.seed}.wav`), [s.left, s.right], RATE);
    }
    const cat = (xs: Float32Array[]) => {
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
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
    rmSync(wav);
    writeFileSync(join(dir, 'done'), '');
  }
  return { mp3, songs, registeredSec: parts.filter((p) => p.registered).reduce((s, p) => s + p.sec, 0) };
}

async function main(): Promise<void> {
  const b = prepare(args.cache!);
  const work = mkdtempSync(join(tmpdir(), 'tyndau-bench-monitor-'));
  const index = ReferenceIndex.open(join(work, 'fingerprints'));
  for (const [i, path] of b.songs.entries()) await enrollFile(index, path, { id: `song-${i}` });
  const realHours = index.stats().referenceSec / 3600;
  if (CATALOGUE_HOURS > realHours) index.padSynthetic(CATALOGUE_HOURS - realHours, 42);
  const stats = index.stats();
  const store = openStore({ url: `sqlite:${join(work, 'tyndau.db')}` });
  await migrateToLatest(store);
  const repo = new MonitorRepository(store.db);
  // the first lookups may build index structures lazily: warm up before measuring the baseline
  const warm = new StreamMatcher(index);
  warm.push(Float32Array.from({ length: 80_000 }, (_, i) => Math.sin(i * 0.37) * 0.3));
  warm.flush();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (memory per channel needs a collected heap)');
  gc();
  const baseRss = rssMb('self');
  const baseJs = jsMb();

  const runners: ChannelRunner[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    const channel = validateChannel({ id: `ch${i}`, sources: [`file:${b.mp3}`] }, Date.now());
    await repo.saveChannel(channel);
    runners.push(
      new ChannelRunner({
        channel,
        config: monitorConfig(),
        repo,
        matcher: new StreamMatcher(index),
        evidenceDir: EVIDENCE ? join(work, 'evidence') : null,
      }),
    );
  }
  const cpu0 = cpu();
  const t0 = performance.now();
  let peakRss = 0;
  let peakChildren: number[] = [];
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb('self'));
    const c = childrenPssMb();
    if (c.reduce((s, x) => s + x, 0) > peakChildren.reduce((s, x) => s + x, 0)) peakChildren = c;
  }, 2000);
  await Promise.all(runners.map((r) => r.start()));
  clearInterval(sampler);
  const wallSec = (performance.now() - t0) / 1000;
  const cpu1 = cpu();
  // what the runners hold once garbage is collected (they are still referenced here)
  gc();
  const steadyJs = jsMb();
  const nodeCpu = cpu1.self - cpu0.self;
  const ffmpegCpu = cpu1.children - cpu0.children;
  const audioSec = CHANNELS * MINUTES * 60;
  const rows = await store.db.selectFrom('detections').select(['channel_id', 'recording_id']).execute();
  const expected = CHANNELS * b.songs.length;
  const missing: string[] = [];
  for (let i = 0; i < CHANNELS; i++) {
    for (let k = 0; k < b.songs.length; k++) {
      if (!rows.some((r) => r.channel_id === `ch${i}` && r.recording_id === `song-${k}`))
        missing.push(`ch${i}/song-${k}`);
    }
  }
  const result = {
    channels: CHANNELS,
    broadcastMinutes: MINUTES,
    evidence: EVIDENCE,
    catalogueHours: Math.round((stats.referenceSec / 3600 + stats.syntheticHours) * 10) / 10,
    postings: stats.postings,
    indexMemoryMb: Math.round(stats.memoryBytes / 2 ** 20),
    wallSec: round(wallSec),
    audioSec,
    nodeCpuSec: round(nodeCpu),
    ffmpegCpuSec: round(ffmpegCpu),
    realTimePerCore: round(audioSec / (nodeCpu + ffmpegCpu)),
    channelsPerCore: Math.floor(audioSec / (nodeCpu + ffmpegCpu)),
    cpuPercentPerChannel: round((100 * (nodeCpu + ffmpegCpu)) / audioSec, 3),
    nodePeakRssPerChannelMb: round((peakRss - baseRss) / CHANNELS),
    nodeHeapPerChannelMb: round((steadyJs - baseJs) / CHANNELS),
    ffmpegPssPerChannelMb: round(
      peakChildren.length ? peakChildren.reduce((s, x) => s + x, 0) / peakChildren.length : 0,
    ),
    baseRssMb: Math.round(baseRss),
    peakRssMb: Math.round(peakRss),
    detections: rows.length,
    expectedDetections: expected,
    missing,
  };
  void runners.length;
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  }
  await store.close();
  index.close();
  rmSync(work, { recursive: true, force: true });
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

await main();
