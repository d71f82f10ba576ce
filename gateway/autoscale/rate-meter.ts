/**
 * Measures each function's request rate from the gateway's own invocations: an invocation
 * observer counts calls as they start; `take(nowMs)` returns calls per second per function since
 * the previous take and starts a new window.
 */
import type { InvocationObserver } from '../observers/invocation-observer.ts';

export interface RateMeter extends InvocationObserver {
  /** Requests/s per function (`name.namespace`) since the last take (functions without calls are absent). */
  take(nowMs: number): Map<string, number>;
}

export function createRateMeter(startMs: number): RateMeter {
  let counts = new Map<string, number>();
  let since = startMs;
  return {
    started(e) {
      counts.set(e.function, (counts.get(e.function) ?? 0) + 1);
    },
    take(nowMs) {
      const seconds = Math.max(1e-3, (nowMs - since) / 1000);
      const out = new Map<string, number>();
      for (const [k, n] of counts) out.set(k, n / seconds);
      counts = new Map();
      since = nowMs;
      return out;
    },
  };
}
