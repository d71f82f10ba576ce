/**
 * Which OpenFaaS watchdog a bundle's Dockerfile runs, and in which mode: OpenFaaS picks the
 * watchdog by the image (a template's Dockerfile copies the classic watchdog or of-watchdog in
 * as its entrypoint) and of-watchdog's mode by the image's `ENV mode=...`. A bundle built from a
 * template carries the template's Dockerfile, so the same facts are read here.
 */
export interface DockerfileWatchdog {
  watchdog?: 'of-watchdog' | 'classic-watchdog';
  /** The last `mode` the Dockerfile's ENV instructions set. */
  mode?: string;
}

/** Logical lines: continuations (a trailing '\') joined, comments and blank lines dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    out.push((current + line).trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** The pairs of an ENV instruction: `ENV a=1 b="x y"` or the older `ENV a 1`. */
function envPairs(args: string): Array<[string, string]> {
  const unquote = (v: string) => (/^(["']).*\1$/.test(v) ? v.slice(1, -1) : v);
  if (!/^[^\s=]+=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    return m ? [[m[1]!, unquote(m[2]!.trim())]] : [];
  }
  const pairs: Array<[string, string]> = [];
  for (const m of args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) pairs.push([m[1]!, unquote(m[2]!)]);
  return pairs;
}

/** Every variable the Dockerfile's ENV instructions set (the last value of each). */
export function dockerfileEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of instructions(text)) {
    const m = /^ENV\s+(.*)$/i.exec(line);
    if (m) for (const [k, v] of envPairs(m[1]!)) env[k] = v;
  }
  return env;
}

export function readDockerfileWatchdog(text: string): DockerfileWatchdog {
  const found: DockerfileWatchdog = {};
  let of = false;
  let classic = false;
  for (const line of instructions(text)) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    if (/of-watchdog/i.test(args)) of = true;
    else if (/classic-watchdog|\/fwatchdog\b/i.test(args) && keyword !== 'CMD' && keyword !== 'ENTRYPOINT')
      classic = true;
    if (keyword === 'ENV') for (const [k, v] of envPairs(args)) if (k === 'mode') found.mode = v;
  }
  // of-watchdog images copy its binary in as /fwatchdog too: of-watchdog wins
  if (of) found.watchdog = 'of-watchdog';
  else if (classic) found.watchdog = 'classic-watchdog';
  return found;
}
