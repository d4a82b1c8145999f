import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';

/**
 * Writes JSON atomically (temporary file, then rename), formatted the way the repository's Prettier
 * formats it, so cache files under bench/ never trip `prettier --check .` (bench/cache/ is not in
 * .prettierignore).
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const options = (await resolveConfig(path)) ?? {};
  const text = await format(JSON.stringify(value), { ...options, filepath: path, parser: 'json' });
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
