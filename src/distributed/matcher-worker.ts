/**
 * A matcher worker (`tyndau worker`): holds the reference index in memory, takes batches from the
 * queue, matches each on its own (matchBatch) and queues the result for the centre. Any number of
 * these run on any number of machines; none holds channel state, so a killed worker's batch is simply
 * matched again by another (BullMQ moves a job whose lock lapsed back to the queue).
 */
import { hostname } from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ReferenceIndex } from '../index/index.js';
import {
  BatchRejected,
  WIRE_VERSION,
  batchJobId,
  batchPeaks,
  claimedChannel,
  validateBatch,
  type BatchResult,
  type PeakBatch,
} from './batch.js';
import type { DistributedConfig } from './config.js';
import { matchBatch } from './matching.js';
import { BATCH_QUEUE, RESULT_QUEUE, connectRedis, keys } from './redis.js';

export interface MatcherWorkerOptions {
  redisUrl: string;
  prefix: string;
  indexDir: string;
  config: DistributedConfig;
  /** Name in logs and results (default host:pid). */
  name?: string;
  log?: Logger;
}

/** Options every result job gets: the result of batch X has X's id, so a retried batch cannot double it. */
export const RESULT_JOB_OPTS = {
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
} as const;

export class MatcherWorker {
  readonly registry = new Registry();
  readonly name: string;
  private readonly log: Logger;
  private index: ReferenceIndex | null = null;
  private worker: Worker | null = null;
  private results: Queue | null = null;
  private plain: Redis | null = null;
  private sub: Redis | null = null;
  /** BullMQ leaves a connection it was given open: it is closed here. */
  private queueConn: Redis | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private readonly k: ReturnType<typeof keys>;
  private channelsKnown: { at: number; ids: Set<string> | null } = { at: 0, ids: null };
  readonly batches = new Counter({
    name: 'tyndau_worker_batches_total',
    help: 'Batches matched by this worker',
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'tyndau_worker_rejected_batches_total',
    help: 'Batches rejected by this worker, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly matchSeconds = new Histogram({
    name: 'tyndau_worker_match_seconds',
    help: 'Time to match one batch',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly audioSeconds = new Counter({
    name: 'tyndau_worker_audio_seconds_total',
    help: 'Seconds of channel audio matched (own batch span, context excluded)',
    registers: [this.registry],
  });
  readonly recordings = new Gauge({
    name: 'tyndau_worker_index_recordings',
    help: 'Recordings in the in-memory reference index',
    registers: [this.registry],
  });

  constructor(private readonly opts: MatcherWorkerOptions) {
    this.name = opts.name ?? `${hostname()}:${process.pid}`;
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ worker: this.name });
    this.k = keys(opts.prefix);
    collectDefaultMetrics({ register: this.registry, prefix: 'tyndau_worker_' });
  }

  get recordingCount(): number {
    return this.index?.stats().recordings ?? 0;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.index = ReferenceIndex.open(o.indexDir, { readonly: true });
    this.recordings.set(this.index.stats().recordings);
    this.plain = connectRedis(o.redisUrl, 'worker', `tyndau-worker-${this.name}`);
    this.results = new Queue(RESULT_QUEUE, { connection: this.plain, prefix: o.prefix });
    this.results.on('error', () => {});
    // catalogue changes reach every worker at once; the timer is the fallback
    this.sub = connectRedis(o.redisUrl, 'worker', `tyndau-worker-sub-${this.name}`);
    this.sub.on('message', () => this.refresh('notified'));
    this.sub.on('ready', () => void this.sub?.subscribe(this.k.catalogue).catch(() => {}));
    this.refreshTimer = setInterval(
      () => this.refresh('timer'),
      Math.max(1, o.config.indexRefreshSec) * 1000,
    );
    this.refreshTimer.unref();
    this.queueConn = connectRedis(o.redisUrl, 'worker', `tyndau-worker-q-${this.name}`);
    this.worker = new Worker(BATCH_QUEUE, (job) => this.process(job), {
      connection: this.queueConn,
      prefix: o.prefix,
      concurrency: o.config.workerConcurrency,
      lockDuration: o.config.lockDurationMs,
      stalledInterval: Math.max(1000, Math.round(o.config.lockDurationMs / 2)),
      maxStalledCount: 3,
    });
    this.worker.on('error', (err) => this.log.debug({ err: err.message }, 'queue connection'));
    this.worker.on('stalled', (jobId) => {
      this.log.warn({ job: jobId }, 'a batch stalled (its worker died): it goes back to the queue');
      void this.bump('stalled');
    });
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      this.log.warn({ job: job.id, attempt: job.attemptsMade, final, err: err.message }, 'batch failed');
      if (!final) void this.bump('retries');
    });
    this.log.info({ index: o.indexDir, recordings: this.recordingCount }, 'matcher worker started');
  }

  /** Re-reads the index for recordings enrolled or removed since (no restart needed). */
  refresh(why: string): { added: number; removed: number } {
    if (!this.index) return { added: 0, removed: 0 };
    try {
      const r = this.index.refresh();
      if (r.added || r.removed) {
        this.recordings.set(this.index.stats().recordings);
        this.log.info({ ...r, why }, 'reference index refreshed');
      }
      return r;
    } catch (err) {
      this.log.error({ err }, 'reference index refresh failed');
      return { added: 0, removed: 0 };
    }
  }

  async stop(): Promise<void> {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.worker?.close();
    await this.results?.close();
    this.sub?.disconnect();
    this.plain?.disconnect();
    this.queueConn?.disconnect();
    this.index?.close();
    this.index = null;
    this.log.info('matcher worker stopped');
  }

  private async process(job: Job): Promise<{ fragments: number } | { rejected: string }> {
    const cfg = this.opts.config;
    let batch: PeakBatch;
    try {
      batch = validateBatch(job.data, { maxBytes: cfg.maxBatchBytes, maxPeaks: cfg.maxBatchPeaks });
      await this.checkChannel(batch.channelId);
    } catch (err) {
      if (!(err instanceof BatchRejected)) throw err;
      return this.reject(job, err.reason, err.message);
    }
    this.log.debug({ job: job.id, attempt: job.attemptsStarted }, 'matching batch');
    if ((job.attemptsStarted ?? 0) > 1) void this.bump('retried_batches');
    try {
      if (cfg.simulateWorkMs > 0) await new Promise((r) => setTimeout(r, cfg.simulateWorkMs));
      const t0 = performance.now();
      const { peaks, skips } = batchPeaks(batch);
      const fragments =
        batch.epochMs === null
          ? []
          : matchBatch(this.index!, { epochMs: batch.epochMs, peaks, skips, toUnits: batch.toUnits });
      this.matchSeconds.observe((performance.now() - t0) / 1000);
      await this.queueResult(batch, fragments, null);
      this.batches.inc();
      this.audioSeconds.inc(batch.audioSec);
      return { fragments: fragments.length };
    } catch (err) {
      if (err instanceof BatchRejected) return this.reject(job, err.reason, err.message);
      // out of attempts: tell the centre, so the channel moves on and records the hole as a gap
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.queueResult(batch, [], `failed: ${(err as Error).message}`).catch(() => {});
      }
      throw err;
    }
  }

  /** A bad batch: counted, reported to the centre, and failed without retries (it never blocks the queue). */
  private async reject(job: Job, reason: string, message: string): Promise<never> {
    this.rejected.inc({ reason });
    void this.bump(`rejected:${reason}`);
    this.log.warn({ job: job.id, reason, message }, 'batch rejected');
    const id = identity(job.data);
    await this.queueRejection(id, reason, message).catch((err: unknown) =>
      this.log.error({ err }, 'cannot report a rejection'),
    );
    throw new UnrecoverableError(`${reason}: ${message}`);
  }

  private async queueRejection(
    id: ReturnType<typeof identity>,
    reason: string,
    message: string,
  ): Promise<void> {
    const channelId = id.channelId ?? '_unknown';
    const data = {
      v: WIRE_VERSION,
      kind: 'rejection',
      channelId,
      claimedChannel: id.channelId,
      nodeId: id.nodeId ?? 'unknown',
      spoolId: id.spoolId ?? 'unknown',
      session: 'unknown',
      seq: id.seq ?? 0,
      reason,
      message: message.slice(0, 500),
      worker: this.name,
      atMs: Date.now(),
    };
    // a rejection carrying a real (channel, spool, seq) keeps that id: its seq is then skipped, once
    const jobId =
      id.channelId && id.spoolId && id.seq
        ? `${batchJobId({ channelId: id.channelId, spoolId: id.spoolId, seq: id.seq })}`
        : undefined;
    await this.results!.add('rejection', data, { ...RESULT_JOB_OPTS, jobId });
  }

  private async queueResult(
    b: PeakBatch,
    fragments: BatchResult['fragments'],
    rejected: string | null,
  ): Promise<void> {
    const result: BatchResult = {
      v: WIRE_VERSION,
      channelId: b.channelId,
      nodeId: b.nodeId,
      spoolId: b.spoolId,
      session: b.session,
      seq: b.seq,
      holdsFrom: b.holdsFrom,
      epochMs: b.epochMs,
      fromUnits: b.fromUnits,
      toUnits: b.toUnits,
      audioSec: b.audioSec,
      skips: b.skips,
      end: b.end,
      gaps: b.gaps,
      state: b.state,
      sealedAtMs: b.sealedAtMs,
      fragments,
      rejected,
      matchedAtMs: Date.now(),
      worker: this.name,
    };
    await this.results!.add('result', result, { ...RESULT_JOB_OPTS, jobId: batchJobId(b) });
  }

  /**
   * The centre publishes the channels it accepts; while that list is missing (Redis just restarted),
   * accept all. The list is kept for 2 s, but a channel missing from it is looked up again at once
   * before the batch is refused: a refusal is final (the batch fails and keeps its job id, so even a
   * resend cannot bring it back, and the centre waits for its seq), and a channel registered moments
   * ago is missing from a list read before it was published.
   */
  private async checkChannel(channelId: string): Promise<void> {
    let ids = await this.channelIds(false);
    if (ids && !ids.has(channelId)) ids = await this.channelIds(true);
    if (ids && !ids.has(channelId)) {
      throw new BatchRejected('unknown_channel', `channel "${channelId}" is not registered at the centre`);
    }
  }

  private async channelIds(fresh: boolean): Promise<Set<string> | null> {
    const now = Date.now();
    if (fresh || now - this.channelsKnown.at > 2000) {
      try {
        const ids = await this.plain!.hkeys(this.k.channels);
        this.channelsKnown = { at: now, ids: ids.length > 0 ? new Set(ids) : null };
      } catch {
        this.channelsKnown = { at: now, ids: null };
      }
    }
    return this.channelsKnown.ids;
  }

  private async bump(field: string): Promise<void> {
    try {
      await this.plain?.hincrby(this.k.stats, field, 1);
    } catch {
      // counters are best effort
    }
  }
}

/** Whatever identity a payload (valid or not) claims: enough to count it and to skip its seq. */
function identity(data: unknown): {
  channelId: string | null;
  nodeId: string | null;
  spoolId: string | null;
  seq: number | null;
} {
  const o = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
  const tok = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,80}$/.test(v) ? v : null);
  const seq = typeof o.seq === 'number' && Number.isSafeInteger(o.seq) && o.seq >= 1 ? o.seq : null;
  return { channelId: claimedChannel(data), nodeId: tok(o.nodeId), spoolId: tok(o.spoolId), seq };
}
