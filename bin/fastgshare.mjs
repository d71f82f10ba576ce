#!/usr/bin/env node
// The fastgshare CLI. Runs the compiled JavaScript in build/_js/ (made at install by `npm ci` /
// `npm install` through the `prepare` script, or by `npm run build`) when it is there and newer
// than every source; otherwise registers tsx and runs the TypeScript sources as they are, which
// compiles them at each start (seconds), and says so on one line.
// The long-running commands (`up`, `gateway`, `node`) always run from the sources: they start
// once, and start the platform's other processes from the sources too.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'build', '_js');
const LONG_RUNNING = new Set(['up', 'gateway', 'node']);
/** What the build is made of (tsconfig.build.json): a change to any of them makes it stale. */
const SOURCE_DIRS = ['core', 'gateway', 'fast-manager', 'profiler', 'scheduler', 'cli', 'templates', join('bench', 'lib')];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** Why the build cannot be used, or undefined when it is present and up to date. */
function staleBuild() {
  let built;
  try {
    built = statSync(join(outDir, '.stamp')).mtimeMs;
  } catch {
    return 'the CLI is not compiled';
  }
  for (const f of SOURCE_FILES) if (statSync(join(root, f)).mtimeMs > built) return `${f} changed since it was compiled`;
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
  register(pathToFileURL(join(root, 'bin', 'compiled-resolve.mjs')), { data: { outDir } });
  ({ main } = await import(pathToFileURL(join(outDir, 'cli', 'main.js')).href));
} else {
  if (why !== 'long-running') process.stderr.write(`fastgshare: ${why}; running from the TypeScript sources (slow start) — \`npm run build\` compiles it\n`);
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  ({ main } = await import('../cli/main.ts'));
}
const code = await main({ argv, env: process.env, io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin } });
process.exitCode = code;
// a long-running command has already closed everything it opened; do not wait for stray handles
if (process.argv[2] === 'up' || process.argv[2] === 'gateway' || process.argv[2] === 'node') process.exit(code);
