/**
 * The W3C Server Timing header (https://www.w3.org/TR/server-timing/): `name;dur=1.234;desc="…"`
 * metrics joined by `, `. One format for every part that writes or reads it: model replicas
 * report their stages (templates/onnx-node/runtime/server-timing.ts), the gateway appends its own
 * (gateway/proxy), benches and tests parse it.
 */

/** One metric of a Server-Timing header. */
export interface TimingEntry {
  name: string;
  /** Duration in milliseconds. */
  dur?: number;
  desc?: string;
}

export const SERVER_TIMING_HEADER = 'server-timing';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** `name;dur=1.234;desc="…"` joined by `, `; durations rounded to µs. */
export function formatServerTiming(entries: readonly TimingEntry[]): string {
  return entries
    .map((e) => {
      if (!TOKEN.test(e.name)) throw new RangeError(`server timing metric name "${e.name}" is not an HTTP token`);
      let s = e.name;
      if (e.dur !== undefined) s += `;dur=${Math.round(Math.max(0, e.dur) * 1000) / 1000}`;
      if (e.desc !== undefined) s += `;desc=${JSON.stringify(e.desc)}`;
      return s;
    })
    .join(', ');
}

/**
 * Parses a Server-Timing header (one value or several, as Node gives repeated headers).
 * Follows the spec's lenient processing: a metric without a valid name is skipped, unknown
 * parameters are ignored, a `dur` that is not a number is left out.
 */
export function parseServerTiming(value: string | readonly string[] | null | undefined): TimingEntry[] {
  if (value === null || value === undefined) return [];
  const text = typeof value === 'string' ? value : value.join(', ');
  const out: TimingEntry[] = [];
  for (const metric of splitOutsideQuotes(text, ',')) {
    const [rawName, ...params] = splitOutsideQuotes(metric, ';').map((p) => p.trim());
    if (!rawName || !TOKEN.test(rawName)) continue;
    const entry: TimingEntry = { name: rawName };
    for (const p of params) {
      const eq = p.indexOf('=');
      const key = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
      const raw = eq === -1 ? '' : p.slice(eq + 1).trim();
      const val =
        raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      if (key === 'dur' && entry.dur === undefined) {
        const n = Number(val);
        if (val !== '' && Number.isFinite(n)) entry.dur = n;
      } else if (key === 'desc' && entry.desc === undefined) entry.desc = val;
    }
    out.push(entry);
  }
  return out;
}

/**
 * `existing` with `added` (entries, or a header value already formatted) appended (the gateway adds its stage to the
 * replica's header).
 */
export function appendServerTiming(
  existing: string | readonly string[] | undefined,
  added: readonly TimingEntry[] | string,
): string {
  const before = (typeof existing === 'string' ? [existing] : [...(existing ?? [])])
    .map((s) => s.trim())
    .filter(Boolean);
  const addedText = typeof added === 'string' ? added.trim() : formatServerTiming(added);
  return [...before, ...(addedText ? [addedText] : [])].join(', ');
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted && c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.filter((p) => p.trim() !== '');
}
