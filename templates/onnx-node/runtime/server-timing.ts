/**
 * Where one request's time went, as a W3C Server Timing header
 * (https://www.w3.org/TR/server-timing/): `decode;dur=1.2, batch;dur=0, token;dur=0.3, …`.
 * A replica records its stages as it serves a request (server.ts, inference.ts) and answers them
 * in `Server-Timing`; the gateway appends its own stage (`gateway`) to the replica's header.
 *
 * Stages of an onnx-node replica, in order, none overlapping (so their sum is at most the
 * request's time in the replica):
 *   body    reading the request body
 *   decode  request body → model input (image decode with sharp, validation)
 *   batch   queued in the dynamic batcher until its batch was dispatched (waiting for company)
 *   token   dispatched until the device token was granted (0 on an unshared device or while a
 *           held token still covers the batch)
 *   prep    the model function's own work around the model: building the batch's tensors,
 *           post-processing its outputs (shared by the requests of one batch)
 *   infer   the model run on the executor, worker-thread hand-over included (shared by the batch)
 *   encode  the result → JSON
 */

/** One metric of a Server-Timing header. */
export interface TimingEntry {
  name: string;
  /** Duration in milliseconds. */
  dur?: number;
  desc?: string;
}

export const SERVER_TIMING_HEADER = 'server-timing';

/** The stages a replica reports, in the order they happen. */
export const REPLICA_STAGES = ['body', 'decode', 'batch', 'token', 'prep', 'infer', 'encode'] as const;
export type ReplicaStage = (typeof REPLICA_STAGES)[number];

/** One request's stages as they are measured. */
export interface ServerTiming {
  /** Adds `ms` to stage `name` (a stage measured in parts adds up). Negative or non-finite values count as 0. */
  add(name: string, ms: number): void;
  entries(): TimingEntry[];
  /** The header value (empty when nothing was recorded). */
  header(): string;
}

export function createServerTiming(): ServerTiming {
  const stages = new Map<string, number>();
  return {
    add(name, ms) {
      const v = Number.isFinite(ms) && ms > 0 ? ms : 0;
      stages.set(name, (stages.get(name) ?? 0) + v);
    },
    entries: () => [...stages].map(([name, dur]) => ({ name, dur })),
    header() {
      return formatServerTiming(this.entries());
    },
  };
}

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
      const val = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      if (key === 'dur' && entry.dur === undefined) {
        const n = Number(val);
        if (val !== '' && Number.isFinite(n)) entry.dur = n;
      } else if (key === 'desc' && entry.desc === undefined) entry.desc = val;
    }
    out.push(entry);
  }
  return out;
}

/** `existing` with `entries` appended (the gateway adds its stage to the replica's header). */
export function appendServerTiming(existing: string | readonly string[] | undefined, entries: readonly TimingEntry[]): string {
  const before = (typeof existing === 'string' ? [existing] : [...(existing ?? [])]).map((s) => s.trim()).filter(Boolean);
  const added = formatServerTiming(entries);
  return [...before, ...(added ? [added] : [])].join(', ');
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
