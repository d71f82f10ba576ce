/**
 * Takes server file-system paths and stack frames out of an error message meant for someone
 * who is not the admin (a tenant, an anonymous caller): the data dir, image bundles, replica
 * work dirs, the install location. What is a server path is decided from this machine's own
 * root directory (`/home/...`, `/tmp/...`, `/var/...`: an absolute path whose first segment is a
 * directory under `/`), plus `file://` URLs, so that the gateway's URL paths in messages
 * (`/system/functions`, `/function/NAME`) are left alone.
 */
import { readdirSync } from 'node:fs';

export const REDACTED_PATH = '<server path>';

/** Top-level names that are gateway URL words, never treated as file-system roots. */
const URL_WORDS = new Set(['system', 'function', 'async-function', 'healthz', 'metrics', 'v1', '_']);
/** Usual roots, in case `/` cannot be listed (or a path names a root this machine lacks). */
const USUAL_ROOTS = [
  'bin',
  'boot',
  'dev',
  'etc',
  'home',
  'lib',
  'lib64',
  'media',
  'mnt',
  'nix',
  'opt',
  'proc',
  'root',
  'run',
  'sbin',
  'snap',
  'srv',
  'sys',
  'tmp',
  'usr',
  'var',
  'workspace',
  'work',
  'data',
  'app',
  'Users',
  'private',
  'Volumes',
];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function listRoots(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync('/');
  } catch {
    // fall back to the usual names
  }
  return [...new Set([...names, ...USUAL_ROOTS])].filter((n) => n !== '' && !URL_WORDS.has(n));
}

function pathPattern(roots: string[]): RegExp {
  // longest first so that `lib64` wins over `lib`
  const alt = roots
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|');
  // an absolute path starts a message, or follows a space, quote, bracket, '=', ',' or ':' (not
  // '//' of a URL, not a letter or digit); it runs to the next space, quote or bracket
  return new RegExp(`(^|[\\s"'\`(\\[{<=,;])/(?:${alt})(?=[/\\s"'\`)\\]}>,;:]|$)[^\\s"'\`)\\]}>,;:]*`, 'g');
}

const FILE_URL = /file:\/\/[^\s"'`)\]}>,;:]*/g;
const STACK_FRAME = /\n\s*at .*/g;

export interface PathRedactor {
  (message: string): string;
}

export function createPathRedactor(roots: string[] = listRoots()): PathRedactor {
  const pattern = pathPattern(roots);
  return (message) =>
    message
      .replace(STACK_FRAME, '')
      .replace(FILE_URL, REDACTED_PATH)
      .replace(pattern, (_m, lead: string) => lead + REDACTED_PATH);
}

/** Built once from this machine's `/`. */
export const redactServerPaths: PathRedactor = createPathRedactor();
