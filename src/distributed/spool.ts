/**
 * A capture node's outbox for one channel: every sealed batch is appended here (fsync'd) before it is
 * sent, and stays until the centre acknowledges it. So a lost link, a Redis restart (which loses the
 * queued jobs) or a crash of the node loses nothing: what is not acknowledged is sent again, in order.
 *
 * Layout: DIR/meta.json ({spoolId, ackedSeq}) and DIR/seg-<first seq>.log segment files of records
 * [u32 length][u32 crc32][JSON]. A torn last record (power loss mid-write) is cut off at open. The
 * spool is bounded: past `maxBytes` the oldest segment goes, and the centre learns of the loss from
 * `holdsFrom` on the next batch.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { SealedBatch } from './batch.js';

export interface SpoolOptions {
  maxBytes: number;
  segmentBytes: number;
  /** fsync every append (default true; tests of other things may switch it off). */
  fsync?: boolean;
  onWarning?: (message: string) => void;
}

/** A spooled batch: the sealed batch and the number the spool gave it. */
export type SpooledBatch = SealedBatch & { seq: number };

interface Segment {
  firstSeq: number;
  lastSeq: number;
  path: string;
  bytes: number;
  /** Byte offset and length of each record, by seq - firstSeq. */
  offsets: number[];
  lengths: number[];
}

const HEADER = 8;
/** A single record larger than this is not a batch: treat it as corruption. */
const MAX_RECORD = 64 * 1024 * 1024;

export class ChannelSpool {
  readonly spoolId: string;
  private acked: number;
  private segments: Segment[] = [];
  private fd: number | null = null;
  private next: number;
  private totalBytes = 0;
  /** Batches dropped because the spool was full, since open. */
  dropped = 0;

  private constructor(
    readonly dir: string,
    private readonly opts: SpoolOptions,
  ) {
    mkdirSync(dir, { recursive: true });
    const meta = this.readMeta();
    this.spoolId = meta.spoolId;
    this.acked = meta.ackedSeq;
    this.load();
    const last = this.segments.at(-1)?.lastSeq ?? 0;
    this.next = Math.max(last, this.acked) + 1;
    this.dropAcked();
  }

  static open(dir: string, opts: SpoolOptions): ChannelSpool {
    if (!(opts.segmentBytes > 0) || !(opts.maxBytes >= opts.segmentBytes)) {
      throw new Error(`spool ${dir}: maxBytes must be at least segmentBytes`);
    }
    return new ChannelSpool(dir, opts);
  }

  /** Highest acknowledged seq (0 before any). */
  get ackedSeq(): number {
    return this.acked;
  }

  /** Highest seq appended (0 before any). */
  get lastSeq(): number {
    return this.next - 1;
  }

  /** Lowest seq still held; lastSeq + 1 when the spool is empty. */
  get firstHeldSeq(): number {
    for (const s of this.segments) {
      if (s.lastSeq > this.acked) return Math.max(s.firstSeq, this.acked + 1);
    }
    return this.next;
  }

  /** Batches held and not acknowledged. */
  get pending(): number {
    return this.lastSeq - Math.max(this.acked, this.firstHeldSeq - 1);
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Appends a batch durably and returns its seq. */
  append(batch: SealedBatch): number {
    const seq = this.next;
    const payload = Buffer.from(JSON.stringify({ ...batch, seq }));
    const record = Buffer.alloc(HEADER + payload.length);
    record.writeUInt32LE(payload.length, 0);
    record.writeUInt32LE(crc32(payload), 4);
    payload.copy(record, HEADER);
    let seg = this.segments.at(-1);
    if (!seg || this.fd === null || seg.bytes >= this.opts.segmentBytes) seg = this.newSegment(seq);
    writeSync(this.fd!, record, 0, record.length, seg.bytes);
    if (this.opts.fsync !== false) fsyncSync(this.fd!);
    seg.offsets.push(seg.bytes);
    seg.lengths.push(payload.length);
    seg.bytes += record.length;
    seg.lastSeq = seq;
    this.totalBytes += record.length;
    this.next = seq + 1;
    this.enforceLimit();
    return seq;
  }

  /** The batch numbered `seq`, or null when it is not held (acknowledged, or dropped). */
  read(seq: number): SpooledBatch | null {
    if (seq <= this.acked) return null;
    const seg = this.segments.find((s) => seq >= s.firstSeq && seq <= s.lastSeq);
    if (!seg) return null;
    const i = seq - seg.firstSeq;
    const buf = Buffer.alloc(seg.lengths[i]);
    const fd = openSync(seg.path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, seg.offsets[i] + HEADER);
    } finally {
      closeSync(fd);
    }
    return JSON.parse(buf.toString('utf8')) as SpooledBatch;
  }

  /** The centre has everything up to `seq`: forget it (segments wholly acknowledged are deleted). */
  ack(seq: number): void {
    if (!(seq > this.acked)) return;
    this.acked = Math.min(seq, this.lastSeq);
    // not fsync'd: after a crash an older value only means a few batches are sent twice (harmless)
    this.writeMeta(false);
    this.dropAcked();
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  // --- inside ------------------------------------------------------------------------------------

  private readMeta(): { spoolId: string; ackedSeq: number } {
    const path = join(this.dir, 'meta.json');
    if (!existsSync(path)) {
      const meta = { spoolId: randomBytes(6).toString('hex'), ackedSeq: 0 };
      this.writeMetaFile(meta, true);
      return meta;
    }
    let meta: unknown;
    try {
      meta = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`spool ${this.dir}: meta.json is unreadable (${(err as Error).message})`);
    }
    const m = meta as { spoolId?: unknown; ackedSeq?: unknown };
    if (typeof m.spoolId !== 'string' || !/^[A-Za-z0-9_.-]{1,80}$/.test(m.spoolId)) {
      throw new Error(`spool ${this.dir}: meta.json has no valid spoolId`);
    }
    const acked = typeof m.ackedSeq === 'number' && Number.isSafeInteger(m.ackedSeq) ? m.ackedSeq : 0;
    return { spoolId: m.spoolId, ackedSeq: Math.max(0, acked) };
  }

  private writeMeta(sync: boolean): void {
    this.writeMetaFile({ spoolId: this.spoolId, ackedSeq: this.acked }, sync);
  }

  private writeMetaFile(meta: { spoolId: string; ackedSeq: number }, sync: boolean): void {
    const path = join(this.dir, 'meta.json');
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(meta));
    if (sync) {
      const fd = openSync(tmp, 'r+');
      fsyncSync(fd);
      closeSync(fd);
    }
    renameSync(tmp, path);
    if (sync) this.syncDir();
  }

  private syncDir(): void {
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Reads every segment, checks every record, and cuts off a torn tail. */
  private load(): void {
    const names = readdirSync(this.dir)
      .filter((n) => /^seg-\d{12}\.log$/.test(n))
      .sort();
    for (const name of names) {
      const path = join(this.dir, name);
      const firstSeq = Number(name.slice(4, 16));
      const data = readFileSync(path);
      const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, path, bytes: 0, offsets: [], lengths: [] };
      let o = 0;
      while (o < data.length) {
        if (o + HEADER > data.length) break;
        const len = data.readUInt32LE(o);
        if (len > MAX_RECORD || o + HEADER + len > data.length) break;
        const payload = data.subarray(o + HEADER, o + HEADER + len);
        if (crc32(payload) !== data.readUInt32LE(o + 4)) break;
        let seq: number;
        try {
          seq = (JSON.parse(payload.toString('utf8')) as { seq: number }).seq;
        } catch {
          break;
        }
        if (seq !== seg.lastSeq + 1) break;
        seg.offsets.push(o);
        seg.lengths.push(len);
        seg.lastSeq = seq;
        o += HEADER + len;
      }
      if (o < data.length) {
        this.opts.onWarning?.(
          `spool ${this.dir}: ${name} has ${data.length - o} bytes of a torn or corrupt record at its end; cut off`,
        );
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, o);
        fsyncSync(fd);
        closeSync(fd);
      }
      seg.bytes = o;
      const prev = this.segments.at(-1);
      if (seg.offsets.length === 0) {
        unlinkSync(path);
        continue;
      }
      if (prev && seg.firstSeq !== prev.lastSeq + 1) {
        this.opts.onWarning?.(
          `spool ${this.dir}: batches ${prev.lastSeq + 1}-${seg.firstSeq - 1} are missing between segments`,
        );
      }
      this.segments.push(seg);
      this.totalBytes += seg.bytes;
    }
    const last = this.segments.at(-1);
    // appends continue in the last segment
    if (last) this.fd = openSync(last.path, 'r+');
  }

  private newSegment(firstSeq: number): Segment {
    if (this.fd !== null) closeSync(this.fd);
    const path = join(this.dir, `seg-${String(firstSeq).padStart(12, '0')}.log`);
    this.fd = openSync(path, 'w+');
    if (this.opts.fsync !== false) this.syncDir();
    const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, path, bytes: 0, offsets: [], lengths: [] };
    this.segments.push(seg);
    return seg;
  }

  /** Deletes segments whose every batch is acknowledged. */
  private dropAcked(): void {
    while (this.segments.length > 0 && this.segments[0].lastSeq <= this.acked) {
      const seg = this.segments.shift()!;
      if (this.segments.length === 0 && this.fd !== null) {
        closeSync(this.fd);
        this.fd = null;
      }
      this.removeFile(seg);
    }
  }

  /** Full: the oldest segment goes, acknowledged or not (the centre records the loss as a gap). */
  private enforceLimit(): void {
    while (this.totalBytes > this.opts.maxBytes && this.segments.length > 1) {
      const seg = this.segments.shift()!;
      const lost = seg.lastSeq - Math.max(seg.firstSeq - 1, this.acked);
      if (lost > 0) {
        this.dropped += lost;
        this.opts.onWarning?.(
          `spool ${this.dir} is full (${this.opts.maxBytes} bytes): batches ${seg.firstSeq}-${seg.lastSeq} dropped unsent`,
        );
      }
      this.removeFile(seg);
    }
  }

  private removeFile(seg: Segment): void {
    this.totalBytes -= seg.bytes;
    try {
      unlinkSync(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Total bytes of the spool folders under `root` (for metrics). */
export function spoolBytes(root: string): number {
  let total = 0;
  if (!existsSync(root)) return 0;
  for (const ch of readdirSync(root)) {
    const dir = join(root, ch);
    if (!statSync(dir).isDirectory()) continue;
    for (const n of readdirSync(dir)) total += statSync(join(dir, n)).size;
  }
  return total;
}
