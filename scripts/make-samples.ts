/**
 * Regenerates the demo recordings in samples/: four synthesised songs, 30-45 s each, as 96 kb/s MP3,
 * plus samples/README.md describing them. Deterministic: the same seeds give the same music.
 *
 *   npx tsx scripts/make-samples.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSong, planSong, synthesizeSong, SYNTH_VERSION } from './synth/music.js';
import { writeWav } from './synth/wav.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'samples');

/** Title, seed and length of each demo song. */
export const DEMO_SONGS = [
  { file: 'demo-song-1.mp3', title: 'Dala (demo song 1)', seed: 1001, durationSec: 40 },
  { file: 'demo-song-2.mp3', title: 'Kok tobe (demo song 2)', seed: 1002, durationSec: 35 },
  { file: 'demo-song-3.mp3', title: 'Zhel (demo song 3)', seed: 1003, durationSec: 45 },
  { file: 'demo-song-4.mp3', title: 'Tan (demo song 4)', seed: 1004, durationSec: 30 },
] as const;

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const work = join(tmpdir(), `tyndau-samples-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const rows: string[] = [];
  let totalBytes = 0;
  try {
    for (const s of DEMO_SONGS) {
      const wav = join(work, `${s.seed}.wav`);
      const song = synthesizeSong(s.seed, s.durationSec);
      writeWav(wav, [song.left, song.right], 44100);
      const out = join(OUT, s.file);
      execFileSync('ffmpeg', [
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-i',
        wav,
        '-c:a',
        'libmp3lame',
        '-b:a',
        '96k',
        '-map_metadata',
        '-1',
        '-fflags',
        '+bitexact',
        '-flags:a',
        '+bitexact',
        '-metadata',
        `title=${s.title}`,
        '-metadata',
        'artist=Tyndau synthesiser',
        '-metadata',
        `comment=synthesizeSong(seed ${s.seed}, ${s.durationSec} s), generator v${SYNTH_VERSION}`,
        out,
      ]);
      const bytes = statSync(out).size;
      totalBytes += bytes;
      rows.push(
        `| ${s.file} | ${s.title} | ${s.seed} | ${s.durationSec} s | ${describeSong(planSong(s.seed, s.durationSec)).replace(/^seed \d+: /, '')} | ${(bytes / 1024).toFixed(0)} KB |`,
      );
      process.stdout.write(`${out}  ${(bytes / 1024).toFixed(0)} KB\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(
    join(OUT, 'README.md'),
    `# Demo recordings

Four short songs for the demo and for trying the CLI by hand. They are **our own generated audio**:
made by Tyndau's deterministic music synthesiser (\`scripts/synth/music.ts\`, generator version
${SYNTH_VERSION}) from the seeds below, then encoded as 96 kb/s stereo MP3 with ffmpeg (libmp3lame).
No recordings by anyone else are involved, so there is no licence question.

| file | title | seed | length | music | size |
|---|---|---|---|---|---|
${rows.join('\n')}

Total: ${(totalBytes / 1024).toFixed(0)} KB.

Regenerate (same seeds give the same music; the MP3 bytes depend on the libmp3lame version):

    npx tsx scripts/make-samples.ts

Any other song: \`npx tsx scripts/synth/make-music.ts --seed N --duration SEC --out file.wav\`.
`,
  );
  process.stdout.write(`total ${(totalBytes / 1024).toFixed(0)} KB\n`);
}

main();
