/**
 * The replica's device gate: work that needs the device (one batch) runs only under a time token
 * from the node's token scheduler (fast-manager/sharing). One gate per replica, shared by all of
 * its models (a pipeline's batchers share the replica's single token).
 *
 * Policy:
 * - Before a batch the gate checks the token it holds: if its remaining quota (quotaMs − time
 *   since the grant) covers the batch's estimated run time, the batch runs at once. Back-to-back
 *   batches thus share one token, with no round trip to the scheduler between them.
 * - Otherwise it waits until batches already running under the token finish, then asks for a new
 *   token (which ends the old one) and runs the batch as soon as it is granted, even when the
 *   batch is longer than the new quota: nothing is pre-empted, the overrun is charged afterwards.
 * - When the last running batch ends and no new batch has started by the next turn of the event
 *   loop (`defer`), the token is released — unless the source can ask for it back (`onYield`):
 *   then the gate keeps it up to `lingerMs` more (and never past its quota), because the next
 *   request often comes within a few ms and a new token costs a round trip (a lone replica under a
 *   closed loop otherwise paid one per batch), and gives it back at once when the scheduler says
 *   others wait (yield). Idle time is thus never held against a replica that waits for the device.
 * - Each request for a token reports a burst, which adapts the scheduler's token length to this
 *   replica: the longer of the burst measured under the previous token (time with at least one
 *   batch running) — doubled when that token ran out with work still waiting, since the burst was
 *   cut short — and the estimated run time of the batch waiting now. Both terms break a spiral:
 *   the batcher sizes a batch to fit the token, so a burst measured under short tokens is short
 *   and would keep the tokens — and the batches — small (seen as a closed-loop replica alone on its
 *   device at half its ungated throughput). Long tokens do not make others wait longer: the
 *   scheduler caps them by the others' SLOs, and after a yield a busy holder asks again before its
 *   next batch instead of running it under the token it holds.
 * - `expectedWaitMs` is what admission adds to a request's expected latency: 0 while a held token
 *   covers the work, else the mean of recent waits for a grant (EWMA), faded linearly to 0 over
 *   one scheduling window of no token use (an idle replica's window usage has run out, so it is
 *   first in line again); while a request is pending, what is left of that mean.
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import type { AcquireHint } from 'fastgshare/core/contracts/token-channel.ts';
import { PlatformError } from 'fastgshare/core/errors.ts';
import { systemTimers, type Timers } from './timers.ts';

/** The token channel as the gate sees it (token-client.ts implements it). */
export interface TokenSource {
  acquire(hint?: AcquireHint): Promise<{ quotaMs: number }>;
  release(): void;
  close(): void;
  readonly windowMs: number;
  /** The scheduler asks the holder to give its token back (others wait); optional. */
  onYield?(fn: () => void): void;
}

export interface GateStats {
  gated: boolean;
  tokens: number;
  /** Batches that ran under a token already held (no scheduler round trip). */
  reused: number;
  waitMs: number;
  meanWaitMs: number;
  heldNow: boolean;
}

/**
 * What a batch tells the scheduler when it needs a new token: the least it will run under any token (it is cut to the
 * token, not below one item) and how long its most urgent request can still wait for the device.
 */
export type RunNeed = Pick<AcquireHint, 'minRunMs' | 'slackMs'>;

export interface DeviceGate {
  /**
   * Runs `work` (estimated to take `expectedMs`) under a device token; `work` is told how much of
   * the token is left (Infinity when ungated) so it can size itself to fit.
   */
  run<T>(expectedMs: number, work: (quotaLeftMs: number) => Promise<T>, need?: RunNeed): Promise<T>;
  /** Expected wait for a token before work of `expectedMs` could start now. */
  expectedWaitMs(expectedMs: number): number;
  stats(): GateStats;
  /**
   * Forgets the waits seen so far (the runtime calls it when warm-up ends: waits measured while
   * every replica of the node warmed up at once say nothing about serving, and would make
   * admission shed requests until enough new waits outweighed them).
   */
  forgetWaits(): void;
  close(): void;
}

/** No token scheduler: work runs at once. */
export const ungatedDevice: DeviceGate = {
  run: (_expected, work) => work(Infinity),
  expectedWaitMs: () => 0,
  stats: () => ({ gated: false, tokens: 0, reused: 0, waitMs: 0, meanWaitMs: 0, heldNow: false }),
  forgetWaits: () => {},
  close: () => {},
};

export interface TokenGateOptions {
  source: TokenSource;
  clock: Clock;
  /** Runs `fn` after the current turn of the event loop (default setImmediate). */
  defer?: (fn: () => void) => void;
  /** Weight of the newest wait in the mean (default 0.3). */
  alpha?: number;
  /** How long an idle token is kept for the next batch when the source can ask for it back (default 10 ms). */
  lingerMs?: number;
  /** Timers for the linger (default systemTimers). */
  timers?: Timers;
}

interface Held {
  quotaMs: number;
  grantedAt: number;
}

export function createTokenGate(o: TokenGateOptions): DeviceGate {
  const { source, clock } = o;
  const defer = o.defer ?? ((fn: () => void) => void setImmediate(fn));
  const alpha = o.alpha ?? 0.3;
  const timers = o.timers ?? systemTimers;
  const lingerMs = source.onYield ? Math.max(0, o.lingerMs ?? 10) : 0;
  /** The scheduler asked for the token held now. */
  let yielded = false;
  let cancelLinger: (() => void) | undefined;
  let held: Held | undefined;
  let acquiring: { promise: Promise<void>; since: number } | undefined;
  let active = 0;
  /** Batches between their call and their start (they keep a token from being released). */
  let starting = 0;
  let busySince = 0;
  let burstMs = 0;
  let lastBurst: number | undefined;
  let idleWaiters: (() => void)[] = [];
  let meanWait = 0;
  /** Waits in the mean since it was last forgotten (the first one sets it). */
  let waitsInMean = 0;
  let lastUse = -Infinity;
  let closed = false;
  const stats = { tokens: 0, reused: 0, waitMs: 0 };

  const remaining = (now: number) => (held ? held.quotaMs - (now - held.grantedAt) : -Infinity);

  const endBurst = () => {
    if (burstMs > 0) lastBurst = burstMs;
    burstMs = 0;
  };

  const releaseIfIdle = (lingered = false) => {
    if (active > 0 || starting > 0 || !held) return;
    cancelLinger?.();
    cancelLinger = undefined;
    const left = remaining(clock.now());
    if (!lingered && !yielded && lingerMs > 0 && left > 0) {
      cancelLinger = timers.after(Math.min(left, lingerMs), () => {
        cancelLinger = undefined;
        releaseIfIdle(true);
      });
      return;
    }
    held = undefined;
    lastUse = clock.now();
    endBurst();
    source.release();
  };

  const burstHint = (expectedMs: number, exhausted: boolean): number | undefined => {
    const waiting = Number.isFinite(expectedMs) && expectedMs > 0 ? expectedMs : 0;
    // a token used up with work still waiting cut the burst short: ask for twice as much
    const hint = Math.max((lastBurst ?? 0) * (exhausted ? 2 : 1), waiting);
    return hint > 0 ? hint : undefined;
  };

  const acquire = (expectedMs: number, need: RunNeed = {}): Promise<void> => {
    if (acquiring) return acquiring.promise;
    const since = clock.now();
    const exhausted = held !== undefined && !yielded;
    if (held) {
      held = undefined; // asking again ends the token held
      endBurst();
    }
    const least = need.minRunMs ?? expectedMs;
    const hint: AcquireHint = {
      burstMs: burstHint(expectedMs, exhausted),
      minRunMs: Number.isFinite(least) && least > 0 ? Math.min(least, expectedMs) : undefined,
      slackMs: need.slackMs !== undefined && Number.isFinite(need.slackMs) ? Math.max(0, need.slackMs) : undefined,
    };
    const promise = source.acquire(hint).then(
      (g) => {
        const now = clock.now();
        const waited = now - since;
        stats.tokens++;
        stats.waitMs += waited;
        meanWait = ++waitsInMean === 1 ? waited : meanWait + alpha * (waited - meanWait);
        held = { quotaMs: g.quotaMs, grantedAt: now };
        yielded = false;
        acquiring = undefined;
      },
      (err: Error) => {
        acquiring = undefined;
        throw new PlatformError('unavailable', `no device token: ${err.message}`, { cause: err });
      },
    );
    acquiring = { promise, since };
    return promise;
  };

  source.onYield?.(() => {
    if (!held) return;
    yielded = true;
    releaseIfIdle();
  });

  const whenIdle = () => (active === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r)));

  return {
    async run(expectedMs, work, need) {
      if (closed) throw new PlatformError('unavailable', 'the device gate is closed');
      starting++;
      let fresh = false;
      try {
        for (;;) {
          // after a yield the next batch asks again, so whoever waits gets the device in between
          if (held && !acquiring && !yielded && remaining(clock.now()) >= expectedMs) break;
          if (fresh && held && !acquiring) break; // a new token: run even if the batch is longer
          if (acquiring) {
            await acquiring.promise;
            fresh = true;
            continue;
          }
          if (active > 0) {
            await whenIdle();
            continue;
          }
          await acquire(expectedMs, need);
          fresh = true;
        }
      } finally {
        starting--;
      }
      if (!fresh) stats.reused++;
      if (active++ === 0) busySince = clock.now();
      try {
        return await work(Math.max(0, remaining(clock.now())));
      } finally {
        if (--active === 0) {
          burstMs += clock.now() - busySince;
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) w();
          defer(() => releaseIfIdle());
        }
      }
    },
    expectedWaitMs(expectedMs) {
      const now = clock.now();
      if (acquiring) return Math.max(0, meanWait - (now - acquiring.since));
      if (held && remaining(now) >= expectedMs) return 0;
      if (held) return meanWait;
      const idle = now - lastUse;
      const window = source.windowMs > 0 ? source.windowMs : 1;
      return meanWait * Math.max(0, 1 - idle / window);
    },
    stats: () => ({ gated: true, ...stats, meanWaitMs: meanWait, heldNow: held !== undefined }),
    forgetWaits() {
      meanWait = 0;
      waitsInMean = 0;
    },
    close() {
      closed = true;
      cancelLinger?.();
      held = undefined;
      source.close();
    },
  };
}
