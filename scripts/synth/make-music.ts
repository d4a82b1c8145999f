/**
 * Writes synthesised songs as 16-bit stereo WAV files.
 *
 *   tsx scripts/synth/make-music.ts --seed 7 --duration 30 --out song.wav
 *   tsx scripts/synth/make-music.ts --count 10 --dir out/songs --prefix song- [--seed 100] [--duration 45]
 *
 * A batch uses seeds seed, seed+1, ... and names files <prefix><seed>.wav.
 */
import { Command, InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeSong, planSong, synthesizeSong } from './music.js';
import { writeWav } from './wav.js';

function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

function seconds(text: string): number {
  const n = Number(text);
  if (!(n > 0 && n <= 1800))
    throw new InvalidArgumentError('duration must be more than 0 and at most 1800 seconds');
  return n;
}

export interface MadeSong {
  path: string;
  seed: number;
  description: string;
  renderMs: number;
}

/** Renders and writes one song. */
export function makeSong(seed: number, durationSec: number, path: string, sampleRate = 44100): MadeSong {
  const t0 = performance.now();
  const song = synthesizeSong(seed, durationSec, sampleRate);
  const renderMs = performance.now() - t0;
  writeWav(path, [song.left, song.right], sampleRate);
  return { path, seed, description: describeSong(planSong(seed, durationSec)), renderMs };
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('make-music')
    .description('Write deterministic synthesised songs as 16-bit stereo WAV')
    .option('--seed <n>', 'song seed (first seed of a batch)', integer('seed', 0, Number.MAX_SAFE_INTEGER), 1)
    .option('--duration <sec>', 'length in seconds', seconds, 30)
    .option('--out <file>', 'output WAV file (one song)')
    .option('--count <k>', 'number of songs in a batch', integer('count', 1, 10000))
    .option('--dir <dir>', 'output folder of a batch')
    .option('--prefix <text>', 'file name prefix of a batch', 'song-')
    .option('--sample-rate <hz>', 'sample rate', integer('sample rate', 8000, 192000), 44100)
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch {
    return 2;
  }
  const o = program.opts<{
    seed: number;
    duration: number;
    out?: string;
    count?: number;
    dir?: string;
    prefix: string;
    sampleRate: number;
  }>();
  const jobs: { seed: number; path: string }[] = [];
  if (o.out && (o.count !== undefined || o.dir)) {
    process.stderr.write('make-music: give either --out, or --count with --dir, not both\n');
    return 2;
  }
  if (o.out) jobs.push({ seed: o.seed, path: o.out });
  else if (o.count !== undefined && o.dir) {
    for (let i = 0; i < o.count; i++)
      jobs.push({ seed: o.seed + i, path: join(o.dir, `${o.prefix}${o.seed + i}.wav`) });
  } else {
    process.stderr.write('make-music: give --out FILE, or --count K with --dir DIR\n');
    return 2;
  }
  let renderMs = 0;
  for (const job of jobs) {
    const made = makeSong(job.seed, o.duration, job.path, o.sampleRate);
    renderMs += made.renderMs;
    process.stdout.write(`${made.path}  ${made.description}\n`);
  }
  const speed = (jobs.length * o.duration * 1000) / renderMs;
  process.stdout.write(`${jobs.length} song(s), rendered at ${speed.toFixed(0)}x real time\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
