/**
 * Shared test songs: synthesised once, cached as WAV in .cache/synth/ (git-ignored) under a name that
 * holds the seed, the duration and the generator version, so every test file reuses the same files
 * and a change to the synthesiser rebuilds them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SYNTH_VERSION, synthesizeSong } from '../../scripts/synth/music.js';
import { writeWav } from '../../scripts/synth/wav.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SYNTH_CACHE_DIR = join(REPO_ROOT, '.cache', 'synth');

/** Path of the cached WAV for one song (44.1 kHz stereo, 16-bit), writing it first if missing. */
export function ensureSong(seed: number, durationSec: number, sampleRate = 44100): string {
  const path = join(SYNTH_CACHE_DIR, `song-v${SYNTH_VERSION}-s${seed}-d${durationSec}-r${sampleRate}.wav`);
  if (!existsSync(path)) {
    const song = synthesizeSong(seed, durationSec, sampleRate);
    writeWav(path, [song.left, song.right], sampleRate); // atomic: parallel workers may race harmlessly
  }
  return path;
}

/** n songs with seeds seedBase, seedBase+1, ...; returns their WAV paths. */
export async function ensureSongs(n: number, durationSec: number, seedBase = 1): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) paths.push(ensureSong(seedBase + i, durationSec));
  return paths;
}

/**
 * An encoded copy of a file made with ffmpeg (`ffmpeg -i source <args> out.<ext>`), cached beside the
 * source under a name that hashes the arguments.
 */
export function ensureEncoded(source: string, ext: string, args: readonly string[]): string {
  const key = createHash('sha256')
    .update(JSON.stringify([basename(source), args]))
    .digest('hex')
    .slice(0, 12);
  const out = join(SYNTH_CACHE_DIR, 'encoded', `${basename(source, '.wav')}-${key}.${ext}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const tmp = join(dirname(out), `tmp-${process.pid}-${Date.now().toString(36)}-${basename(out)}`);
    execFileSync('ffmpeg', [
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      source,
      ...args,
      tmp,
    ]);
    renameSync(tmp, out);
  }
  return out;
}
