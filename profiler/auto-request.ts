/**
 * The auto-scaler's `requestProfile(fnKey)`: queues a sweep (default grid and trial time, the
 * function's own sample as input) for a function the planner found without a profile, at most one
 * at a time, and not again and again when sweeps keep failing:
 *   - the function's latest sweep is waiting, delayed or running → nothing (it is on its way);
 *   - it completed → nothing (its table exists);
 *   - it failed or was cancelled, or it is gone, and the auto-scaler queued one before → again
 *     only after a backoff from when that one ended: `retryAfterMs` × 2^(earlier auto sweeps − 1),
 *     at most `maxRetryAfterMs` (30 min, 1 h, 2 h … 24 h by default);
 *   - else → queued (origin 'autoscaler': a failed run is retried by the queue itself after 30 s,
 *     1 and 2 min).
 * Several gateways may ask at once: a short Redis guard per function keeps it to one sweep.
 */
import type { Redis } from 'ioredis';
import type { Clock } from '../core/clock.ts';
import { PlatformError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ProfilerKeys } from './keys.ts';
import { ACTIVE_STATES, type ProfilerService, type SweepView } from './service.ts';

export type ProfileRequestOutcome = 'queued' | 'pending' | 'profiled' | 'backoff';

export interface ProfileRequesterOptions {
  service: ProfilerService;
  redis: Redis;
  keys: ProfilerKeys;
  clock: Clock;
  log: Logger;
  /** Wait after a failed automatic sweep before the next (doubles with each one; default 30 min). */
  retryAfterMs?: number;
  /** Longest such wait (default 24 h). */
  maxRetryAfterMs?: number;
}

export interface ProfileRequester {
  /** Queues a sweep of `name.namespace` unless one is on its way, done, or backing off. */
  request(fnKey: string): Promise<ProfileRequestOutcome>;
}

/** What is kept per function about the auto-scaler's sweeps (Redis hash keys.autoRequests()). */
interface AutoRecord {
  /** Sweeps the auto-scaler queued for the function so far. */
  count: number;
  /** When the last was queued, ms since the epoch. */
  at: number;
  job: string;
}

const GUARD_MS = 30_000;

export function splitFunctionKey(fnKey: string): { name: string; namespace: string } {
  const dot = fnKey.indexOf('.');
  if (dot <= 0 || dot === fnKey.length - 1)
    throw new PlatformError('bad_request', `"${fnKey}" is not a function key: expected name.namespace`);
  return { name: fnKey.slice(0, dot), namespace: fnKey.slice(dot + 1) };
}

export function createProfileRequester(o: ProfileRequesterOptions): ProfileRequester {
  const base = o.retryAfterMs ?? 30 * 60_000;
  const cap = o.maxRetryAfterMs ?? 24 * 3_600_000;

  async function latest(namespace: string, name: string): Promise<SweepView | undefined> {
    try {
      return await o.service.job(namespace, name);
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async function decide(fnKey: string): Promise<ProfileRequestOutcome> {
    const { name, namespace } = splitFunctionKey(fnKey);
    const job = await latest(namespace, name);
    if (job && ACTIVE_STATES.has(job.state)) return 'pending';
    if (job?.state === 'completed') return 'profiled';
    const raw = await o.redis.hget(o.keys.autoRequests(), fnKey);
    const rec = raw ? (JSON.parse(raw) as AutoRecord) : undefined;
    if (rec) {
      const ended = job?.id === rec.job && job.finishedAt ? Date.parse(job.finishedAt) : rec.at;
      const wait = Math.min(cap, base * 2 ** Math.max(0, rec.count - 1));
      const now = o.clock.date().getTime();
      if (now < ended + wait) {
        o.log.debug('profiling not requested again yet', {
          function: fnKey,
          lastSweep: rec.job,
          state: job?.state ?? 'gone',
          retryAt: new Date(ended + wait).toISOString(),
        });
        return 'backoff';
      }
    }
    let queued: SweepView;
    try {
      queued = await o.service.request(namespace, name, {}, { origin: 'autoscaler' });
    } catch (err) {
      // a person queued one meanwhile
      if (err instanceof PlatformError && err.code === 'conflict') return 'pending';
      throw err;
    }
    const next: AutoRecord = { count: (rec?.count ?? 0) + 1, at: o.clock.date().getTime(), job: queued.id };
    await o.redis.hset(o.keys.autoRequests(), fnKey, JSON.stringify(next));
    o.log.info('profiling sweep queued for a function without a profile', {
      function: fnKey,
      sweep: queued.id,
      trials: queued.trials,
      estimateSeconds: queued.estimateSeconds,
      deviceClass: queued.deviceClass,
      input: queued.input ?? 'none',
      autoSweeps: next.count,
    });
    return 'queued';
  }

  return {
    async request(fnKey) {
      const guard = o.keys.autoGuard(fnKey);
      // another gateway is deciding for this function right now: it queues or it does not
      if ((await o.redis.set(guard, '1', 'PX', GUARD_MS, 'NX')) !== 'OK') return 'pending';
      try {
        return await decide(fnKey);
      } finally {
        await o.redis.del(guard).catch(() => undefined);
      }
    },
  };
}
