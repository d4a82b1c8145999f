/**
 * The capture node (`tyndau capture`): the live monitor's channel runners (ffmpeg, clock, gaps,
 * silence, evidence, health) with a PeakBatcher in place of the matcher, a spool per channel, and
 * the link that ships the spooled batches to the centre. Audio never leaves the node.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Gauge } from 'prom-client';
import {
  ChannelRunner,
  MonitorMetrics,
  MonitorRepository,
  evidenceRetentionPass,
  seededRandom,
  type AiredDetection,
  type Channel,
  type GapChange,
  type MonitorConfig,
} from '../monitor/index.js';
import { migrateToLatest, openStore, type ChannelStateTable, type Store } from '../store/index.js';
import type { PeakBatch, SealedBatch } from './batch.js';
import { PeakBatcher } from './batcher.js';
import type { DistributedConfig } from './config.js';
import { AiringsFeed, EvidenceUploader } from './evidence.js';
import { CentreLink } from './sender.js';
import { ChannelSpool } from './spool.js';

export interface CaptureNodeOptions {
  nodeId: string;
  channels: Channel[];
  monitor: MonitorConfig;
  config: DistributedConfig;
  redisUrl: string;
  prefix: string;
  /** Spools (one folder per channel) and the node's own state database live here. */
  spoolDir: string;
  evidenceDir: string | null;
  /** The monitor clock (Date.now, or a scaled clock in tests). */
  now?: () => number;
  /** How many times faster than the wall clock `now` runs (see RunnerOptions.timeScale). */
  timeScale?: number;
  log?: Logger;
  http?: { host: string; port: number } | null;
  seed?: number;
  /** Tests and benchmarks: every batch as it is spooled. */
  onSpooled?: (batch: PeakBatch) => void;
}

/**
 * The runner's store calls that the centre must hear about go into the channel's next batch; a
 * detection the runner stores (one the centre found, fed back to it) sends its clip to the centre.
 */
class ShippingRepository extends MonitorRepository {
  constructor(
    store: Store,
    private readonly batcher: () => PeakBatcher,
    private readonly onClip: ((det: AiredDetection, ev: { path: string; startMs: number }) => void) | null,
  ) {
    super(store.db);
  }

  override async writeFinal(
    det: AiredDetection,
    evidence: { path: string; startMs: number } | null,
    duplicateToleranceMs: number,
    nowMs: number,
  ): Promise<string> {
    const id = await super.writeFinal(det, evidence, duplicateToleranceMs, nowMs);
    if (evidence) this.onClip?.(det, evidence);
    return id;
  }

  override async applyGapChanges(changes: GapChange[], nowMs: number): Promise<void> {
    await super.applyGapChanges(changes, nowMs);
    this.batcher().addGaps(changes);
  }

  override async saveState(row: ChannelStateTable): Promise<void> {
    await super.saveState(row);
    this.batcher().setState(row);
  }
}

interface NodeChannel {
  channel: Channel;
  runner: ChannelRunner;
  batcher: PeakBatcher;
  spool: ChannelSpool;
  done: Promise<void>;
}

export class CaptureNode {
  readonly metrics = new MonitorMetrics({ processMetrics: true });
  private readonly log: Logger;
  private store: Store | null = null;
  private link: CentreLink | null = null;
  private readonly items: NodeChannel[] = [];
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private http: FastifyInstance | null = null;
  private address: string | null = null;
  private all: Promise<void> | null = null;
  private uploader: EvidenceUploader | null = null;
  private readonly spoolPending = new Gauge({
    name: 'tyndau_capture_spool_batches',
    help: 'Batches spooled and not yet acknowledged by the centre',
    labelNames: ['channel'],
    registers: [this.metrics.registry],
  });
  private readonly spoolBytes = new Gauge({
    name: 'tyndau_capture_spool_bytes',
    help: 'Bytes held in the channel spool',
    labelNames: ['channel'],
    registers: [this.metrics.registry],
  });
  private readonly spoolDropped = new Gauge({
    name: 'tyndau_capture_spool_dropped_batches',
    help: 'Batches dropped unsent because the spool was full (since start)',
    labelNames: ['channel'],
    registers: [this.metrics.registry],
  });
  private readonly linkUp = new Gauge({
    name: 'tyndau_capture_link_up',
    help: '1 while the node reaches Redis and the batch queue',
    registers: [this.metrics.registry],
  });

  constructor(private readonly opts: CaptureNodeOptions) {
    this.log = (opts.log ?? pino({ level: 'silent' })).child({ node: opts.nodeId });
    if (opts.channels.length === 0) throw new Error('a capture node needs at least one channel');
  }

  get httpAddress(): string | null {
    return this.address;
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.store = openStore({ url: `sqlite:${join(o.spoolDir, 'node.db')}` });
    await migrateToLatest(this.store);
    this.link = new CentreLink({
      redisUrl: o.redisUrl,
      prefix: o.prefix,
      nodeId: o.nodeId,
      config: o.config,
      log: this.log,
    });
    const random = seededRandom(o.seed ?? Date.now());
    const link = this.link;
    if (o.evidenceDir && o.config.uploadEvidence) {
      this.uploader = new EvidenceUploader(
        (u) => link.sendEvidence(u),
        (m) => this.log.warn(m),
      );
    }
    const uploader = this.uploader;
    for (const channel of o.channels) {
      const spool = ChannelSpool.open(join(o.spoolDir, 'spool', channel.id), {
        maxBytes: o.config.spoolMaxBytes,
        segmentBytes: o.config.spoolSegmentBytes,
        onWarning: (m) => this.log.warn({ channel: channel.id }, m),
      });
      const session = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
      // the centre's airings come back so that the runner cuts clips from the local evidence ring
      const feed = o.evidenceDir ? new AiringsFeed(() => batcher.epoch) : null;
      const batcher: PeakBatcher = new PeakBatcher({
        feedback: feed,
        channelId: channel.id,
        session,
        batchSec: o.config.batchSec,
        contextSec: o.config.contextSec,
        // the runner and the batcher refer to each other: the runner is read only once audio flows
        lastAudioMs: (): number | null => runner.health().lastAudioMs,
        epochMs: (): number | null => runner.timelineEpochMs,
        onSealed: (b) => this.spooled(channel.id, spool, b),
      });
      const runner: ChannelRunner = new ChannelRunner({
        channel,
        config: o.monitor,
        repo: new ShippingRepository(
          this.store,
          () => batcher,
          uploader ? (det, ev) => uploader.add(det, o.nodeId, ev) : null,
        ),
        matcher: batcher,
        evidenceDir: o.evidenceDir,
        now: o.now,
        timeScale: o.timeScale,
        log: this.log,
        metrics: this.metrics,
        random,
      });
      this.link.addChannel(channel.id, spool, feed ? (m) => feed.update(m) : null);
      this.items.push({ channel, runner, batcher, spool, done: Promise.resolve() });
    }
    if (o.http) await this.startHttp(o.http);
    this.link.start();
    for (const item of this.items) {
      item.done = item.runner.start().then(() => {
        // the runner has stopped and written its last records: they go in the session's final batch
        item.batcher.sealEnd();
        this.log.info(
          { channel: item.channel.id, batches: item.batcher.sealedCount },
          'channel session ended',
        );
      });
    }
    this.all = Promise.all(this.items.map((i) => i.done)).then(() => undefined);
    this.timer = setInterval(() => {
      for (const item of this.items) item.batcher.sealIfIdle(o.config.heartbeatSec);
      void this.uploader?.tick();
      this.updateGauges();
    }, 500);
    this.timer.unref();
    // Local clips age out only where the centre keeps the copy of record (clips are uploaded):
    // disputes live at the centre, so a node cannot tell which of its own clips must stay.
    if (o.evidenceDir && this.uploader) {
      const dir = o.evidenceDir;
      await this.retention(dir);
      this.retentionTimer = setInterval(() => void this.retention(dir), o.monitor.evidenceRetentionEveryMs);
      this.retentionTimer.unref();
    }
    this.log.info(
      { channels: this.items.map((i) => i.channel.id), spool: o.spoolDir, http: this.address },
      'capture node started',
    );
  }

  /** Resolves when every runner has ended (recorded sources end by themselves). */
  finished(): Promise<void> {
    return this.all ?? Promise.resolve();
  }

  /** Status of the link and the spools, for health checks and tests. */
  status() {
    return {
      link: this.link?.status() ?? null,
      channels: this.items.map((i) => ({
        channelId: i.channel.id,
        health: i.runner.health(),
        spoolId: i.spool.spoolId,
        spooled: i.spool.lastSeq,
        acked: i.spool.ackedSeq,
        pending: i.spool.pending,
        dropped: i.spool.dropped,
        clockDriftMs: i.batcher.driftMs,
      })),
      clipsWaiting: this.uploader?.waiting ?? 0,
    };
  }

  /** Waits until the centre has acknowledged every batch spooled so far (or the timeout). */
  drain(timeoutMs: number): Promise<boolean> {
    return this.link?.drain(timeoutMs) ?? Promise.resolve(true);
  }

  /**
   * Stops capture; the final batches are spooled, and sent for up to `drainMs`. What is not
   * acknowledged by then stays in the spool for the next start.
   */
  private async retention(dir: string): Promise<void> {
    if (!this.store) return;
    try {
      const repo = new MonitorRepository(this.store.db);
      const waiting = this.uploader?.waitingPaths() ?? [];
      const deleted = await evidenceRetentionPass(repo, dir, this.opts.monitor, Date.now(), waiting);
      if (deleted.length > 0) this.log.info({ deleted: deleted.length }, 'local evidence retention');
    } catch (err) {
      this.log.error({ err }, 'local evidence retention failed');
    }
  }

  async stop(drainMs = 5000): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.retentionTimer = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.items.map((i) => i.runner.stop()));
    await this.all;
    if (this.link && drainMs > 0) await this.link.drain(drainMs);
    // clips of the last detections, while the link is still open
    for (
      let until = Date.now() + drainMs;
      this.uploader && this.uploader.waiting > 0 && Date.now() < until;
    ) {
      await this.uploader.tick();
      if (this.uploader.waiting > 0) await new Promise((r) => setTimeout(r, 200));
    }
    this.updateGauges();
    await this.link?.close();
    for (const i of this.items) i.spool.close();
    await this.http?.close();
    this.http = null;
    await this.store?.close();
    this.store = null;
    this.log.info('capture node stopped');
  }

  private spooled(channelId: string, spool: ChannelSpool, b: SealedBatch): void {
    let seq: number;
    try {
      seq = spool.append(b);
    } catch (err) {
      // a full or failing disk: the batch is lost, and the centre will see the hole as a gap
      this.log.error({ err, channel: channelId }, 'cannot write to the spool');
      return;
    }
    this.opts.onSpooled?.({
      ...b,
      seq,
      nodeId: this.opts.nodeId,
      spoolId: spool.spoolId,
      holdsFrom: spool.firstHeldSeq,
    });
    this.link?.poke();
  }

  private updateGauges(): void {
    for (const i of this.items) {
      this.spoolPending.set({ channel: i.channel.id }, i.spool.pending);
      this.spoolBytes.set({ channel: i.channel.id }, i.spool.bytes);
      this.spoolDropped.set({ channel: i.channel.id }, i.spool.dropped);
    }
    this.linkUp.set(this.link?.status().up ? 1 : 0);
  }

  private async startHttp(where: { host: string; port: number }): Promise<void> {
    const app = Fastify({ logger: false });
    app.get('/health', async (_req, reply) => {
      const st = this.status();
      const failing = st.channels.filter((c) => c.health.state === 'failed').length;
      const ok = failing < st.channels.length || st.channels.length === 0;
      return reply.code(ok ? 200 : 503).send({ ok, ...st });
    });
    app.get('/metrics', async (_req, reply) => {
      this.updateGauges();
      const body = await this.metrics.registry.metrics();
      return reply.header('content-type', this.metrics.registry.contentType).send(body);
    });
    await app.listen({ host: where.host, port: where.port });
    const addr = app.server.address();
    this.address = addr && typeof addr === 'object' ? `http://${where.host}:${addr.port}` : null;
    this.http = app;
  }
}
