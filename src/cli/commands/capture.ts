import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import pino from 'pino';
import {
  CaptureNode,
  connectRedis,
  deploymentFromEnv,
  keys,
  redactUrl,
  type Deployment,
} from '../../distributed/index.js';
import { channelsFromConfig, validateChannel, type Channel } from '../../monitor/index.js';
import { CliError } from '../errors.js';
import { monitorClock } from './monitor.js';

/** Options every distributed role shares. */
export interface RoleOptions {
  config?: string;
  redis?: string;
  prefix?: string;
  logLevel: string;
}

export function addRoleOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'deployment config file, JSON (env TYNDAU_CONFIG; see docs/distributed.md)')
    .option('--redis <url>', 'Redis of the deployment, redis://HOST:PORT (env TYNDAU_REDIS_URL)')
    .option('--prefix <prefix>', 'key prefix in Redis (env TYNDAU_REDIS_PREFIX, default tyndau)')
    .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info');
}

/** The deployment from file + environment + flags; distributed roles need TYNDAU_REDIS_URL. */
export function loadDeployment(o: RoleOptions, role: string): Deployment {
  const env = { ...process.env };
  if (o.redis) env.TYNDAU_REDIS_URL = o.redis;
  if (o.prefix) env.TYNDAU_REDIS_PREFIX = o.prefix;
  const file = o.config ?? process.env.TYNDAU_CONFIG;
  let json: unknown = null;
  if (file) {
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`${file}: cannot read the config: ${(err as Error).message}`, 2);
    }
  }
  let d: Deployment;
  try {
    d = deploymentFromEnv(env, json, file ?? 'config');
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  if (d.redisUrl === null) {
    throw new CliError(
      `tyndau ${role} is a distributed role: set TYNDAU_REDIS_URL (or --redis redis://HOST:PORT); ` +
        'on one machine without Redis use `tyndau monitor` instead',
      2,
    );
  }
  return d;
}

export function parseHttp(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new CliError(`--http must be PORT or HOST:PORT, got "${text}"`, 2);
  return { host: m[1] ?? '127.0.0.1', port };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Resolves when SIGINT or SIGTERM arrives. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/**
 * The node's channels: from a file, or by id from the list the centre publishes in Redis (cached on
 * disk, so the node can start while the link is down).
 */
async function nodeChannels(
  d: Deployment,
  o: { channelsFile?: string; channel?: string[] },
): Promise<Channel[]> {
  if (o.channelsFile) {
    try {
      const list = channelsFromConfig(
        JSON.parse(readFileSync(o.channelsFile, 'utf8')),
        Date.now(),
        o.channelsFile,
      );
      return o.channel ? list.filter((c) => o.channel!.includes(c.id)) : list;
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
  }
  if (!o.channel || o.channel.length === 0) {
    throw new CliError('name the channels to capture: --channel ID (repeatable) or --channels-file FILE', 2);
  }
  const cache = join(d.spoolDir, 'channels.json');
  const cached: Record<string, unknown> = existsSync(cache) ? JSON.parse(readFileSync(cache, 'utf8')) : {};
  const redis = connectRedis(d.redisUrl!, 'plain', 'tyndau-capture-setup');
  let published: Record<string, string> = {};
  try {
    published = await redis.hgetall(keys(d.prefix).channels);
  } catch {
    // the link is down: the cache has to do
  } finally {
    redis.disconnect();
  }
  const out: Channel[] = [];
  for (const id of o.channel) {
    const raw = published[id] ? JSON.parse(published[id]) : cached[id];
    if (!raw) {
      throw new CliError(
        `channel "${id}" is not known: register it at the centre (tyndau channels add) or pass --channels-file`,
        2,
      );
    }
    try {
      out.push(validateChannel(raw as Parameters<typeof validateChannel>[0], Date.now(), `channel ${id}`));
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
    cached[id] = raw;
  }
  mkdirSync(d.spoolDir, { recursive: true });
  writeFileSync(cache, JSON.stringify(cached, null, 2));
  return out;
}

export function register(program: Command): void {
  addRoleOptions(
    program
      .command('capture')
      .description(
        'distributed capture node: capture channels next to the feed, fingerprint locally, ship peak batches to the centre',
      ),
  )
    .option(
      '--channel <id>',
      'a channel to capture (repeatable; definitions from the centre or --channels-file)',
      collect,
    )
    .option(
      '--channels-file <file>',
      'channel definitions, JSON ({"channels": [...]}, as for tyndau monitor)',
    )
    .option('--node <id>', "this node's name (env TYNDAU_NODE_ID, default the host name)")
    .option('--spool <dir>', "spools and the node's state (env TYNDAU_SPOOL, default data/capture)")
    .option('--evidence <dir>', 'folder of air-check clips (env TYNDAU_EVIDENCE)')
    .option('--no-evidence', 'keep no air-check clips')
    .option('--http <[host:]port>', 'serve /health and /metrics here', '127.0.0.1:9471')
    .option('--no-http', 'no HTTP server')
    .option('--time-scale <k>', 'tests and demos: the clock runs k times faster', Number)
    .option('--time-origin <ms>', 'with --time-scale: epoch ms from which the clock runs faster', Number)
    .option('--seed <n>', 'seed of the reconnect jitter', Number)
    .action(async (o) => {
      const d = loadDeployment(o, 'capture');
      if (o.node) d.nodeId = o.node;
      if (o.spool) d.spoolDir = o.spool;
      if (o.evidence === false) d.evidenceDir = null;
      else if (typeof o.evidence === 'string') d.evidenceDir = o.evidence;
      const log = pino({ level: o.logLevel, base: { svc: 'tyndau-capture' } });
      const channels = await nodeChannels(d, o);
      const node = new CaptureNode({
        nodeId: d.nodeId,
        channels,
        monitor: d.monitor,
        config: d.distributed,
        redisUrl: d.redisUrl!,
        prefix: d.prefix,
        spoolDir: d.spoolDir,
        evidenceDir: d.evidenceDir,
        now: monitorClock(o.timeScale, o.timeOrigin),
        timeScale: o.timeScale,
        log,
        http: o.http === false ? null : parseHttp(o.http),
        seed: o.seed,
      });
      log.info({ redis: redactUrl(d.redisUrl!), prefix: d.prefix, node: d.nodeId }, 'starting capture node');
      await node.start();
      const how = await Promise.race([untilSignal(), node.finished().then(() => 'finished')]);
      log.info({ how }, 'stopping');
      await node.stop(how === 'finished' ? 30_000 : 5000);
    });
}
