import Fastify, { type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { Store } from '../store/index.js';
import { seededRandom } from './backoff.js';
import type { MonitorConfig } from './config.js';
import { applyRetention } from './evidence.js';
import { MonitorMetrics } from './metrics.js';
import { MonitorRepository } from './repository.js';
import { ChannelRunner, type StreamMatcherLike } from './runner.js';
import { channelStatus, type ChannelStatus } from './status.js';
import type { AiredDetection, Channel, GapReason } from './types.js';

export interface MonitorOptions {
  store: Store;
  channels: Channel[];
  config: MonitorConfig;
  /** Makes each channel's matcher (one per channel); null monitors without detection. */
  createMatcher: (() => StreamMatcherLike) | null;
  evidenceDir: string | null;
  /** The monitor's clock (UTC ms); Date.now unless a test scales time. */
  now?: () => number;
  /** How many times faster than the wall clock `now` runs (see RunnerOptions.timeScale). */
  timeScale?: number;
  log?: Logger;
  /** Serve /health, /metrics and /channels here; null for none. Port 0 picks a free port. */
  http?: { host: string; port: number } | null;
  /** Seed of the reconnect jitter (default: the clock). */
  seed?: number;
  onDetection?: (det: AiredDetection, evidencePath: string | null) => void;
}

/** The monitor process: one runner per channel, the health/metrics server, evidence retention. */
/**
 * One retention pass over an evidence folder (the monitor's, or the distributed centre's): clips past
 * the age limit, then the oldest while the total is over the size limit, are deleted and their paths
 * cleared on the detections; clips of detections with an open dispute (and `alsoKeep`) are kept.
 * Returns the deleted paths.
 */
export async function evidenceRetentionPass(
  repo: MonitorRepository,
  dir: string,
  cfg: Pick<MonitorConfig, 'evidenceMaxAgeDays' | 'evidenceMaxBytes'>,
  nowMs: number,
  alsoKeep: readonly string[] = [],
): Promise<string[]> {
  const keep = [...(await repo.disputedClipPaths()), ...alsoKeep];
  const deleted = applyRetention(
    dir,
    { maxAgeMs: cfg.evidenceMaxAgeDays * 86_400_000, maxBytes: cfg.evidenceMaxBytes },
    nowMs,
    keep,
  );
  if (deleted.length > 0) await repo.clearEvidence(deleted);
  return deleted;
}

export class Monitor {
  readonly repo: MonitorRepository;
  readonly metrics: MonitorMetrics;
  readonly runners: ChannelRunner[];
  private readonly now: () => number;
  private readonly log: Logger;
  private http: FastifyInstance | null = null;
  private timers: NodeJS.Timeout[] = [];
  private done: Promise<void> | null = null;
  private address: string | null = null;

  constructor(private readonly opts: MonitorOptions) {
    this.repo = new MonitorRepository(opts.store.db);
    this.metrics = new MonitorMetrics({ processMetrics: true });
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? pino({ level: 'silent' });
    const random = seededRandom(opts.seed ?? Date.now());
    this.runners = opts.channels.map(
      (channel) =>
        new ChannelRunner({
          channel,
          config: opts.config,
          repo: this.repo,
          matcher: opts.createMatcher ? opts.createMatcher() : null,
          evidenceDir: opts.evidenceDir,
          now: this.now,
          timeScale: opts.timeScale,
          log: this.log,
          metrics: this.metrics,
          random,
          onDetection: opts.onDetection,
        }),
    );
  }

  /** Starts every runner and the HTTP server; resolves once they are running. */
  async start(): Promise<void> {
    if (this.done) throw new Error('the monitor is already running');
    if (this.opts.http) await this.startHttp(this.opts.http);
    this.done = Promise.all(this.runners.map((r) => r.start())).then(() => undefined);
    const every = (ms: number, fn: () => Promise<unknown> | void): void => {
      const t = setInterval(() => {
        Promise.resolve(fn()).catch((err: unknown) => this.log.error({ err }, 'periodic task failed'));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(30_000, () => this.refreshUptime());
    if (this.opts.evidenceDir) {
      every(this.opts.config.evidenceRetentionEveryMs, () => this.retention());
      await this.retention();
    }
    this.log.info({ channels: this.runners.map((r) => r.channel.id), http: this.address }, 'monitor started');
  }

  /** Resolves when every runner has ended (file channels end by themselves; live ones on stop()). */
  finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  async stop(reason: GapReason = 'monitor_stopped'): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all(this.runners.map((r) => r.stop(reason)));
    await this.http?.close();
    this.http = null;
    this.log.info('monitor stopped');
  }

  get httpAddress(): string | null {
    return this.address;
  }

  async statuses(): Promise<ChannelStatus[]> {
    const cfg = this.opts.config;
    return Promise.all(
      this.runners.map((r) =>
        channelStatus(this.repo, r.channel, this.now(), {
          uptimeWindowMs: cfg.uptimeWindowMs,
          heartbeatStaleMs: cfg.heartbeatStaleMs,
          live: r.health(),
        }),
      ),
    );
  }

  private async refreshUptime(): Promise<void> {
    for (const s of await this.statuses()) {
      if (s.uptimeRatio !== null) this.metrics.uptime.set({ channel: s.channelId }, s.uptimeRatio);
      this.metrics.detectionsToday.set({ channel: s.channelId }, s.detectionsToday);
    }
  }

  private async retention(): Promise<void> {
    const deleted = await evidenceRetentionPass(
      this.repo,
      this.opts.evidenceDir!,
      this.opts.config,
      Date.now(),
    );
    if (deleted.length > 0) this.log.info({ deleted: deleted.length }, 'evidence retention');
  }

  private async startHttp(where: { host: string; port: number }): Promise<void> {
    const app = Fastify({ logger: false });
    app.get('/health', async (_req, reply) => {
      const states = this.runners.map((r) => r.health());
      const hearing = states.filter((h) => h.state === 'listening' || h.state === 'silent').length;
      const ok = states.length === 0 || states.some((h) => h.state !== 'failed');
      return reply.code(ok ? 200 : 503).send({
        ok,
        channels: states.length,
        hearing,
        states: Object.fromEntries(states.map((h) => [h.channelId, h.state])),
      });
    });
    app.get('/metrics', async (_req, reply) => {
      await this.refreshUptime();
      const body = await this.metrics.registry.metrics();
      return reply.header('content-type', this.metrics.registry.contentType).send(body);
    });
    app.get('/channels', async () => ({ channels: await this.statuses() }));
    await app.listen({ host: where.host, port: where.port });
    const addr = app.server.address();
    this.address = addr && typeof addr === 'object' ? `http://${where.host}:${addr.port}` : null;
    this.http = app;
  }
}
