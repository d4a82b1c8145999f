import type { MultipartFile } from '@fastify/multipart';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/** A multipart file field, streamed to a temporary file (deleted after the response). */
export interface UploadedFile {
  path: string;
  filename: string;
  mimetype: string;
  bytes: number;
}

/**
 * The multipart `onFile` handler: files go to a private temporary folder instead of memory, and the
 * body gets `{ path, filename, mimetype, bytes }` in their place; an upload over the size limit is
 * refused with 413. The folders are removed when the response is sent.
 */
export function installUploads(app: FastifyInstance) {
  const temps = new WeakMap<FastifyRequest, string[]>();
  app.addHook('onResponse', async (req) => {
    for (const dir of temps.get(req) ?? []) rmSync(dir, { recursive: true, force: true });
  });
  return async function onFile(this: FastifyRequest, part: MultipartFile): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-upload-'));
    const list = temps.get(this) ?? [];
    list.push(dir);
    temps.set(this, list);
    const name =
      basename(part.filename || 'upload')
        .replace(/[^\w.-]+/g, '_')
        .slice(-120) || 'upload';
    const path = join(dir, name);
    const out = createWriteStream(path);
    let bytes = 0;
    part.file.on('data', (b: Buffer) => (bytes += b.length));
    await pipeline(part.file, out);
    if (part.file.truncated) {
      throw new ApiError(413, 'too_large', `${part.filename}: the file is larger than the upload limit`);
    }
    const value: UploadedFile = { path, filename: part.filename, mimetype: part.mimetype, bytes };
    (part as unknown as { value: UploadedFile }).value = value;
  };
}

export function uploadedFile(body: unknown, key: string): UploadedFile | null {
  const v = (body as Record<string, unknown> | null | undefined)?.[key];
  return v && typeof v === 'object' && 'path' in v && 'bytes' in v ? (v as UploadedFile) : null;
}
