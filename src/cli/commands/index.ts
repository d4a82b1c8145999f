import type { Command } from 'commander';
import { register as enroll } from './enroll.js';
import { register as indexAdmin } from './index-admin.js';
import { register as match } from './match.js';
import { register as monitor } from './monitor.js';
import { register as channels } from './channels.js';
import { register as capture } from './capture.js';
import { register as worker } from './worker.js';
import { register as centre } from './centre.js';
import { register as serve } from './serve.js';
import { register as users } from './users.js';
import { register as catalog } from './catalog.js';
import { register as accrual } from './accrual.js';
import { register as ledger } from './ledger.js';
import { register as explain } from './explain.js';
import { register as statements } from './statements.js';

/**
 * Every CLI command module exports `register(program)`; add one line per module here.
 * Each module lives in this folder and calls its stage through the stage's index.ts.
 */
export const commands: Array<(program: Command) => void> = [enroll, match, indexAdmin, monitor, channels];
// distributed mode (src/distributed)
commands.push(capture, worker, centre);
// the web app and the HTTP API (src/api, src/web)
commands.push(serve, users);
// catalogue and royalty (src/catalog, src/royalty)
commands.push(catalog, accrual, ledger, explain, statements);
