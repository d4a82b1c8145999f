import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { ReferenceIndex } from '../../index/index.js';
import { StreamMatcher } from '../../match/index.js';
import {
  Monitor,
  MonitorRepository,
  channelsFromConfig,
  monitorConfig,
  type Channel,
} from '../../monitor/index.js';
import { migrateToLatest, openStore } from '../../store/index.js';
import { CliError } from '../errors.js';
import { indexDir, indexOption } from '../options.js';
import { dbOption, dbUrl } from './channels.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function parseHttp(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new CliError(`--http must be PORT or HOST:PORT, got "${text}"`, 2);
  return { host: m[1] ?? '127.0.0.1', port };
}

/**
 * The monitor's clock. Normally the wall clock; `--time-scale K --time-origin MS` makes it run K times
 * faster from MS on, so a stream served K times faster than real time (tests, demos) gets the
 * air times it would have had live. See docs/monitoring.md, "Clock".
 */
export function monitorClock(scale: number | undefined, originMs: number | undefined): () => number {
  if (scale === undefined || scale === 1) return Date.now;
  if (!(scale > 0)) throw new CliError(`--time-scale must be a positive number, got ${scale}`, 2);
  const origin = originMs ?? Date.now();
  return () => origin + (Date.now() - origin) * scale;
}

export function register(program: Command): void {
  program
    .command('monitor')
    .description('listen to the enabled channels live and record every registered recording that airs')
    .option('--channel <id>', 'monitor only this channel (repeatable)', collect)
    .option('--channels-file <file>', 'seed/update channels from this JSON config before starting')
    .addOption(dbOption())
    .addOption(indexOption())
    .option(
      '--evidence <dir>',
      'folder of air-check clips (env TYNDAU_EVIDENCE)',
      process.env.TYNDAU_EVIDENCE ?? 'data/evidence',
    )
    .option('--no-evidence', 'keep no air-check clips')
    .option('--no-detect', 'capture, gaps and health only, without recognition')
    .option('--http <[host:]port>', 'serve /health, /metrics and /channels here', '127.0.0.1:9470')
    .option('--no-http', 'no HTTP server')
    .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info')
    .option(
      '--config <json>',
      'override monitor settings, e.g. \'{"silenceMinSec":20}\' (see docs/monitoring.md)',
    )
    .option(
      '--time-scale <k>',
      'tests and demos: the clock runs k times faster (streams served faster than real time)',
      Number,
    )
    .option('--time-origin <ms>', 'with --time-scale: epoch ms from which the clock runs faster', Number)
    .option('--seed <n>', 'seed of the reconnect jitter', Number)
    .action(async (o) => {
      let overrides: Record<string, number> = {};
      if (o.config) {
        try {
          overrides = JSON.parse(o.config);
        } catch (err) {
          throw new CliError(`--config is not valid JSON: ${(err as Error).message}`, 2);
        }
      }
      let config;
      try {
        config = monitorConfig(overrides);
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const now = monitorClock(o.timeScale, o.timeOrigin);
      const log = pino({ level: o.logLevel, base: { svc: 'tyndau-monitor' } });
      const store = openStore({ url: dbUrl(o) });
      try {
        await migrateToLatest(store);
        const repo = new MonitorRepository(store.db);
        if (o.channelsFile) {
          let list: Channel[];
          try {
            list = channelsFromConfig(
              JSON.parse(readFileSync(o.channelsFile, 'utf8')),
              Date.now(),
              o.channelsFile,
            );
          } catch (err) {
            throw new CliError((err as Error).message, 2);
          }
          for (const ch of list) {
            const existing = await repo.getChannel(ch.id);
            await repo.saveChannel({ ...ch, createdAtMs: existing?.createdAtMs ?? ch.createdAtMs });
          }
        }
        let channels: Channel[];
        if (o.channel) {
          channels = [];
          for (const id of o.channel as string[]) {
            const ch = await repo.getChannel(id);
            if (!ch) throw new CliError(`unknown channel "${id}" (see: tyndau channels list)`, 2);
            if (!ch.enabled)
              log.warn({ channel: id }, 'channel is disabled; monitoring it because it was asked for');
            channels.push(ch);
          }
        } else {
          channels = await repo.listChannels({ enabledOnly: true });
          if (channels.length === 0) {
            throw new CliError('no enabled channels (add one: tyndau channels add ID --source URL)', 2);
          }
        }
        let index: ReferenceIndex | null = null;
        if (o.detect) {
          const hint = '(enrol recordings with tyndau enroll, pass --index DIR, or run with --no-detect)';
          if (!existsSync(indexDir(o))) throw new CliError(`no reference index at ${indexDir(o)} ${hint}`, 2);
          try {
            index = ReferenceIndex.open(indexDir(o), { readonly: true });
          } catch (err) {
            throw new CliError(
              `cannot open the reference index at ${indexDir(o)}: ${(err as Error).message} ${hint}`,
              2,
            );
          }
          if (index.stats().recordings === 0)
            log.warn({ index: indexDir(o) }, 'the reference index is empty');
        }
        const monitor = new Monitor({
          store,
          channels,
          config,
          createMatcher: index ? () => new StreamMatcher(index) : null,
          evidenceDir: o.evidence === false ? null : o.evidence,
          now,
          timeScale: o.timeScale,
          log,
          http: o.http === false ? null : parseHttp(o.http),
          seed: o.seed,
        });
        const refresh = index
          ? setInterval(() => {
              const r = index!.refresh();
              if (r.added || r.removed) log.info(r, 'reference index refreshed');
            }, 60_000)
          : null;
        refresh?.unref();
        await monitor.start();
        if (monitor.httpAddress) process.stderr.write(`tyndau monitor: ${monitor.httpAddress}/health\n`);
        const stopped = new Promise<string>((resolve) => {
          const onSignal = (sig: string) => {
            resolve(sig);
            // a second signal while stopping: give up on the graceful path
            process.once(sig, () => {
              log.error('second signal: exiting without a clean stop');
              process.exit(130);
            });
          };
          process.once('SIGINT', () => onSignal('SIGINT'));
          process.once('SIGTERM', () => onSignal('SIGTERM'));
        });
        const how = await Promise.race([stopped, monitor.finished().then(() => 'finished')]);
        log.info({ how }, 'stopping');
        if (refresh) clearInterval(refresh);
        await monitor.stop();
        index?.close();
        const failed = monitor.runners.map((r) => r.health()).filter((h) => h.state === 'failed');
        if (how === 'finished' && failed.length > 0) {
          throw new CliError(
            failed.map((h) => `channel ${h.channelId} failed: ${h.detail ?? 'unknown error'}`).join('\n'),
          );
        }
      } finally {
        await store.close();
      }
    });
}
