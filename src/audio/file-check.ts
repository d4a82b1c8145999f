/** Checks a path before any decoder runs: exists, is a non-empty file, is not obviously something else. */
import { open, stat } from 'node:fs/promises';
import { AudioError } from './errors.js';
import { sniffMedia, type Sniffed } from './sniff.js';

export interface CheckedFile {
  sizeBytes: number;
  /** What the first 4 KB look like. */
  sniffed: Sniffed;
}

const HEAD_BYTES = 4096;

export async function checkAudioFile(path: string): Promise<CheckedFile> {
  if (typeof path !== 'string' || path === '') throw new TypeError('an audio file path is required');
  const q = JSON.stringify(path);
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AudioError('FILE_NOT_FOUND', path, `${q}: no such file`, { cause: err });
    }
    throw new AudioError('DECODE_FAILED', path, `${q}: cannot read it (${code ?? String(err)})`, {
      cause: err,
    });
  }
  if (info.isDirectory()) throw new AudioError('NOT_AUDIO', path, `${q} is a directory, not an audio file`);
  if (info.isFile() && info.size === 0) throw new AudioError('EMPTY', path, `${q} is empty (0 bytes)`);
  let head: Uint8Array;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(info.isFile() ? Math.min(HEAD_BYTES, info.size) : 0);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AudioError('DECODE_FAILED', path, `${q}: cannot read it (${code ?? String(err)})`, {
      cause: err,
    });
  }
  const sniffed = sniffMedia(head);
  if (sniffed.kind === 'not-audio') {
    throw new AudioError('NOT_AUDIO', path, `${q} is not audio: it is ${sniffed.description}`);
  }
  return { sizeBytes: info.size, sniffed };
}
