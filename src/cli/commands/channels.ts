import { readFileSync } from 'node:fs';
import { distributedStatus, formatDistributedStatus } from '../../distributed/index.js';
import { Option, type Command } from 'commander';
import {
  MONITOR_DEFAULTS,
  MonitorRepository,
  channelStatus,
  channelsFromConfig,
  formatSource,
  validateChannel,
  type Channel,
  type ChannelStatus,
} from '../../monitor/index.js';
import { migrateToLatest, openStore, type Store } from '../../store/index.js';
import { CliError } from '../errors.js';

/** `--db URL`: the system of record (env TYNDAU_DB). */
export const dbOption = () =>
  new Option('--db <url>', 'database: sqlite:PATH or postgres://... (env TYNDAU_DB)').default(
    undefined,
    'sqlite:data/tyndau.db',
  );

export function dbUrl(opts: { db?: string }): string {
  return opts.db ?? process.env.TYNDAU_DB ?? 'sqlite:data/tyndau.db';
}

/** Opens and migrates the store, runs `fn`, closes the store. */
export async function withRepo<T>(
  opts: { db?: string },
  fn: (repo: MonitorRepository, store: Store) => Promise<T>,
): Promise<T> {
  const store = openStore({ url: dbUrl(opts) });
  try {
    await migrateToLatest(store);
    return await fn(new MonitorRepository(store.db), store);
  } finally {
    await store.close();
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function fail(err: unknown): never {
  throw new CliError(err instanceof Error ? err.message : String(err), 2);
}

async function mustGet(repo: MonitorRepository, id: string): Promise<Channel> {
  const ch = await repo.getChannel(id);
  if (!ch) throw new CliError(`unknown channel "${id}" (see: tyndau channels list)`, 2);
  return ch;
}

function describe(ch: Channel): string {
  const sources = ch.sources.map((s, i) => `    ${i + 1}. ${formatSource(s)}`).join('\n');
  return (
    `${ch.id}  ${ch.name}  [${ch.kind}, ${ch.timeZone}${ch.broadcasterId ? `, broadcaster ${ch.broadcasterId}` : ''}` +
    `${ch.latencySec ? `, latency ${ch.latencySec} s` : ''}]` +
    `${ch.enabled ? '' : '  (disabled)'}\n${sources}\n`
  );
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function formatStatusTable(rows: ChannelStatus[]): string {
  const head = ['channel', 'state', 'last audio (UTC)', 'uptime 24h', 'today', 'now airing', 'detail'];
  const cells = rows.map((s) => [
    s.enabled ? s.channelId : `${s.channelId} (off)`,
    s.state,
    iso(s.lastAudioMs),
    s.uptimeRatio === null ? '-' : `${(s.uptimeRatio * 100).toFixed(1)}%`,
    String(s.detectionsToday),
    s.currentRecordings.join(', ') || '-',
    s.detail ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd() + '\n';
  return line(head) + cells.map(line).join('');
}

export function register(program: Command): void {
  const channels = program
    .command('channels')
    .description('the TV and radio channels under monitoring: add, list, enable, status');

  channels
    .command('add')
    .description('register a channel (or replace it, keeping its history)')
    .argument('<id>', 'channel id: letters, digits, . _ -')
    .option('--name <name>', 'display name (default: the id)')
    .addOption(
      new Option('--kind <kind>', 'tv, radio or cable').choices(['tv', 'radio', 'cable']).default('radio'),
    )
    .option('--tz <zone>', 'IANA time zone of its local day', 'Asia/Almaty')
    .option('--broadcaster <id>', 'the broadcaster (user) operating it')
    .option(
      '--source <url>',
      'a source, repeat in priority order: http(s)://, hls+http(s)://, rtmp://, udp://, rtp://, srt://, alsa:DEV, file:PATH, dir:PATH',
      collect,
    )
    .option(
      '--latency <sec>',
      'known delay of its sources in seconds, subtracted from arrival times (not for files, nor HLS with #EXT-X-PROGRAM-DATE-TIME)',
      Number,
    )
    .option('--disabled', 'register it switched off')
    .addOption(dbOption())
    .action(async (id: string, o) => {
      await withRepo(o, async (repo) => {
        const existing = await repo.getChannel(id);
        let ch: Channel;
        try {
          ch = validateChannel(
            {
              id,
              name: o.name,
              kind: o.kind,
              timeZone: o.tz,
              broadcaster: o.broadcaster,
              sources: o.source,
              latencySec: o.latency,
              enabled: !o.disabled,
            },
            existing?.createdAtMs ?? Date.now(),
          );
        } catch (err) {
          fail(err);
        }
        await repo.saveChannel(ch);
        process.stdout.write(`${existing ? 'updated' : 'added'} ${describe(ch)}`);
      });
    });

  channels
    .command('import')
    .description('seed or update channels from a JSON config file ({"channels": [...]})')
    .argument('<file>', 'config file')
    .addOption(dbOption())
    .action(async (file: string, o) => {
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CliError(`${file}: cannot read JSON: ${(err as Error).message}`, 2);
      }
      await withRepo(o, async (repo) => {
        let list: Channel[];
        try {
          list = channelsFromConfig(json, Date.now(), file);
        } catch (err) {
          fail(err);
        }
        for (const ch of list) {
          const existing = await repo.getChannel(ch.id);
          await repo.saveChannel({ ...ch, createdAtMs: existing?.createdAtMs ?? ch.createdAtMs });
        }
        process.stdout.write(`imported ${list.length} channel${list.length === 1 ? '' : 's'} from ${file}\n`);
      });
    });

  channels
    .command('list')
    .description('list channels and their sources')
    .option('--json', 'print JSON')
    .addOption(dbOption())
    .action(async (o) => {
      await withRepo(o, async (repo) => {
        const list = await repo.listChannels();
        if (o.json) {
          process.stdout.write(
            JSON.stringify(list.map((c) => ({ ...c, sources: c.sources.map(formatSource) }))) + '\n',
          );
        } else if (list.length === 0) {
          process.stdout.write('no channels (add one: tyndau channels add ID --source URL)\n');
        } else {
          process.stdout.write(list.map(describe).join(''));
        }
      });
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    channels
      .command(name)
      .description(`${name} monitoring of a channel`)
      .argument('<id>')
      .addOption(dbOption())
      .action(async (id: string, o) => {
        await withRepo(o, async (repo) => {
          await mustGet(repo, id);
          await repo.setEnabled(id, enabled);
          process.stdout.write(`${id} ${enabled ? 'enabled' : 'disabled'}\n`);
        });
      });
  }

  channels
    .command('remove')
    .description('delete a channel from the registry (its detections and gaps stay)')
    .argument('<id>')
    .addOption(dbOption())
    .action(async (id: string, o) => {
      await withRepo(o, async (repo) => {
        await mustGet(repo, id);
        await repo.removeChannel(id);
        process.stdout.write(`${id} removed\n`);
      });
    });

  channels
    .command('status')
    .description('per channel: state, last audio, uptime, detections today, what is airing')
    .option('--channel <id>', 'only this channel', collect)
    .option('--json', 'print JSON')
    .addOption(dbOption())
    .action(async (o) => {
      await withRepo(o, async (repo, store) => {
        let list = await repo.listChannels();
        if (o.channel) {
          for (const id of o.channel as string[]) await mustGet(repo, id);
          list = list.filter((c) => (o.channel as string[]).includes(c.id));
        }
        const now = Date.now();
        const rows = await Promise.all(
          list.map((c) =>
            channelStatus(repo, c, now, {
              uptimeWindowMs: MONITOR_DEFAULTS.uptimeWindowMs,
              heartbeatStaleMs: MONITOR_DEFAULTS.heartbeatStaleMs,
            }),
          ),
        );
        // distributed mode: lag and batches per channel from the centre's cursors, queue depths from
        // Redis when TYNDAU_REDIS_URL is set (and answers)
        const redisUrl = process.env.TYNDAU_REDIS_URL;
        const dist = await distributedStatus(
          store,
          redisUrl
            ? { url: redisUrl, prefix: process.env.TYNDAU_REDIS_PREFIX || 'tyndau', timeoutMs: 2000 }
            : null,
          now,
        );
        const cursor = new Map(dist.channels.map((c) => [c.channelId, c]));
        if (o.json) {
          const withDist = rows.map((r) => {
            const c = cursor.get(r.channelId);
            return c
              ? {
                  ...r,
                  distributed: {
                    lagSec: c.lagSec,
                    nextBatch: c.nextSeq,
                    applied: c.batchesApplied,
                    lost: c.batchesLost,
                  },
                }
              : r;
          });
          process.stdout.write(JSON.stringify(withDist) + '\n');
        } else if (rows.length === 0) process.stdout.write('no channels\n');
        else {
          process.stdout.write(formatStatusTable(rows));
          if (dist.channels.length > 0 || dist.queues)
            process.stdout.write('\ndistributed mode\n' + formatDistributedStatus(dist));
        }
      });
    });

  channels
    .command('gaps')
    .description('monitoring gaps of a channel (periods it was not heard)')
    .argument('<id>')
    .option('--hours <n>', 'look back this many hours', (v) => Number(v), 24)
    .option('--json', 'print JSON')
    .addOption(dbOption())
    .action(async (id: string, o) => {
      if (!(o.hours > 0)) throw new CliError(`--hours must be a positive number`, 2);
      await withRepo(o, async (repo) => {
        await mustGet(repo, id);
        const now = Date.now();
        const gaps = await repo.gaps(id, now - o.hours * 3600_000, now + 1);
        if (o.json) {
          process.stdout.write(JSON.stringify(gaps) + '\n');
          return;
        }
        for (const g of gaps) {
          const sec = g.endMs === null ? 'ongoing' : `${((g.endMs - g.startMs) / 1000).toFixed(1)} s`;
          process.stdout.write(
            `${iso(g.startMs)}  ${iso(g.endMs)}  ${sec}  ${g.reason}  ${g.detail ?? ''}\n`,
          );
        }
        if (gaps.length === 0) process.stdout.write(`no gaps in the last ${o.hours} h\n`);
      });
    });
}
