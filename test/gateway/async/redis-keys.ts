/**
 * Tests share the machine's Redis: each test gets its own key prefix and removes every key
 * under it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readCommonConfig } from '../../../core/config.ts';
import { asyncKeys } from '../../../gateway/async/keys.ts';

export const REDIS_URL = readCommonConfig({}).redisUrl;

export function uniquePrefix(tag: string): string {
  return `fgs-test-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key of the queue under `prefix` (SCAN, never KEYS). */
export async function deleteQueueKeys(prefix: string, queue = 'async-invocations', url = REDIS_URL): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  let n = 0;
  try {
    const pattern = asyncKeys({ prefix, queue }).pattern();
    let cursor = '0';
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (found.length) n += await r.del(...found);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

export async function countQueueKeys(prefix: string, queue = 'async-invocations'): Promise<number> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    let n = 0;
    do {
      const [next, found] = await r.scan(cursor, 'MATCH', asyncKeys({ prefix, queue }).pattern(), 'COUNT', 500);
      cursor = next;
      n += found.length;
    } while (cursor !== '0');
    return n;
  } finally {
    r.disconnect();
  }
}
