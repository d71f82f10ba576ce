/**
 * One sweep per device at a time: a Redis key per (node, device) holding the owning sweep's id,
 * with an expiry renewed while the sweep runs. The owner may take it again (a resumed sweep);
 * anyone else waits. A sweep whose process died loses it when the expiry passes.
 */
import type { Redis } from 'ioredis';

export interface DeviceLock {
  /** True when `owner` holds the lock now (taken or already held). */
  acquire(key: string, owner: string, ttlMs: number): Promise<boolean>;
  renew(key: string, owner: string, ttlMs: number): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
  holder(key: string): Promise<string | null>;
}

const TAKE = `local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export function createRedisDeviceLock(redis: Redis): DeviceLock {
  return {
    async acquire(key, owner, ttlMs) {
      return (await redis.eval(TAKE, 1, key, owner, String(ttlMs))) === 1;
    },
    async renew(key, owner, ttlMs) {
      return (await redis.eval(TAKE, 1, key, owner, String(ttlMs))) === 1;
    },
    async release(key, owner) {
      await redis.eval(RELEASE, 1, key, owner);
    },
    holder: (key) => redis.get(key),
  };
}
