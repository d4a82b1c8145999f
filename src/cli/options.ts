import { Option } from 'commander';
import { defaultIndexDir } from '../index/index.js';

export const indexOption = () =>
  new Option('--index <dir>', 'reference index folder (env TYNDAU_INDEX)').default(
    undefined,
    'fingerprints/',
  );

export function indexDir(opts: { index?: string }): string {
  return opts.index ?? defaultIndexDir();
}
