import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav, resample } from './pcm.js';
import { runProgram } from './proc.js';

export interface SpeechRequest {
  text: string;
  voice: string;
  wordsPerMinute?: number;
  pitch?: number;
}

/**
 * Synthesises speech with espeak-ng (deterministic for the same text, voice and settings) and returns
 * mono floats at `sampleRate`. With a cache directory, each utterance's wav is kept and reused.
 */
export async function synthesizeSpeech(
  req: SpeechRequest,
  sampleRate: number,
  cacheDir?: string,
): Promise<Float32Array> {
  const wpm = String(Math.round(req.wordsPerMinute ?? 165));
  const pitch = String(Math.round(req.pitch ?? 50));
  const key = createHash('sha1')
    .update(JSON.stringify([req.voice, wpm, pitch, req.text]))
    .digest('hex');
  const cached = cacheDir ? join(cacheDir, `${key}.wav`) : undefined;
  let wav: Buffer;
  if (cached && existsSync(cached)) {
    wav = readFileSync(cached);
  } else {
    wav = await runProgram('espeak-ng', ['-v', req.voice, '-s', wpm, '-p', pitch, '--stdout', req.text]);
    if (cached && cacheDir) {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      writeFileSync(tmp, wav);
      renameSync(tmp, cached);
    }
  }
  const { pcm, sampleRate: rate } = parseWav(wav);
  if (pcm.length === 0) throw new Error(`espeak-ng produced no audio for voice ${req.voice}`);
  return resample(pcm, rate, sampleRate);
}
