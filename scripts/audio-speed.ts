/**
 * Measures the audio stage once, for docs/audio.md: synthesiser speed, and decode speed of a
 * 5-minute 128 kb/s stereo MP3 to 8000 Hz mono through ffmpeg and through the web-audio fallback
 * (each decoder in its own process, so peak memory is its own), plus the resampler alone.
 *
 *   npx tsx scripts/audio-speed.ts [--runs 3]
 *
 * Numbers depend on the machine and on what else runs; the script prints the load average.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAudio, resample } from '../src/audio/index.js';
import { synthesizeSong, SYNTH_VERSION } from './synth/music.js';
import { writeWav } from './synth/wav.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'synth');
const SONG_SEC = 300;
const RATE = 8000;

async function child(decoder: 'ffmpeg' | 'web-audio', path: string): Promise<void> {
  // Sampled, not getrusage's maxRSS: on Linux that survives fork+exec and would report the parent's peak.
  let peak = process.memoryUsage.rss();
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 5);
  const t0 = performance.now();
  let samples = 0;
  for await (const chunk of decodeAudio(path, { sampleRate: RATE, decoder })) {
    samples += chunk.length;
    sample();
  }
  const sec = (performance.now() - t0) / 1000;
  clearInterval(timer);
  process.stdout.write(JSON.stringify({ sec, audioSec: samples / RATE, maxRssMb: peak / 2 ** 20 }));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
  const load = () => loadavg()[0].toFixed(1);
  process.stdout.write(`load average at start: ${load()} (${process.platform}, Node ${process.version})\n`);

  // Decode: a 5-minute MP3, cached.
  mkdirSync(CACHE, { recursive: true });
  const mp3 = join(CACHE, `speed-v${SYNTH_VERSION}-${SONG_SEC}s-128k.mp3`);
  if (!existsSync(mp3)) {
    const wav = join(CACHE, `speed-v${SYNTH_VERSION}-${SONG_SEC}s.wav`);
    const s = synthesizeSong(3, SONG_SEC);
    writeWav(wav, [s.left, s.right], 44100);
    execFileSync('ffmpeg', [
      '-nostdin',
      '-loglevel',
      'error',
      '-y',
      '-i',
      wav,
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
      mp3,
    ]);
    rmSync(wav);
  }
  for (const decoder of ['ffmpeg', 'web-audio'] as const) {
    const results: { sec: number; audioSec: number; maxRssMb: number }[] = [];
    for (let r = 0; r < runs; r++) {
      const out = spawnSync(
        process.execPath,
        [...process.execArgv, fileURLToPath(import.meta.url), '--child', decoder, mp3],
        {
          encoding: 'utf8',
        },
      );
      if (out.status !== 0) throw new Error(`${decoder} run failed: ${out.stderr}`);
      results.push(JSON.parse(out.stdout));
    }
    const sec = median(results.map((r) => r.sec));
    process.stdout.write(
      `decode ${SONG_SEC} s MP3 (128 kb/s, 44.1 kHz stereo) -> ${RATE} Hz mono via ${decoder}: ` +
        `${sec.toFixed(2)} s, ${(results[0].audioSec / sec).toFixed(0)}x real time, ` +
        `peak RSS of the process ${Math.max(...results.map((r) => r.maxRssMb)).toFixed(0)} MB (median of ${runs})\n`,
    );
  }
  // Synthesiser: warm up, then time a 60 s song and a 300 s song.
  synthesizeSong(1, 5);
  for (const sec of [60, SONG_SEC]) {
    const t0 = performance.now();
    synthesizeSong(2, sec);
    const ms = performance.now() - t0;
    process.stdout.write(
      `synthesizeSong ${sec} s at 44100 Hz stereo: ${(ms / 1000).toFixed(2)} s, ${((sec * 1000) / ms).toFixed(0)}x real time\n`,
    );
  }

  // Resampler alone, 44100 -> 8000, one minute of mono.
  const x = new Float32Array(44100 * 60).map((_, i) => Math.sin(i * 0.05));
  resample(x.subarray(0, 44100), 44100, RATE);
  const t0 = performance.now();
  resample(x, 44100, RATE);
  process.stdout.write(
    `resample 44100 -> 8000 Hz: ${(60000 / (performance.now() - t0)).toFixed(0)}x real time\n`,
  );

  process.stdout.write(`load average at end: ${load()}\n`);
}

if (process.argv[2] === '--child') {
  await child(process.argv[3] as 'ffmpeg' | 'web-audio', process.argv[4]);
} else {
  await main();
}
