/**
 * Durations as the OpenFaaS watchdogs read them from the environment: a whole number of seconds
 * ("10"), or a Go duration ("10s", "1m30s", "500ms", "1.5h"). Anything else is an error naming
 * the variable (the watchdogs fall back to their default silently; a typo here should not).
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const GO_DURATION = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Milliseconds of `raw`, or `fallbackMs` when it is unset or empty. */
export function parseWatchdogDuration(name: string, raw: string | undefined, fallbackMs: number): number {
  const v = raw?.trim();
  if (v === undefined || v === '') return fallbackMs;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  let rest = v;
  let ms = 0;
  while (rest.length > 0) {
    const m = GO_DURATION.exec(rest);
    if (!m)
      throw new Error(
        `${name}: "${v}" is not a duration; give whole seconds ("30") or a Go duration ("30s", "1m30s", "500ms")`,
      );
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return ms;
}
