/** Restart delay after the `streak`-th consecutive crash: base, 2·base, 4·base, … capped at max. */
export function backoffDelay(streak: number, baseMs: number, maxMs: number): number {
  if (streak <= 1) return Math.min(baseMs, maxMs);
  return Math.min(maxMs, baseMs * 2 ** Math.min(streak - 1, 40));
}

/** "2s", "1.5s", "300ms" */
export function formatDelay(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Math.round(s * 10) / 10}s`;
}
