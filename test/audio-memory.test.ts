/**
 * Streaming decode keeps memory flat: two hours of audio (230 MB of samples at 8000 Hz) go through
 * while the process's resident memory stays where it was after the first minutes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { decodeAudio } from '../src/audio/index.js';
import { SYNTH_CACHE_DIR } from './helpers/catalogue.js';

const RATE = 8000;
const HOURS = 2;
let longFile: string;

beforeAll(() => {
  // Five minutes of tone and noise as 8 kb/s MP3, repeated 24 times without re-encoding: < 1 s to make.
  longFile = join(SYNTH_CACHE_DIR, `long-${HOURS}h-8kbps.mp3`);
  if (existsSync(longFile)) return;
  mkdirSync(SYNTH_CACHE_DIR, { recursive: true });
  const ff = (...args: string[]) =>
    execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const short = join(SYNTH_CACHE_DIR, `tmp-${process.pid}-5min.mp3`);
  const tmp = join(SYNTH_CACHE_DIR, `tmp-${process.pid}-long.mp3`);
  ff(
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=8000:duration=300',
    '-f',
    'lavfi',
    '-i',
    'anoisesrc=r=8000:a=0.05:d=300',
    '-filter_complex',
    'amix=inputs=2',
    '-ac',
    '1',
    '-c:a',
    'libmp3lame',
    '-b:a',
    '8k',
    short,
  );
  ff('-stream_loop', String(HOURS * 12 - 1), '-i', short, '-c', 'copy', tmp);
  renameSync(tmp, longFile);
  rmSync(short);
});

it(`decodes ${HOURS} hours with flat memory`, async () => {
  const rssMb: number[] = [];
  let samples = 0;
  let nextSample = 0;
  for await (const chunk of decodeAudio(longFile, { sampleRate: RATE })) {
    samples += chunk.length;
    if (samples >= nextSample) {
      rssMb.push(process.memoryUsage.rss() / 2 ** 20);
      nextSample += 120 * RATE; // every two minutes of audio
    }
  }
  // Each of the 24 copies brings its own encoder padding (~0.1 s).
  expect(Math.abs(samples / RATE - HOURS * 3600)).toBeLessThan(5);
  // Baseline after ten minutes (buffers and JIT settled); keeping the chunks would add ~230 MB.
  const baseline = rssMb[5];
  const worst = Math.max(...rssMb.slice(5));
  expect(worst - baseline).toBeLessThan(64);
}, 60_000);
