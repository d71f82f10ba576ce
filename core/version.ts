/** Version facts shown by /system/info and the node agent. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root (where package.json and node_modules live). */
export const PLATFORM_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const pkg = JSON.parse(readFileSync(join(PLATFORM_ROOT, 'package.json'), 'utf8')) as { version: string };
export const VERSION: string = pkg.version;
