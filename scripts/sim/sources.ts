import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeMono } from './pcm.js';
import { bufferToFloats, floatsToBuffer } from './proc.js';

/**
 * Decoded source audio (mono, one sample rate), kept in memory up to a byte budget (least recently used
 * first out) and, with a directory, on disk as raw float files keyed by the file's path, size and mtime.
 */
export class SourceCache {
  private readonly memory = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(
    readonly sampleRate: number,
    private readonly diskDir?: string,
    private readonly maxBytes = 512 * 1024 * 1024,
  ) {}

  /** Where the decoded copy of `path` lives on disk (only meaningful with a disk directory). */
  diskPath(path: string): string | undefined {
    if (!this.diskDir) return undefined;
    const st = statSync(path);
    const key = createHash('sha1')
      .update(`${resolve(path)}|${st.size}|${st.mtimeMs}|${this.sampleRate}`)
      .digest('hex');
    return join(this.diskDir, `${key}.f32`);
  }

  async get(path: string): Promise<Float32Array> {
    const hit = this.memory.get(path);
    if (hit) {
      this.memory.delete(path);
      this.memory.set(path, hit);
      return hit;
    }
    if (!existsSync(path)) throw new Error(`source audio not found: ${path}`);
    const disk = this.diskPath(path);
    let pcm: Float32Array;
    if (disk && existsSync(disk)) {
      pcm = bufferToFloats(readFileSync(disk));
    } else {
      pcm = await decodeMono(path, this.sampleRate);
      if (disk && this.diskDir) {
        mkdirSync(this.diskDir, { recursive: true });
        const tmp = `${disk}.${process.pid}.tmp`;
        writeFileSync(tmp, floatsToBuffer(pcm));
        renameSync(tmp, disk);
      }
    }
    this.memory.set(path, pcm);
    this.bytes += pcm.byteLength;
    for (const [key, value] of this.memory) {
      if (this.bytes <= this.maxBytes || key === path) break;
      this.memory.delete(key);
      this.bytes -= value.byteLength;
    }
    return pcm;
  }
}
