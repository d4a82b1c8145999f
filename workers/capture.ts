// The capture role's process entry point (Docker: `node dist/workers/capture.js`): the same code as `tyndau capture`,
// configured by TYNDAU_REDIS_URL and the rest of the environment (docs/distributed.md).
import { main } from '../src/cli/main.js';

process.exitCode = await main(['capture', ...process.argv.slice(2)]);
