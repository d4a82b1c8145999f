import type { Command } from 'commander';
import { ReferenceIndex } from '../../index/index.js';
import { migrateToLatest, openStore } from '../../store/index.js';
import { buildWebApp } from '../../web/index.js';
import { CliError } from '../errors.js';
import { indexDir, indexOption } from '../options.js';
import { dbOption, dbUrl } from './channels.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `tyndau serve`: the HTTP API (/api/v1, docs at /api/docs) and the web app, on the store. */
export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the web app and the HTTP API (OpenAPI docs at /api/docs)')
    .addOption(dbOption())
    .addOption(indexOption())
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', (v) => Number(v), 8080)
    .option(
      '--evidence <dir>',
      "the monitor's air-check folder; clips elsewhere are not served (repeatable, env TYNDAU_EVIDENCE)",
      collect,
    )
    .option('--uploads <dir>', 'where enrolment uploads are kept as reference audio', 'data/uploads')
    .option('--no-index', 'run without the reference index (no enrolment, no reference audio)')
    .option(
      '--insecure-cookies',
      'session cookies without Secure, for plain HTTP on a host other than localhost (put TLS in front instead)',
    )
    .option('--log-level <level>', 'pino log level: debug, info, warn, error', 'info')
    .action(async (o) => {
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
        throw new CliError(`--port must be 0-65535, got ${o.port}`, 2);
      }
      const store = openStore({ url: dbUrl(o) });
      let index: ReferenceIndex | null = null;
      try {
        await migrateToLatest(store);
        if (o.index !== false) index = ReferenceIndex.open(indexDir(o));
        const evidence: string[] = o.evidence ?? [process.env.TYNDAU_EVIDENCE ?? 'data/evidence'];
        const { app } = await buildWebApp({
          store,
          index,
          evidenceDirs: evidence,
          uploadDir: o.uploads,
          config: { secureCookies: !o.insecureCookies },
          logLevel: o.logLevel,
        });
        const refresh = index
          ? setInterval(() => {
              const r = index!.refresh();
              if (r.added || r.removed) app.log.info(r, 'reference index refreshed');
            }, 60_000)
          : null;
        refresh?.unref();
        await app.listen({ host: o.host, port: o.port });
        const addr = app.server.address();
        const port = addr && typeof addr === 'object' ? addr.port : o.port;
        process.stderr.write(`tyndau serve: http://${o.host}:${port}/ (API docs: /api/docs)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', () => resolve());
          process.once('SIGTERM', () => resolve());
        });
        if (refresh) clearInterval(refresh);
        await app.close();
      } finally {
        index?.close();
        await store.close();
      }
    });
}
