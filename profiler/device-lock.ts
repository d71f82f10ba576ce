/**
 * One sweep per device at a time: a Redis key per (node, device) holding its owner, with an expiry
 * renewed while the sweep runs. The owner is one *run* of a sweep (`<sweep>:<run>`, the run being
 * BullMQ's lock token of that attempt), not the sweep: when a run's job lock lapses (an overloaded
 * process renewed it too late) BullMQ hands the job to another run while the first may still be
 * measuring, and a lock keyed by the sweep alone let both run trials on the device at once. A run
 * that is stopped on purpose to resume later (the worker stops) *parks* the lock (`<sweep>:resume`):
 * the next run of the same sweep takes it over, anyone else waits. A lock whose owner died lapses.
 */
import type { Redis } from 'ioredis';

export interface LockOwner {
  sweep: string;
  run: string;
}

/**
 * - `taken`: the lock was free (or parked for this sweep) and is now this run's;
 * - `held`: this run held it already (expiry renewed);
 * - `busy`: someone else holds it.
 */
export type LockOutcome = 'taken' | 'held' | 'busy';

export interface DeviceLock {
  acquire(key: string, owner: LockOwner, ttlMs: number): Promise<LockOutcome>;
  /** Renews the expiry: `held` as expected, `taken` when it had lapsed meanwhile (nobody took it), `busy` when lost. */
  renew(key: string, owner: LockOwner, ttlMs: number): Promise<LockOutcome>;
  release(key: string, owner: LockOwner): Promise<void>;
  /** Keeps the lock for the sweep's next run (see above). */
  park(key: string, owner: LockOwner, ttlMs: number): Promise<void>;
  /** Who holds it: the sweep and its run (`resume` when parked). */
  holder(key: string): Promise<LockOwner | undefined>;
}

const ownerValue = (o: LockOwner) => `${o.sweep}:${o.run}`;

/** KEYS[1] lock; ARGV owner, ttl, parked value. 2 = held, 1 = taken, 0 = busy. */
const TAKE = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 2 end
if v == false or v == ARGV[3] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const PARK = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;
const OUTCOME: Record<number, LockOutcome> = { 2: 'held', 1: 'taken', 0: 'busy' };

export function createRedisDeviceLock(redis: Redis): DeviceLock {
  const take = async (key: string, owner: LockOwner, ttlMs: number) =>
    OUTCOME[Number(await redis.eval(TAKE, 1, key, ownerValue(owner), String(ttlMs), `${owner.sweep}:resume`))] ??
    'busy';
  return {
    acquire: take,
    renew: take,
    async release(key, owner) {
      await redis.eval(RELEASE, 1, key, ownerValue(owner));
    },
    async park(key, owner, ttlMs) {
      await redis.eval(PARK, 1, key, ownerValue(owner), `${owner.sweep}:resume`, String(ttlMs));
    },
    async holder(key) {
      const v = await redis.get(key);
      if (!v) return undefined;
      const i = v.lastIndexOf(':');
      return i < 0 ? { sweep: v, run: '' } : { sweep: v.slice(0, i), run: v.slice(i + 1) };
    },
  };
}
