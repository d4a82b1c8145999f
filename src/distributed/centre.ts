/**
 * The centre (`tyndau centre`): the one system of record. It takes the matcher workers' results,
 * puts each channel's batches back in order (sequence numbers and a reorder buffer), stitches their
 * fragments into detections (ChannelStitcher), writes detections, gaps and channel state through the
 * monitor's repository, checkpoints each channel's cursor, and acknowledges to the capture nodes.
 * Every write is idempotent and the cursor is written last, so a crash anywhere only means a batch
 * is applied again with the same outcome.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ReferenceIndex } from '../index/index.js';
import {
  MonitorRepository,
  channelStatus,
  evidenceRetentionPass,
  formatSource,
  type AiredDetection,
  type Channel,
  type ChannelStatus,
  type MonitorConfig,
} from '../monitor/index.js';
import type { Store } from '../store/index.js';
import { BatchRejected, validateResult, type BatchResult } from './batch.js';
import type { DistributedConfig } from './config.js';
import { storeClip, validateUpload, type AiringsMessage } from './evidence.js';
import { BATCH_QUEUE, EVIDENCE_QUEUE, RESULT_QUEUE, connectRedis, keys } from './redis.js';
import { DistributedRepository, type ChannelCursor } from './repository.js';
import { ChannelStitcher, emptyStitchState, resultInput } from './stitcher.js';

export interface CentreOptions {
  redisUrl: string;
  prefix: string;
  store: Store;
  monitor: MonitorConfig;
  config: DistributedConfig;
  /** Results handled at once (channels are still applied one batch at a time each). */
  concurrency?: number;
  /** The monitor clock: UTC ms of "now" (a scaled clock in tests). */
  now?: () => number;
  log?: Logger;
  http?: { host: string; port: number } | null;
  /** Watch this reference index and tell the workers when recordings are enrolled or removed. */
  indexDir?: string | null;
  /** Store the air-check clips capture nodes upload here (null: not accepted). */
  evidenceDir?: string | null;
  /** Called with every detection once it is stored. */
  onDetection?: (det: AiredDetection, latencyMs: number) => void;
}

/** A rejection as a worker reports it (the batch itself could not be used). */
interface RejectionReport {
  channelId: string;
  claimedChannel: string | null;
  nodeId: string;
  spoolId: string;
  seq: number;
  reason: string;
  message: string;
}

type Item = { kind: 'result'; r: BatchResult } | { kind: 'hole'; seq: number; spoolId: string; why: string };

interface Slot {
  channel: Channel;
  cursor: ChannelCursor | null;
  stitcher: ChannelStitcher;
  buffer: Map<number, Item>;
  chain: Promise<void>;
  /** Batches were lost or rejected before the next one: its start marks the end of a gap. */
  hole: string | null;
  nodeState: string | null;
}

/** What the centre knows about a channel's distributed flow (for `tyndau centre status` and /channels). */
export interface ChannelFlow {
  channelId: string;
  nodeId: string | null;
  spoolId: string | null;
  nextSeq: number | null;
  /** Seconds between now and the end of the audio stitched so far. */
  lagSec: number | null;
  buffered: number;
  batchesApplied: number;
  batchesLost: number;
  openAirings: number;
  heldAirings: number;
}

export class Centre {
  readonly registry = new Registry();
  readonly repo: MonitorRepository;
  readonly dist: DistributedRepository;
  readonly epoch = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly k: ReturnType<typeof keys>;
  private readonly slots = new Map<string, Slot>();
  private redis: Redis | null = null;
  private queueConn: Redis | null = null;
  private worker: Worker | null = null;
  private evidenceWorker: Worker | null = null;
  private evidenceConn: Redis | null = null;
  private batchQueue: Queue | null = null;
  private resultQueue: Queue | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private http: FastifyInstance | null = null;
  private address: string | null = null;
  private index: ReferenceIndex | null = null;
  private stopping = false;

  private readonly mDetections = new Counter({
    name: 'tyndau_detections_total',
    help: 'Detections written (final)',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mBatches = new Counter({
    name: 'tyndau_dist_batches_applied_total',
    help: 'Batches applied in order, per channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mDuplicates = new Counter({
    name: 'tyndau_dist_duplicate_results_total',
    help: 'Results of batches already applied (retries, resends), dropped',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mLost = new Counter({
    name: 'tyndau_dist_lost_batches_total',
    help: 'Batches a capture node dropped unsent (spool full, wiped), recorded as gaps',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mRejected = new Counter({
    name: 'tyndau_dist_rejected_batches_total',
    help: 'Batches rejected (malformed, oversized, unknown channel, failed), by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly mAbsorbed = new Counter({
    name: 'tyndau_dist_absorbed_fragments_total',
    help: 'Fragments that repeated a detection already final or a repeated section',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mLatency = new Histogram({
    name: 'tyndau_dist_detection_latency_seconds',
    help: 'From the end of an airing to its stored detection',
    buckets: [5, 10, 15, 20, 25, 30, 45, 60, 120, 300, 900],
    registers: [this.registry],
  });
  private readonly mLag = new Gauge({
    name: 'tyndau_dist_channel_lag_seconds',
    help: 'Now minus the end of the audio stitched so far, per channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mBuffered = new Gauge({
    name: 'tyndau_dist_reorder_buffered',
    help: 'Results waiting for an earlier batch of their channel',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  private readonly mQueue = new Gauge({
    name: 'tyndau_dist_queue_jobs',
    help: 'Jobs in the BullMQ queues, by queue and state',
    labelNames: ['queue', 'state'],
    registers: [this.registry],
  });
  private readonly mWorkerEvents = new Gauge({
    name: 'tyndau_dist_worker_events',
    help: 'Counted by matcher workers since Redis started: retries, stalled batches, rejections',
    labelNames: ['event'],
    registers: [this.registry],
  });
  private readonly mRejectedStored = new Gauge({
    name: 'tyndau_dist_rejections_stored',
    help: 'Rejected batches recorded in the database, by reason (all time)',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  constructor(private readonly opts: CentreOptions) {
    this.repo = new MonitorRepository(opts.store.db);
    this.dist = new DistributedRepository(opts.store.db);
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ centre: this.epoch });
    this.k = keys(opts.prefix);
    collectDefaultMetrics({ register: this.registry, prefix: 'tyndau_centre_' });
  }

  get httpAddress(): string | null {
    return this.address;
  }

  async start(): Promise<void> {
    const o = this.opts;
    await this.loadChannels();
    for (const c of await this.dist.cursors()) {
      const slot = this.slots.get(c.channelId);
      if (!slot) continue;
      slot.cursor = c;
      slot.stitcher = new ChannelStitcher(c.channelId, this.policy(), c.state);
    }
    this.redis = connectRedis(o.redisUrl, 'worker', 'tyndau-centre');
    this.batchQueue = new Queue(BATCH_QUEUE, { connection: this.redis, prefix: o.prefix });
    this.resultQueue = new Queue(RESULT_QUEUE, { connection: this.redis, prefix: o.prefix });
    this.batchQueue.on('error', () => {});
    this.resultQueue.on('error', () => {});
    if (o.indexDir) this.index = ReferenceIndex.open(o.indexDir, { readonly: true });
    await this.publish().catch((err: unknown) => this.log.warn({ err }, 'cannot publish to Redis yet'));
    this.queueConn = connectRedis(o.redisUrl, 'worker', 'tyndau-centre-q');
    this.worker = new Worker(RESULT_QUEUE, (job) => this.process(job), {
      connection: this.queueConn,
      prefix: o.prefix,
      concurrency: o.concurrency ?? 8,
      lockDuration: 60_000,
      maxStalledCount: 5,
    });
    this.worker.on('error', (err) => this.log.debug({ err: err.message }, 'queue connection'));
    this.worker.on('failed', (job, err) =>
      this.log.error({ job: job?.id, err: err.message }, 'result could not be applied; it will be retried'),
    );
    if (o.evidenceDir) {
      const dir = o.evidenceDir;
      this.evidenceConn = connectRedis(o.redisUrl, 'worker', 'tyndau-centre-evidence');
      this.evidenceWorker = new Worker(EVIDENCE_QUEUE, (job) => this.storeEvidence(dir, job.data), {
        connection: this.evidenceConn,
        prefix: o.prefix,
        concurrency: 2,
      });
      this.evidenceWorker.on('error', (err) => this.log.debug({ err: err.message }, 'queue connection'));
      // the uploaded clips age out as the embedded monitor's do (disputed ones stay)
      await this.retention(dir);
      this.retentionTimer = setInterval(() => void this.retention(dir), o.monitor.evidenceRetentionEveryMs);
      this.retentionTimer.unref();
    }
    this.timer = setInterval(() => {
      void this.publish().catch((err: unknown) => this.log.debug({ err }, 'publish failed'));
    }, o.config.republishMs);
    this.timer.unref();
    if (o.http) await this.startHttp(o.http);
    this.log.info({ channels: this.slots.size, http: this.address }, 'centre started');
  }

  private async retention(dir: string): Promise<void> {
    try {
      const deleted = await evidenceRetentionPass(this.repo, dir, this.opts.monitor, Date.now());
      if (deleted.length > 0) this.log.info({ deleted: deleted.length }, 'evidence retention');
    } catch (err) {
      this.log.error({ err }, 'evidence retention failed');
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.worker?.close();
    await this.evidenceWorker?.close();
    this.evidenceConn?.disconnect();
    await Promise.all([...this.slots.values()].map((s) => s.chain));
    await this.batchQueue?.close();
    await this.resultQueue?.close();
    this.redis?.disconnect();
    this.queueConn?.disconnect();
    await this.http?.close();
    this.index?.close();
    this.log.info('centre stopped');
  }

  /** Distributed flow per channel: lag, buffered results, sequence position. */
  flows(): ChannelFlow[] {
    const now = this.now();
    return [...this.slots.values()].map((s) => {
      const st = s.stitcher.snapshot();
      return {
        channelId: s.channel.id,
        nodeId: s.cursor?.nodeId ?? null,
        spoolId: s.cursor?.spoolId ?? null,
        nextSeq: s.cursor?.nextSeq ?? null,
        lagSec: st.positionMs === null ? null : Math.max(0, (now - st.positionMs) / 1000),
        buffered: s.buffer.size,
        batchesApplied: s.cursor?.batchesApplied ?? 0,
        batchesLost: s.cursor?.batchesLost ?? 0,
        openAirings: st.open.length,
        heldAirings: st.held.length,
      };
    });
  }

  /** Depths of both queues (waiting, active, delayed, failed, ...). */
  async queueDepths(): Promise<Record<string, Record<string, number>>> {
    const types = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
    const [b, r] = await Promise.all([
      this.batchQueue!.getJobCounts(...types),
      this.resultQueue!.getJobCounts(...types),
    ]);
    return { [BATCH_QUEUE]: b, [RESULT_QUEUE]: r };
  }

  async workerEvents(): Promise<Record<string, number>> {
    const h = await this.redis!.hgetall(this.k.stats);
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  /** Waits until no result is buffered or being applied (tests). */
  async settled(): Promise<void> {
    for (const s of this.slots.values()) await s.chain;
  }

  // --- results -----------------------------------------------------------------------------------

  private async process(job: Job): Promise<string> {
    if (job.name === 'rejection') return this.onRejection(job.data);
    let r: BatchResult;
    try {
      r = validateResult(job.data, this.opts.config.maxBatchBytes);
    } catch (err) {
      if (!(err instanceof BatchRejected)) throw err;
      await this.reject(null, null, null, err.reason, `result ${job.id}: ${err.message}`);
      return 'rejected';
    }
    const slot = this.slots.get(r.channelId) ?? (await this.findChannel(r.channelId));
    if (!slot) {
      await this.reject(
        r.channelId,
        r.nodeId,
        r.seq,
        'unknown_channel',
        `channel "${r.channelId}" is not registered`,
      );
      return 'unknown channel';
    }
    if (r.rejected) await this.reject(r.channelId, r.nodeId, r.seq, 'failed', r.rejected);
    return this.enqueue(slot, { kind: 'result', r });
  }

  private async onRejection(data: unknown): Promise<string> {
    const d = (data && typeof data === 'object' ? data : {}) as Partial<RejectionReport>;
    const reason = typeof d.reason === 'string' ? d.reason.slice(0, 40) : 'malformed';
    const claimed = typeof d.claimedChannel === 'string' ? d.claimedChannel : null;
    const seq = typeof d.seq === 'number' && d.seq >= 1 ? d.seq : null;
    const nodeId = typeof d.nodeId === 'string' ? d.nodeId : null;
    await this.reject(claimed, nodeId, seq, reason, String(d.message ?? ''));
    const slot = claimed ? this.slots.get(claimed) : undefined;
    // a bad batch from the channel's own spool still holds a place in its sequence: skip it, once
    if (slot && seq !== null && typeof d.spoolId === 'string' && slot.cursor?.spoolId === d.spoolId) {
      return this.enqueue(slot, {
        kind: 'hole',
        seq,
        spoolId: d.spoolId,
        why: `batch #${seq} rejected (${reason})`,
      });
    }
    return 'counted';
  }

  private async reject(
    channelId: string | null,
    nodeId: string | null,
    seq: number | null,
    reason: string,
    detail: string,
  ): Promise<void> {
    this.mRejected.inc({ reason });
    this.log.warn({ channel: channelId, node: nodeId, seq, reason, detail }, 'batch rejected');
    await this.dist.addRejection({ channelId, nodeId, seq, reason, detail, atMs: this.now() });
  }

  /** Runs `item` through its channel's chain: one batch at a time per channel, in sequence. */
  private enqueue(slot: Slot, item: Item): Promise<string> {
    const run = slot.chain.then(() => this.handle(slot, item));
    slot.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async handle(slot: Slot, item: Item): Promise<string> {
    const seq = item.kind === 'result' ? item.r.seq : item.seq;
    const spoolId = item.kind === 'result' ? item.r.spoolId : item.spoolId;
    const ch = slot.channel.id;
    // work on a copy: the slot keeps its cursor until the database has the new one
    let cur: ChannelCursor;
    let hole = slot.hole;
    if (!slot.cursor) {
      if (item.kind === 'hole') return 'hole before any batch';
      cur = this.newCursor(ch, item.r);
    } else if (slot.cursor.spoolId !== spoolId) {
      if (item.kind === 'hole') return 'hole of another spool';
      // the node lost its spool (a new disk) or was replaced: its numbering starts again
      this.log.warn(
        { channel: ch, from: slot.cursor.spoolId, to: spoolId },
        'new capture spool for the channel',
      );
      slot.buffer.clear();
      cur = { ...slot.cursor, spoolId, nextSeq: item.r.holdsFrom, session: null, nodeId: item.r.nodeId };
      hole = 'the capture node started a new spool';
    } else cur = { ...slot.cursor };
    if (seq < cur.nextSeq) {
      this.mDuplicates.inc({ channel: ch });
      return 'duplicate';
    }
    if (item.kind === 'result' && item.r.holdsFrom > cur.nextSeq) {
      const lost = item.r.holdsFrom - cur.nextSeq;
      this.log.warn(
        { channel: ch, from: cur.nextSeq, to: item.r.holdsFrom - 1 },
        'batches lost at the capture node',
      );
      this.mLost.inc({ channel: ch }, lost);
      cur.batchesLost += lost;
      cur.nextSeq = item.r.holdsFrom;
      hole = `${lost} batch${lost === 1 ? '' : 'es'} lost at the capture node`;
      for (const k of [...slot.buffer.keys()]) if (k < cur.nextSeq) slot.buffer.delete(k);
    }
    if (seq > cur.nextSeq) {
      slot.cursor = cur;
      slot.hole = hole;
      if (slot.buffer.size < this.opts.config.maxReorder) slot.buffer.set(seq, item);
      this.mBuffered.set({ channel: ch }, slot.buffer.size);
      return 'buffered';
    }
    // seq is next: apply it and whatever was waiting for it
    const run: Item[] = [item];
    let next = seq + 1;
    while (slot.buffer.has(next)) {
      run.push(slot.buffer.get(next)!);
      slot.buffer.delete(next);
      next++;
    }
    try {
      await this.applyRun(slot, cur, hole, run);
    } catch (err) {
      // the first item's job is retried by the queue; the others wait in the buffer again
      for (const it of run.slice(1)) slot.buffer.set(it.kind === 'result' ? it.r.seq : it.seq, it);
      throw err;
    } finally {
      this.mBuffered.set({ channel: ch }, slot.buffer.size);
    }
    return 'applied';
  }

  private async applyRun(slot: Slot, cur: ChannelCursor, hole: string | null, run: Item[]): Promise<void> {
    const ch = slot.channel.id;
    const stitcher = new ChannelStitcher(ch, this.policy(), cur.state);
    let pending = null;
    let lastState = null;
    const now = this.now();
    const stored: Array<{ det: AiredDetection; latencyMs: number }> = [];
    for (const item of run) {
      if (item.kind === 'hole') {
        hole = item.why;
        cur.nextSeq = item.seq + 1;
        continue;
      }
      const r = item.r;
      const { input, gaps } = resultInput(r, stitcher.positionMs, hole);
      hole = null;
      const out = stitcher.apply(input);
      if (gaps.length > 0) await this.repo.applyGapChanges(gaps, now);
      for (const det of out.finals) {
        const id = await this.repo.writeFinal(det, null, this.opts.monitor.duplicateToleranceMs, now);
        stored.push({ det: { ...det, id }, latencyMs: this.now() - det.endMs });
      }
      // an airing that resumed after a weak stretch: the stored detection is extended, not doubled
      for (const det of out.corrected) {
        await this.repo.writeFinal(det, null, this.opts.monitor.duplicateToleranceMs, now);
        this.log.info({ channel: ch, detection: det.id, endMs: det.endMs }, 'detection extended');
      }
      if (out.absorbed > 0) this.mAbsorbed.inc({ channel: ch }, out.absorbed);
      pending = out.pending;
      if (r.state) lastState = r.state;
      cur.nextSeq = r.seq + 1;
      cur.session = r.session;
      cur.nodeId = r.nodeId;
      cur.lastSealedAtMs = r.sealedAtMs;
      cur.batchesApplied++;
    }
    if (pending) await this.repo.savePending(ch, pending, now);
    if (lastState) await this.repo.saveState(lastState);
    cur.state = stitcher.snapshot();
    cur.positionMs = stitcher.positionMs;
    cur.updatedAtMs = now;
    await this.dist.saveCursor(cur);
    // committed: from here on the slot moves on
    slot.cursor = cur;
    slot.stitcher = stitcher;
    slot.hole = hole;
    if (lastState) slot.nodeState = lastState.state;
    this.mBatches.inc({ channel: ch }, run.filter((i) => i.kind === 'result').length);
    for (const { det, latencyMs } of stored) {
      this.mDetections.inc({ channel: ch });
      this.mLatency.observe(latencyMs / 1000);
      this.log.info(
        {
          channel: ch,
          detection: det.id,
          recording: det.recordingId,
          start: new Date(det.startMs).toISOString(),
        },
        'detection',
      );
      this.opts.onDetection?.(det, latencyMs);
    }
    await this.ack(cur).catch(() => {});
    // the node cuts the clips of these airings from its own evidence ring
    const airings: AiringsMessage = {
      pending: pending ?? [],
      finals: stitcher.snapshot().recent.map((r) => ({
        id: r.id,
        channelId: ch,
        recordingId: r.recordingId,
        startMs: r.startMs,
        endMs: r.endMs,
        refStartSec: r.refStartSec,
        refEndSec: r.refEndSec,
        speed: r.speed,
        confidence: r.confidence,
      })),
    };
    await this.redis?.set(this.k.airings(ch), JSON.stringify(airings), 'EX', 900).catch(() => {});
  }

  /** A clip a capture node uploaded: stored beside the detection it belongs to. */
  private async storeEvidence(dir: string, data: unknown): Promise<string> {
    let u;
    try {
      u = validateUpload(data);
    } catch (err) {
      await this.reject(null, null, null, 'malformed', (err as Error).message);
      return 'rejected';
    }
    const tol = this.opts.monitor.duplicateToleranceMs;
    const found = (await this.repo.detections(u.channelId, u.startMs - tol, u.startMs + tol + 1)).filter(
      (d) => d.recordingId === u.recordingId,
    );
    found.sort((a, b) => Math.abs(a.startMs - u.startMs) - Math.abs(b.startMs - u.startMs));
    const det = found[0];
    if (!det)
      throw new Error(`clip of ${u.channelId} ${u.recordingId} at ${u.startMs}: no such detection (yet)`);
    const path = storeClip(dir, det, Buffer.from(u.mp3, 'base64'));
    await this.repo.writeFinal(det, { path, startMs: u.clipStartMs }, tol, this.now());
    this.log.info({ channel: u.channelId, detection: det.id, path }, 'evidence clip stored');
    return path;
  }

  private newCursor(channelId: string, r: BatchResult): ChannelCursor {
    return {
      channelId,
      spoolId: r.spoolId,
      nextSeq: r.holdsFrom,
      session: null,
      nodeId: r.nodeId,
      positionMs: null,
      state: emptyStitchState(),
      batchesApplied: 0,
      batchesLost: 0,
      lastSealedAtMs: null,
      updatedAtMs: this.now(),
    };
  }

  private async ack(c: ChannelCursor): Promise<void> {
    if (!this.redis || c.nextSeq <= 1) return;
    await this.redis.set(this.k.ack(c.channelId), JSON.stringify({ spoolId: c.spoolId, seq: c.nextSeq - 1 }));
  }

  private policy() {
    const m = this.opts.monitor;
    const d = this.opts.config;
    return {
      finalizeAfterSec: d.finalizeAfterSec,
      joinGapSec: d.joinGapSec,
      recentKeepSec: d.recentKeepSec,
      extendGapSec: d.extendGapSec,
      stitchEdgeSec: m.stitchEdgeSec,
      stitchWaitSec: m.stitchWaitSec,
      stitchOffsetToleranceSec: m.stitchOffsetToleranceSec,
    };
  }

  // --- channels, Redis -----------------------------------------------------------------------------

  private async loadChannels(): Promise<void> {
    for (const ch of await this.repo.listChannels()) {
      const slot = this.slots.get(ch.id);
      if (slot) slot.channel = ch;
      else this.slots.set(ch.id, this.newSlot(ch));
    }
  }

  private newSlot(channel: Channel): Slot {
    return {
      channel,
      cursor: null,
      stitcher: new ChannelStitcher(channel.id, this.policy()),
      buffer: new Map(),
      chain: Promise.resolve(),
      hole: null,
      nodeState: null,
    };
  }

  /** A channel registered after the centre started. */
  private async findChannel(id: string): Promise<Slot | undefined> {
    const ch = await this.repo.getChannel(id);
    if (!ch) return undefined;
    const slot = this.slots.get(id) ?? this.newSlot(ch);
    this.slots.set(id, slot);
    return slot;
  }

  /** Epoch, accepted channels and acknowledgements into Redis (again after a Redis restart). */
  private async publish(): Promise<void> {
    if (!this.redis || this.stopping) return;
    await this.loadChannels();
    const multi = this.redis.multi();
    multi.set(this.k.centre, this.epoch);
    multi.del(this.k.channels);
    for (const s of this.slots.values()) {
      multi.hset(
        this.k.channels,
        s.channel.id,
        JSON.stringify({ ...s.channel, sources: s.channel.sources.map(formatSource) }),
      );
      if (s.cursor && s.cursor.nextSeq > 1) {
        multi.set(
          this.k.ack(s.channel.id),
          JSON.stringify({ spoolId: s.cursor.spoolId, seq: s.cursor.nextSeq - 1 }),
        );
      }
    }
    await multi.exec();
    if (this.index) {
      const r = this.index.refresh();
      if (r.added || r.removed) {
        this.log.info(r, 'reference index changed: telling the workers');
        await this.redis.publish(this.k.catalogue, JSON.stringify(r));
      }
    }
  }

  // --- HTTP --------------------------------------------------------------------------------------

  async statuses(): Promise<Array<ChannelStatus & { flow: ChannelFlow | null }>> {
    const flows = new Map(this.flows().map((f) => [f.channelId, f]));
    const m = this.opts.monitor;
    return Promise.all(
      [...this.slots.values()].map(async (s) => ({
        ...(await channelStatus(this.repo, s.channel, this.now(), {
          uptimeWindowMs: m.uptimeWindowMs,
          heartbeatStaleMs: m.heartbeatStaleMs,
        })),
        flow: flows.get(s.channel.id) ?? null,
      })),
    );
  }

  private async refreshGauges(): Promise<void> {
    for (const f of this.flows()) {
      if (f.lagSec !== null) this.mLag.set({ channel: f.channelId }, f.lagSec);
      this.mBuffered.set({ channel: f.channelId }, f.buffered);
    }
    try {
      for (const [queue, counts] of Object.entries(await this.queueDepths())) {
        for (const [state, n] of Object.entries(counts)) this.mQueue.set({ queue, state }, n);
      }
      for (const [event, n] of Object.entries(await this.workerEvents()))
        this.mWorkerEvents.set({ event }, n);
    } catch (err) {
      this.log.debug({ err }, 'queue depths unavailable');
    }
    for (const [reason, n] of Object.entries(await this.dist.rejectionCounts())) {
      this.mRejectedStored.set({ reason }, n);
    }
  }

  private async startHttp(where: { host: string; port: number }): Promise<void> {
    const app = Fastify({ logger: false });
    app.get('/health', async (_req, reply) => {
      const redisUp = this.redis?.status === 'ready';
      return reply
        .code(redisUp ? 200 : 503)
        .send({ ok: redisUp, redis: this.redis?.status, channels: this.slots.size });
    });
    app.get('/metrics', async (_req, reply) => {
      await this.refreshGauges();
      return reply.header('content-type', this.registry.contentType).send(await this.registry.metrics());
    });
    app.get('/channels', async () => ({ channels: await this.statuses() }));
    await app.listen({ host: where.host, port: where.port });
    const addr = app.server.address();
    this.address = addr && typeof addr === 'object' ? `http://${where.host}:${addr.port}` : null;
    this.http = app;
  }
}
