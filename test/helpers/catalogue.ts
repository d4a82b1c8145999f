/**
 * Shared test songs: synthesised once, cached as WAV in .cache/synth/ (git-ignored) under a name that
 * holds the seed, the duration and the generator version, so every test file reuses the same files
 * and a change to the synthesiser rebuilds them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
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

// ---- comparing decoded audio, checking child processes ----

/**
 * Best normalised cross-correlation of a against b over lags -maxLag..maxLag (a shifted right by lag),
 * over the overlapping part. 1 means the same waveform up to a gain.
 */
export function bestCorrelation(
  a: Float32Array,
  b: Float32Array,
  maxLag: number,
): { r: number; lag: number } {
  let best = { r: -Infinity, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    const start = Math.max(0, lag);
    const end = Math.min(a.length, b.length + lag);
    for (let i = start; i < end; i++) {
      const x = a[i];
      const y = b[i - lag];
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const r = aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
    if (r > best.r) best = { r, lag };
  }
  return best;
}

/** Live child processes (and zombies) of this process whose command name is `name`. */
export function childProcesses(name: string): { pid: number; state: string }[] {
  const found: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (comm === name && Number(ppid) === process.pid) found.push({ pid: Number(entry), state });
  }
  return found;
}
