/**
 * Which cores each `cpu` replica is pinned to. A replica asks for n cores (its partition of the
 * node); it gets the n least used, so replicas spread over the node before they share a core.
 * Cores go back when the replica's process ends.
 */
export interface CoreAllocator {
  readonly cores: readonly number[];
  acquire(count: number): number[];
  release(cores: readonly number[]): void;
  /** Replicas currently pinned to each core. */
  usage(): Record<number, number>;
}

export function createCoreAllocator(cores: readonly number[]): CoreAllocator {
  if (cores.length === 0) throw new Error('a core allocator needs at least one core');
  const users = new Map<number, number>(cores.map((c) => [c, 0]));
  return {
    cores: [...cores],
    acquire(count) {
      const n = Math.max(1, Math.min(count, cores.length));
      const picked = [...cores]
        .sort((a, b) => users.get(a)! - users.get(b)! || a - b)
        .slice(0, n)
        .sort((a, b) => a - b);
      for (const c of picked) users.set(c, users.get(c)! + 1);
      return picked;
    },
    release(released) {
      for (const c of released) if (users.has(c)) users.set(c, Math.max(0, users.get(c)! - 1));
    },
    usage: () => Object.fromEntries(users),
  };
}
