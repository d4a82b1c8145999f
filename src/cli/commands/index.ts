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

/**
 * Every CLI command module exports `register(program)`; add one line per module here.
 * Each module lives in this folder and calls its stage through the stage's index.ts.
 */
export const commands: Array<(program: Command) => void> = [enroll, match, indexAdmin, monitor, channels];
// distributed mode (src/distributed)
commands.push(capture, worker, centre);
// the web app and the HTTP API (src/api, src/web)
commands.push(serve, users);
