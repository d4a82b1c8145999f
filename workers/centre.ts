// The centre role's process entry point (Docker: `node dist/workers/centre.js`): the same code as `tyndau centre`,
// configured by TYNDAU_REDIS_URL and the rest of the environment (docs/distributed.md).
import { main } from '../src/cli/main.js';

process.exitCode = await main(['centre', ...process.argv.slice(2)]);
