/**
 * The trial functions (`<fn>--prof-<n>`) this process's sweeps have on the nodes right now. The
 * gateway's reconciler keeps exactly these among the functions the store does not know; any other
 * function with a trial-like name is removed like every unknown function.
 */
export interface ActiveTrials {
  /** Marks a trial function as owned until the returned function is called. */
  add(namespace: string, name: string): () => void;
  has(namespace: string, name: string): boolean;
}

export function createActiveTrials(): ActiveTrials {
  const owned = new Map<string, number>();
  const key = (ns: string, name: string) => `${name}.${ns}`;
  return {
    add(namespace, name) {
      const k = key(namespace, name);
      owned.set(k, (owned.get(k) ?? 0) + 1);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const n = (owned.get(k) ?? 1) - 1;
        if (n > 0) owned.set(k, n);
        else owned.delete(k);
      };
    },
    has: (namespace, name) => owned.has(key(namespace, name)),
  };
}
