import type { Command } from 'commander';

/**
 * Every CLI command module exports `register(program)`; add one line per module here.
 * Each module lives in this folder and calls its stage through the stage's index.ts.
 */
export const commands: Array<(program: Command) => void> = [];
