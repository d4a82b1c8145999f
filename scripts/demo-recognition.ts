/**
 * The recognition demo on embedded defaults: enrols the demo songs in samples/ into a reference index,
 * renders a short broadcast from them (a DJ talking over an intro, a crossfade, a song played 3 %
 * fast, a song that is not registered), and matches it, printing the detections beside the truth.
 *
 *   npx tsx scripts/demo-recognition.ts [--index DIR]
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { matchFile } from '../src/match/index.js';
import { formatDetections } from '../src/cli/commands/match.js';
import { renderBroadcast } from './sim/index.js';
import { synthesizeSong } from './synth/music.js';
import { writeWav } from './synth/wav.js';

const opts = new Command()
  .option('--index <dir>', 'reference index folder (default: a fresh temporary one)')
  .parse()
  .opts<{ index?: string }>();

const samples = resolve('samples');
const songs = readdirSync(samples)
  .filter((f) => f.endsWith('.mp3'))
  .sort()
  .map((f) => join(samples, f));
if (songs.length < 3)
  throw new Error(`expected the demo songs in ${samples}: run npx tsx scripts/make-samples.ts`);

const work = mkdtempSync(join(tmpdir(), 'tyndau-demo-'));
const indexDir = opts.index ?? join(work, 'index');
const index = ReferenceIndex.open(indexDir);
console.log(`Enrolling ${songs.length} demo recordings into ${indexDir}`);
for (const path of songs) {
  const r = await enrollFile(index, path, {}, { replace: true });
  console.log(`  ${r.status.padEnd(9)} ${r.id} (${r.durationSec.toFixed(1)} s)`);
}

// a song nobody registered, made by the same synthesiser
const stranger = join(work, 'unregistered.wav');
const s = synthesizeSong(4242, 25, 22050);
writeWav(stranger, [s.left, s.right], 22050);

const id = (i: number) =>
  songs[i]
    .split('/')
    .pop()!
    .replace(/\.mp3$/, '');
const broadcast = join(work, 'broadcast.mp3');
console.log(
  '\nRendering a 2-minute broadcast (MP3 64 kbps, compressed) with a DJ, a crossfade, a +3 % speed-up',
);
const { truth } = await renderBroadcast(
  {
    condition: 'demo',
    segments: [
      {
        kind: 'music',
        source: songs[0],
        recording: id(0),
        registered: true,
        atSec: 0,
        refStartSec: 0,
        refEndSec: 30,
        fadeOutSec: 3,
      },
      {
        kind: 'speech',
        text: 'You are listening to Tyndau radio. Here is the next one.',
        voice: 'en',
        atSec: 28,
        snrDb: 3,
      },
      {
        kind: 'music',
        source: songs[1],
        recording: id(1),
        registered: true,
        atSec: 27,
        refStartSec: 2,
        refEndSec: 30,
        fadeInSec: 3,
      },
      {
        kind: 'music',
        source: stranger,
        recording: 'unregistered',
        registered: false,
        atSec: 56,
        refStartSec: 0,
        refEndSec: 25,
      },
      {
        kind: 'music',
        source: songs[2],
        recording: id(2),
        registered: true,
        atSec: 82,
        refStartSec: 5,
        refEndSec: 40,
        speed: 1.03,
      },
    ],
    chain: { codec: 'mp3', bitrateKbps: 64, compress: true, limit: true },
  },
  broadcast,
  { speechCacheDir: join(work, 'speech') },
);

console.log('\nWhat aired (ground truth):');
for (const t of truth) {
  console.log(
    `  ${t.recording.padEnd(14)} ${t.start.toFixed(1).padStart(6)}-${t.end.toFixed(1).padEnd(6)} s  ${t.registered ? '' : '(not registered: must not be detected)'}`,
  );
}
const found = await matchFile(index, broadcast);
console.log('\nWhat Tyndau found:');
process.stdout.write(formatDetections(broadcast, found, 'table', true));
index.close();
