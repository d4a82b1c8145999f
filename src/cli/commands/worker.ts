import type { Command } from 'commander';
import Fastify from 'fastify';
import pino from 'pino';
import { MatcherWorker, redactUrl } from '../../distributed/index.js';
import { CliError } from '../errors.js';
import { addRoleOptions, loadDeployment, parseHttp, untilSignal } from './capture.js';

export function register(program: Command): void {
  addRoleOptions(
    program
      .command('worker')
      .description(
        'distributed matcher worker: match peak batches from the queue against the reference index',
      ),
  )
    .option('--index <dir>', 'reference index folder (env TYNDAU_INDEX)')
    .option('--concurrency <n>', 'batches at once in this process (default 1: matching is CPU-bound)', Number)
    .option('--name <name>', 'name in logs and results (default host:pid)')
    .option('--http <[host:]port>', 'serve /metrics here (off by default)')
    .action(async (o) => {
      const d = loadDeployment(o, 'worker');
      if (o.index) d.indexDir = o.index;
      if (o.concurrency !== undefined) {
        if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
          throw new CliError(`--concurrency must be a whole number >= 1, got ${o.concurrency}`, 2);
        d.distributed.workerConcurrency = o.concurrency;
      }
      const log = pino({ level: o.logLevel, base: { svc: 'tyndau-worker' } });
      const worker = new MatcherWorker({
        redisUrl: d.redisUrl!,
        prefix: d.prefix,
        indexDir: d.indexDir,
        config: d.distributed,
        name: o.name,
        log,
      });
      log.info({ redis: redactUrl(d.redisUrl!), prefix: d.prefix }, 'starting matcher worker');
      await worker.start();
      let http = null;
      if (o.http) {
        http = Fastify({ logger: false });
        http.get('/metrics', async (_req, reply) =>
          reply.header('content-type', worker.registry.contentType).send(await worker.registry.metrics()),
        );
        const where = parseHttp(o.http);
        await http.listen(where);
      }
      const how = await untilSignal();
      log.info({ how }, 'stopping');
      await worker.stop();
      await http?.close();
    });
}
