/**
 * Bounds how many calls of one function this process runs at once. `tryAcquire` never waits:
 * a worker that gets no slot puts the job back (delayed) instead of holding a worker slot.
 */
export interface FunctionLimiter {
  tryAcquire(key: string): (() => void) | undefined;
  inFlight(key: string): number;
}

export function createFunctionLimiter(limit: number): FunctionLimiter {
  const running = new Map<string, number>();
  return {
    tryAcquire(key) {
      const n = running.get(key) ?? 0;
      if (n >= limit) return undefined;
      running.set(key, n + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (running.get(key) ?? 1) - 1;
        if (left <= 0) running.delete(key);
        else running.set(key, left);
      };
    },
    inFlight: (key) => running.get(key) ?? 0,
  };
}
