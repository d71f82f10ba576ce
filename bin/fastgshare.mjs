#!/usr/bin/env node
// @ts-check
// The fastgshare CLI. Runs the compiled JavaScript in build/_js/ (made at install by `npm ci` /
// `npm install` through the `prepare` script, or by `npm run build`) when it is there and newer
// than every source; otherwise registers tsx and runs the TypeScript sources as they are, which
// compiles them at each start (seconds), and says so on one line.
// The long-running commands (`up`, `gateway`, `node`) always run from the sources: they start
// once, and start the platform's other processes from the sources too.
import { readdirSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Node 22.1+ keeps compiled code of the modules it loads on disk for the next start; Node 20 has no
// such cache (module.enableCompileCache is absent there), so this is a no-op on it.
/** @type {{ enableCompileCache?: () => unknown }} */ (nodeModule).enableCompileCache?.();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', '_js');
const LONG_RUNNING = new Set(['up', 'gateway', 'node']);
/** What the build is made of (tsconfig.build.json): a change to any of them makes it stale. */
const SOURCE_DIRS = [
  'core',
  'gateway',
  'fast-manager',
  'profiler',
  'scheduler',
  'cli',
  'templates',
  join('bench', 'lib'),
];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Why the build cannot be used, or undefined when it is present and up to date. */
function staleBuild() {
  let built;
  try {
    built = statSync(join(outDir, '.stamp')).mtimeMs;
  } catch {
    return 'the CLI is not compiled';
  }
  for (const f of SOURCE_FILES)
    if (statSync(join(root, f)).mtimeMs > built) return `${f} changed since it was compiled`;
  for (const d of SOURCE_DIRS) {
    for (const entry of readdirSync(join(root, d), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.(ts|mjs)$/.test(entry.name)) continue;
      const file = join(entry.parentPath ?? entry.path, entry.name);
      if (statSync(file).mtimeMs > built) return `${file.slice(root.length + 1)} changed since it was compiled`;
    }
  }
  return undefined;
}

const argv = process.argv.slice(2);
const command = argv.find((a) => !a.startsWith('-'));
let main;
const why = command && LONG_RUNNING.has(command) ? 'long-running' : staleBuild();
if (why === undefined) {
  // no module hook: bin/compile.mjs already rewrote the package's self-references to relative paths
  ({ main } = await import(pathToFileURL(join(outDir, 'cli', 'main.js')).href));
} else {
  if (why !== 'long-running')
    process.stderr.write(
      `fastgshare: ${why}; running from the TypeScript sources (slow start) — \`npm run build\` compiles it\n`,
    );
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  ({ main } = await import('../cli/main.ts'));
}
const code = await main({
  argv,
  env: process.env,
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
});
// The command is done (a long-running one has closed everything it opened). Exit now rather than
// wait for stray handles: fetch (undici) keeps an idle keep-alive connection that held every CLI
// call open ~300 ms after its last answer. Written output is flushed first.
await new Promise((resolve) => process.stdout.write('', () => process.stderr.write('', resolve)));
process.exit(code);
