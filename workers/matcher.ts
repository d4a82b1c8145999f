// The worker role's process entry point (Docker: `node dist/workers/matcher.js`): the same code as `tyndau worker`,
// configured by TYNDAU_REDIS_URL and the rest of the environment (docs/distributed.md).
import { main } from '../src/cli/main.js';

process.exitCode = await main(['worker', ...process.argv.slice(2)]);
