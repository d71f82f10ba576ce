/**
 * How a replica's process is run, decided the way OpenFaaS decides it, with the bundle in place
 * of the image:
 *
 * 1. `mode` in the function's environment (of-watchdog's variable; a deploy-time variable wins
 *    over the image's, as in OpenFaaS): `http` → the process serves HTTP on $PORT itself;
 *    `streaming` or `serializing` → one process per request under the built-in watchdog. Other
 *    values (`static`) are refused with what to use.
 * 2. An fprocess given at deploy (faas-cli --fprocess, the stack's `fprocess:`, `envProcess`) that
 *    is not the bundle's own: the image's server is not what runs, so the command runs per request,
 *    as the classic watchdog runs `fprocess` (e.g. `--fprocess cat`).
 * 3. The bundle's Dockerfile (the template's): of-watchdog with its `ENV mode` (of-watchdog's
 *    default is streaming), or the classic watchdog (per request).
 * 4. Otherwise `http`: the bundle's own fprocess serves $PORT, as every template here does.
 */
import { splitCommandLine } from '../apply/command-line.ts';
import type { DockerfileWatchdog } from './dockerfile.ts';

export interface RunMode {
  kind: 'http' | 'fork';
  /** Why, for logs and the replica's start line. */
  reason: string;
}

export interface RunModeInput {
  envVars: Record<string, string>;
  /** The deployment's envProcess, when given. */
  envProcess?: string;
  /** The bundle's own fprocess (its manifest), when known. */
  bundleFprocess?: string;
  /** What the bundle's Dockerfile says, when it has one. */
  dockerfile?: DockerfileWatchdog;
}

const FORKING_MODES = new Set(['streaming', 'serializing']);

function fromMode(mode: string, where: string): RunMode {
  const m = mode.trim().toLowerCase();
  if (m === 'http') return { kind: 'http', reason: `mode=http ${where}` };
  if (FORKING_MODES.has(m)) return { kind: 'fork', reason: `mode=${m} ${where}` };
  throw new Error(
    `mode "${mode}" ${where} is not supported: use "http" (the function's process serves HTTP on $PORT) or "streaming"/"serializing" (one process per request, body on stdin, answer on stdout)`,
  );
}

const sameCommand = (a: string, b: string) => {
  try {
    return JSON.stringify(splitCommandLine(a, 'fprocess')) === JSON.stringify(splitCommandLine(b, 'fprocess'));
  } catch {
    return a.trim() === b.trim();
  }
};

export function selectRunMode(i: RunModeInput): RunMode {
  const mode = i.envVars.mode;
  if (mode !== undefined && mode.trim() !== '') return fromMode(mode, "in the function's environment");
  const envProcess = i.envProcess?.trim();
  if (envProcess && !(i.bundleFprocess && sameCommand(envProcess, i.bundleFprocess))) {
    return {
      kind: 'fork',
      reason: `fprocess "${envProcess}" was given at deploy instead of the image's own; it runs once per request (classic watchdog; set mode=http if it serves $PORT itself)`,
    };
  }
  if (i.dockerfile?.watchdog === 'of-watchdog')
    return fromMode(i.dockerfile.mode ?? 'streaming', "in the bundle's Dockerfile (of-watchdog)");
  if (i.dockerfile?.watchdog === 'classic-watchdog')
    return { kind: 'fork', reason: "the bundle's Dockerfile runs the classic watchdog" };
  return { kind: 'http', reason: "the bundle's fprocess serves HTTP on $PORT" };
}
