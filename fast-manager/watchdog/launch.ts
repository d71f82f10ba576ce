/**
 * What a replica runs: its fprocess directly (mode `http`), or the built-in forking watchdog
 * (main.ts) with the fprocess in the `fprocess` variable (mode.ts decides). Either way the
 * replica's environment carries `fprocess`, the command line of the function, as in OpenFaaS.
 * The watchdog is started with the node binary running the agent and the platform's tsx loader
 * (absolute paths: a bundle needs no node_modules of its own), so inside the sandbox it is an
 * ordinary replica process.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MANIFEST_FILE } from '../../core/images/image-store.ts';
import { readDockerfileWatchdog } from './dockerfile.ts';
import { selectRunMode, type RunMode } from './mode.ts';

const here = fileURLToPath(import.meta.url);
/** The watchdog's entry, beside this file (main.ts from the sources, main.js when compiled). */
export const WATCHDOG_MAIN = join(dirname(here), `main${extname(here)}`);

/** argv of the built-in watchdog. */
export function watchdogArgv(): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, WATCHDOG_MAIN];
}

export interface ReplicaProcess {
  argv: string[];
  /** The command forked per request (mode `fork`). */
  forkArgv?: string[];
  /** The function's command line (`fprocess` in its environment). */
  fprocess: string;
  mode: RunMode;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * `argv` is what the supervisor resolved (envProcess, else the bundle's fprocess); the bundle's
 * manifest and Dockerfile tell the rest. An unsupported `mode` throws, saying what to use.
 */
export async function replicaProcess(i: {
  argv: string[];
  bundleDir: string;
  envVars: Record<string, string>;
  envProcess?: string;
}): Promise<ReplicaProcess> {
  let bundleFprocess: string | undefined;
  const manifest = await readOptional(join(i.bundleDir, MANIFEST_FILE));
  if (manifest) {
    try {
      const m = JSON.parse(manifest) as { fprocess?: unknown };
      if (typeof m.fprocess === 'string') bundleFprocess = m.fprocess;
    } catch {
      // a corrupt manifest was refused when the image was resolved
    }
  }
  const dockerfileText = await readOptional(join(i.bundleDir, 'Dockerfile'));
  const mode = selectRunMode({
    envVars: i.envVars,
    envProcess: i.envProcess,
    bundleFprocess,
    dockerfile: dockerfileText === undefined ? undefined : readDockerfileWatchdog(dockerfileText),
  });
  const fprocess = i.envProcess?.trim() || bundleFprocess?.trim() || i.argv.join(' ');
  return mode.kind === 'fork'
    ? { argv: watchdogArgv(), forkArgv: i.argv, fprocess, mode }
    : { argv: i.argv, fprocess, mode };
}
