/**
 * Brute-force throttling of credential checks, per user name and per source address: the first
 * `freeFailures` failures of a user (or from an address) cost nothing; each one after that shuts
 * it out for `backoffMs × 2^(failures − freeFailures)`, at most `backoffMaxMs`. While shut out a
 * check is answered 429 with Retry-After and no password is hashed at all, which is also what
 * keeps a flood of guesses from burning the password threads. A success clears the user's and
 * the address's record; a record idle for `forgetMs` is forgotten.
 *
 * Memory is bounded by two LRU caches (lru-cache): past `maxEntries` the least recently failed
 * records are dropped. The clock is injected, so tests move time by hand.
 */
import { LRUCache } from 'lru-cache';
import type { LoginThrottleConfig } from '../../core/config.ts';
import type { Clock } from '../../core/clock.ts';

export interface LoginThrottle {
  /** Milliseconds until this user (when named) and this source may try again; 0: now. */
  waitMs(user: string | undefined, source: string): number;
  failed(user: string | undefined, source: string): void;
  succeeded(user: string | undefined, source: string): void;
}

interface Failures {
  failures: number;
  lastAt: number;
  until: number;
}

export interface LoginThrottleOptions extends LoginThrottleConfig {
  clock: Clock;
  /** Records kept per kind (users, sources); default 50,000. */
  maxEntries?: number;
  /** A record this long without a failure is forgotten; default max(2 × backoffMaxMs, 15 min). */
  forgetMs?: number;
}

/** User names are bounded so a long header cannot make a large key. */
const userKey = (user: string) => user.slice(0, 256);

export function createLoginThrottle(o: LoginThrottleOptions): LoginThrottle {
  const max = o.maxEntries ?? 50_000;
  const forget = o.forgetMs ?? Math.max(2 * o.backoffMaxMs, 15 * 60_000);
  const users = new LRUCache<string, Failures>({ max });
  const sources = new LRUCache<string, Failures>({ max });

  const live = (cache: LRUCache<string, Failures>, key: string, now: number): Failures | undefined => {
    const r = cache.get(key);
    if (r && now - r.lastAt > forget) {
      cache.delete(key);
      return undefined;
    }
    return r;
  };
  const wait = (cache: LRUCache<string, Failures>, key: string, now: number) =>
    Math.max(0, (live(cache, key, now)?.until ?? 0) - now);
  const fail = (cache: LRUCache<string, Failures>, key: string, now: number) => {
    const r = live(cache, key, now) ?? { failures: 0, lastAt: now, until: 0 };
    r.failures += 1;
    r.lastAt = now;
    if (r.failures >= o.freeFailures)
      r.until = now + Math.min(o.backoffMaxMs, o.backoffMs * 2 ** Math.min(40, r.failures - o.freeFailures));
    cache.set(key, r);
  };

  return {
    waitMs(user, source) {
      const now = o.clock.now();
      return Math.max(wait(sources, source, now), user === undefined ? 0 : wait(users, userKey(user), now));
    },
    failed(user, source) {
      const now = o.clock.now();
      fail(sources, source, now);
      if (user !== undefined) fail(users, userKey(user), now);
    },
    succeeded(user, source) {
      sources.delete(source);
      if (user !== undefined) users.delete(userKey(user));
    },
  };
}
