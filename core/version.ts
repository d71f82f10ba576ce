/** Version facts shown by /system/info and the node agent. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * The repository root (where package.json and node_modules live): the nearest folder above this
 * module with a package.json, so that it is the same whether this runs from core/ (through tsx) or
 * from the compiled build/_js/core/ (bin/compile.mjs writes no package.json there).
 */
export const PLATFORM_ROOT = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

const pkg = JSON.parse(readFileSync(join(PLATFORM_ROOT, 'package.json'), 'utf8')) as { version: string };
export const VERSION: string = pkg.version;
