import type { Command } from 'commander';
import pino from 'pino';
import { Centre, distributedStatus, formatDistributedStatus, redactUrl } from '../../distributed/index.js';
import { migrateToLatest, openStore } from '../../store/index.js';
import { addRoleOptions, loadDeployment, parseHttp, untilSignal } from './capture.js';
import { monitorClock } from './monitor.js';

export function register(program: Command): void {
  const centre = addRoleOptions(
    program
      .command('centre')
      .description(
        'distributed centre: order match results per channel, stitch detections, store them (the system of record)',
      ),
  )
    .option('--db <url>', 'the system of record: sqlite:PATH or postgres://... (env TYNDAU_DB)')
    .option(
      '--index <dir>',
      'reference index to watch: workers are told when recordings change (env TYNDAU_INDEX)',
    )
    .option('--no-index', 'do not watch the reference index')
    .option('--evidence <dir>', 'store the air-check clips capture nodes upload here (env TYNDAU_EVIDENCE)')
    .option('--no-evidence', 'accept no clips (they stay on the capture nodes)')
    .option('--concurrency <n>', 'results applied at once (each channel stays in order)', Number)
    .option('--http <[host:]port>', 'serve /health, /metrics and /channels here', '127.0.0.1:9470')
    .option('--no-http', 'no HTTP server')
    .option('--time-scale <k>', 'tests and demos: the clock runs k times faster', Number)
    .option('--time-origin <ms>', 'with --time-scale: epoch ms from which the clock runs faster', Number)
    .action(async (o) => {
      const d = loadDeployment(o, 'centre');
      if (o.db) d.db = o.db;
      if (typeof o.index === 'string') d.indexDir = o.index;
      const log = pino({ level: o.logLevel, base: { svc: 'tyndau-centre' } });
      const store = openStore({ url: d.db });
      try {
        await migrateToLatest(store);
        const c = new Centre({
          redisUrl: d.redisUrl!,
          prefix: d.prefix,
          store,
          monitor: d.monitor,
          config: d.distributed,
          concurrency: o.concurrency,
          now: monitorClock(o.timeScale, o.timeOrigin),
          log,
          http: o.http === false ? null : parseHttp(o.http),
          indexDir: o.index === false ? null : d.indexDir,
          evidenceDir:
            o.evidence === false ? null : typeof o.evidence === 'string' ? o.evidence : d.evidenceDir,
        });
        log.info({ redis: redactUrl(d.redisUrl!), prefix: d.prefix }, 'starting centre');
        await c.start();
        if (c.httpAddress) process.stderr.write(`tyndau centre: ${c.httpAddress}/metrics\n`);
        const how = await untilSignal();
        log.info({ how }, 'stopping');
        await c.stop();
      } finally {
        await store.close();
      }
    });

  addRoleOptions(
    centre
      .command('status')
      .description('queue depths, lag per channel, retries, failures and rejected batches'),
  )
    .option('--db <url>', 'the system of record (env TYNDAU_DB)')
    .option('--json', 'print JSON')
    .action(async (_o, cmd: Command) => {
      // --redis and friends may be read by `centre` itself: take them from either
      const o = cmd.optsWithGlobals();
      const d = loadDeployment(o as Parameters<typeof loadDeployment>[0], 'centre status');
      if (o.db) d.db = o.db;
      const store = openStore({ url: d.db });
      try {
        await migrateToLatest(store);
        const s = await distributedStatus(store, { url: d.redisUrl!, prefix: d.prefix });
        process.stdout.write(o.json ? JSON.stringify(s) + '\n' : formatDistributedStatus(s));
      } finally {
        await store.close();
      }
    });
}
