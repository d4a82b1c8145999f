import { createReadStream, statSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

const TYPES: Record<string, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  flac: 'audio/flac',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  opus: 'audio/ogg',
  webm: 'audio/webm',
};

export function audioType(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/** Parses one `bytes=a-b` range (suffix `bytes=-n` and open `bytes=a-` too); null when absent. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

/**
 * Sends a file with HTTP range support (players seek with `Range: bytes=...`): 200 with the whole
 * file, 206 with the asked part, 416 for a range outside it. Audio is private: no shared caches.
 */
export function sendFileWithRanges(
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  what: string,
): FastifyReply {
  let size: number;
  let mtime: Date;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
    mtime = st.mtime;
  } catch {
    throw new ApiError(404, 'not_found', `${what}: the audio file is no longer on disk`);
  }
  reply.header('accept-ranges', 'bytes');
  reply.header('content-type', audioType(path));
  reply.header('cache-control', 'private, max-age=3600');
  reply.header('last-modified', mtime.toUTCString());
  const range = parseRange(req.headers.range, size);
  if (range === 'invalid') {
    reply.header('content-range', `bytes */${size}`);
    throw new ApiError(416, 'invalid_request', `range ${req.headers.range} is outside the ${size}-byte file`);
  }
  if (range === null) {
    reply.header('content-length', size);
    return reply.code(200).send(createReadStream(path));
  }
  reply.header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  reply.header('content-length', range.end - range.start + 1);
  return reply.code(206).send(createReadStream(path, { start: range.start, end: range.end }));
}
