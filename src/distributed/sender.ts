/**
 * A capture node's link to the centre: sends each channel's spooled batches to the batch queue in
 * order, reads the centre's acknowledgements, and sends again what a lost queue may have lost (a
 * Redis restart, a restarted centre, or simply no progress for a long time). Duplicates are harmless:
 * the job id is the batch's idempotency key and the centre drops a seq it has applied.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { batchJobId, type PeakBatch } from './batch.js';
import type { DistributedConfig } from './config.js';
import type { AiringsMessage, EvidenceUpload } from './evidence.js';
import { BATCH_QUEUE, EVIDENCE_QUEUE, connectRedis, keys, serverRunId } from './redis.js';
import type { ChannelSpool } from './spool.js';

interface ChannelLink {
  channelId: string;
  spool: ChannelSpool;
  /** The centre's airings of the channel, for the node's evidence clips. */
  onAirings: ((msg: AiringsMessage) => void) | null;
  lastAirings: string | null;
  /** Highest seq handed to the queue since the last resend decision. */
  sentUpTo: number;
  lastProgressMs: number;
  lastAcked: number;
  /** The centre lists the channel as accepted (null: not looked at yet). */
  accepted: boolean | null;
}

export interface LinkStatus {
  up: boolean;
  since: number;
  detail: string | null;
  sent: number;
  resent: number;
}

export class CentreLink {
  private readonly redis: Redis;
  /** Made once Redis first answers (BullMQ checks the server version when it starts). */
  private queue: Queue | null = null;
  private evidenceQueue: Queue | null = null;
  private readonly k: ReturnType<typeof keys>;
  private readonly channels = new Map<string, ChannelLink>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private runId: string | null = null;
  private runIdCheckedMs = 0;
  private centreEpoch: string | null = null;
  private upState = false;
  private upSince = Date.now();
  private detail: string | null = 'connecting';
  private retryAtMs = 0;
  private failures = 0;
  sent = 0;
  resent = 0;

  constructor(
    private readonly opts: {
      redisUrl: string;
      prefix: string;
      nodeId: string;
      config: DistributedConfig;
      log: Logger;
    },
  ) {
    this.redis = connectRedis(opts.redisUrl, 'producer', `tyndau-capture-${opts.nodeId}`);
    // a dropped connection shows at once, not only when the next exchange times out
    this.redis.on('close', () => this.setUp(false, 'connection to Redis lost'));
    this.k = keys(opts.prefix);
  }

  addChannel(
    channelId: string,
    spool: ChannelSpool,
    onAirings: ((msg: AiringsMessage) => void) | null = null,
  ): void {
    this.channels.set(channelId, {
      channelId,
      spool,
      onAirings,
      lastAirings: null,
      sentUpTo: spool.ackedSeq,
      lastProgressMs: Date.now(),
      lastAcked: spool.ackedSeq,
      accepted: null,
    });
  }

  start(): void {
    this.timer ??= setInterval(
      () => void this.tick(),
      Math.max(50, Math.min(250, this.opts.config.ackPollMs)),
    );
  }

  /** A batch was spooled: send it soon. */
  poke(): void {
    void this.tick();
  }

  status(): LinkStatus {
    return {
      up: this.upState,
      since: this.upSince,
      detail: this.detail,
      sent: this.sent,
      resent: this.resent,
    };
  }

  /**
   * Waits until every batch spooled so far is acknowledged, or `timeoutMs` passes; true when all were.
   * Batches spooled meanwhile (a running node seals a heartbeat batch every few seconds) are not
   * waited for: chasing them, the wait could only end when a round trip beat the next heartbeat.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    const target = [...this.channels.values()].map((c) => ({ c, seq: c.spool.lastSeq }));
    for (;;) {
      const left = target.some(({ c, seq }) => c.spool.ackedSeq < seq);
      if (!left) return true;
      if (Date.now() > until) return false;
      await this.tick();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let i = 0; this.busy && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
    await this.queue?.close().catch(() => {});
    await this.evidenceQueue?.close().catch(() => {});
    this.redis.disconnect();
  }

  /** Uploads an air-check clip (throws while the link is down: the caller keeps it for later). */
  async sendEvidence(u: EvidenceUpload): Promise<void> {
    if (this.redis.status !== 'ready') throw new Error(`Redis is ${this.redis.status}`);
    const queue = await this.ready(
      () => (this.evidenceQueue ??= this.newQueue(EVIDENCE_QUEUE)),
      () => (this.evidenceQueue = null),
    );
    const jobId = `${u.channelId}.${u.recordingId}.${u.startMs}`.replace(/[^A-Za-z0-9_.-]/g, '_');
    await queue.add('clip', u, {
      jobId,
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: true,
      removeOnFail: { count: 100 },
    });
  }

  private newQueue(name: string): Queue {
    const q = new Queue(name, { connection: this.redis, prefix: this.opts.prefix });
    q.on('error', () => {});
    return q;
  }

  /**
   * A queue on the link's connection, started. BullMQ starts a queue once, with a version check
   * (INFO); if Redis does not answer it (it is restarting, or stalls past the link's command timeout
   * just as the node connects), that queue fails every call from then on. Such a queue is dropped and
   * made again on the next exchange; keeping it left the link down for good, with the spool never sent.
   */
  private async ready(get: () => Queue, drop: () => void): Promise<Queue> {
    const q = get();
    try {
      await q.waitUntilReady();
      return q;
    } catch (err) {
      if (get() === q) drop();
      // the connection is shared: closing the queue only detaches it
      await q.close().catch(() => {});
      throw err;
    }
  }

  private setUp(up: boolean, detail: string | null): void {
    if (up !== this.upState) {
      this.upState = up;
      this.upSince = Date.now();
      this.opts.log[up ? 'info' : 'warn'](
        { detail },
        up ? 'link to the centre is up' : 'link to the centre is down',
      );
    }
    this.detail = detail;
  }

  private async tick(): Promise<void> {
    if (this.busy || Date.now() < this.retryAtMs) return;
    this.busy = true;
    try {
      await this.exchange();
      this.failures = 0;
      this.setUp(true, null);
    } catch (err) {
      this.failures++;
      this.retryAtMs = Date.now() + Math.min(5000, 200 * 2 ** Math.min(5, this.failures));
      this.setUp(false, (err as Error).message);
      this.opts.log.debug({ err: (err as Error).message }, 'link exchange failed');
    } finally {
      this.busy = false;
    }
  }

  /** One round: read acknowledgements, decide what to send again, send what is due. */
  private async exchange(): Promise<void> {
    const cfg = this.opts.config;
    if (this.redis.status !== 'ready') throw new Error(`Redis is ${this.redis.status}`);
    const queue = await this.ready(
      () => (this.queue ??= this.newQueue(BATCH_QUEUE)),
      () => (this.queue = null),
    );
    const list = [...this.channels.values()];
    // a restarted Redis (or centre) has lost queued batches and buffered results: send again
    let runId = this.runId;
    if (this.failures > 0 || Date.now() - this.runIdCheckedMs > 2000) {
      runId = await serverRunId(this.redis);
      this.runIdCheckedMs = Date.now();
    }
    const [[epoch, ...rest], listed, published] = await Promise.all([
      this.redis.mget(
        this.k.centre,
        ...list.map((c) => this.k.ack(c.channelId)),
        ...list.map((c) => this.k.airings(c.channelId)),
      ),
      this.redis.hlen(this.k.channels),
      list.length > 0
        ? this.redis.hmget(this.k.channels, ...list.map((c) => c.channelId))
        : Promise.resolve([] as Array<string | null>),
    ]);
    const acks = rest.slice(0, list.length);
    const airings = rest.slice(list.length);
    const restarted =
      (this.runId !== null && runId !== this.runId) ||
      (this.centreEpoch !== null && epoch !== null && epoch !== this.centreEpoch);
    if (restarted)
      this.opts.log.info(
        { runId, epoch },
        'Redis or the centre restarted: sending unacknowledged batches again',
      );
    this.runId = runId;
    if (epoch !== null) this.centreEpoch = epoch;
    const now = Date.now();
    for (const [i, c] of list.entries()) {
      const a = airings[i];
      if (c.onAirings && a && a !== c.lastAirings) {
        c.lastAirings = a;
        try {
          c.onAirings(JSON.parse(a) as AiringsMessage);
        } catch (err) {
          this.opts.log.warn({ err, channel: c.channelId }, 'unreadable airings from the centre');
        }
      }
      const ack = parseAck(acks[i]);
      if (ack && ack.spoolId === c.spool.spoolId) c.spool.ack(ack.seq);
      if (c.spool.ackedSeq > c.lastAcked) {
        c.lastAcked = c.spool.ackedSeq;
        c.lastProgressMs = now;
      }
      const stuck = c.sentUpTo > c.spool.ackedSeq && now - c.lastProgressMs > cfg.resendAfterSec * 1000;
      if (restarted || stuck) {
        if (c.sentUpTo > c.spool.ackedSeq) this.resent += c.sentUpTo - c.spool.ackedSeq;
        c.sentUpTo = c.spool.ackedSeq;
        c.lastProgressMs = now;
      }
      // A channel the centre does not list yet (registered moments ago: the centre publishes its list
      // every republishMs) would have its batches refused by the workers, for good: they wait here.
      // While the list is missing altogether (Redis restarted), workers accept every channel.
      const accepted = listed === 0 || published[i] !== null;
      if (accepted !== c.accepted) {
        if (accepted) this.opts.log.info({ channel: c.channelId }, 'the centre accepts the channel');
        else
          this.opts.log.warn(
            { channel: c.channelId },
            'the centre does not list the channel (yet): its batches wait in the spool',
          );
        c.accepted = accepted;
      }
      if (accepted) await this.sendDue(queue, c);
    }
  }

  private async sendDue(queue: Queue, c: ChannelLink): Promise<void> {
    const cfg = this.opts.config;
    const from = Math.max(c.sentUpTo, c.spool.ackedSeq, c.spool.firstHeldSeq - 1) + 1;
    const to = Math.min(c.spool.lastSeq, c.spool.ackedSeq + cfg.maxInFlight);
    if (from > to) return;
    const holdsFrom = c.spool.firstHeldSeq;
    const jobs = [];
    for (let seq = from; seq <= to; seq++) {
      const rec = c.spool.read(seq);
      if (!rec) continue;
      const batch: PeakBatch = { ...rec, nodeId: this.opts.nodeId, spoolId: c.spool.spoolId, seq, holdsFrom };
      jobs.push({
        name: 'batch',
        data: batch,
        opts: {
          jobId: batchJobId(batch),
          attempts: cfg.attempts,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: true,
          removeOnFail: { count: 1000 },
        },
      });
    }
    if (jobs.length > 0) await queue.addBulk(jobs);
    this.sent += jobs.length;
    c.sentUpTo = to;
  }
}

function parseAck(text: string | null): { spoolId: string; seq: number } | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as { spoolId?: unknown; seq?: unknown };
    if (typeof v.spoolId === 'string' && typeof v.seq === 'number') return { spoolId: v.spoolId, seq: v.seq };
  } catch {
    // a foreign value: ignore it
  }
  return null;
}
