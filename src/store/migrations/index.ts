import type { Migration } from 'kysely';
import * as m0001 from './0001_base.js';
import * as m0100 from './0100_catalog.js';
import * as m0101 from './0101_royalty.js';
import * as m0200 from './0200_monitor.js';
import * as m0201 from './0201_channel_latency.js';
import * as m0300 from './0300_distributed.js';
import * as m0400 from './0400_access.js';

/**
 * Ordered migrations, imported statically so they work from tsx and from dist/ alike.
 * Add one line per new migration file; names sort in order.
 */
export const migrations: Record<string, Migration> = {
  '0001_base': m0001,
  '0100_catalog': m0100,
  '0101_royalty': m0101,
  '0200_monitor': m0200,
  '0201_channel_latency': m0201,
  '0300_distributed': m0300,
  '0400_access': m0400,
};
