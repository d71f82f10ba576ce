/**
 * Watches one run of a sweep while it measures, every `tickMs`:
 * - the sweep's cancel flag: the run stops (`cancelled`);
 * - its job lock (BullMQ's, renewed here too: BullMQ tracks locks by job id, so when a run that lost
 *   its job finishes it also stops the renewal of the run that took the job over): when another run
 *   holds the job now, this one stops at once (`superseded`), so that one sweep never runs twice;
 * - its device lock (renewed): taken by another sweep, the run stops (`deviceLost`) and waits for the
 *   device again; lapsed without anyone taking it (renewed too late), it is taken again and noted;
 * - how late the tick itself fires: a process that was stalled (long synchronous work, an overloaded
 *   machine) for `stallMs` or more did not generate the trial's load or read its answers on time.
 * A trial during which anything was noted (`disturbance(since)`) is not a measurement of the
 * configuration (sweep.ts runs it again).
 */
import type { DeviceLock, LockOwner } from './device-lock.ts';

export type RunStop = 'cancelled' | 'superseded' | 'deviceLost';

export interface RunWatchOptions {
  tickMs: number;
  lockMs: number;
  /** Lateness of a tick that counts as a stall (default 2 s). */
  stallMs?: number;
  owner: LockOwner;
  lock: DeviceLock;
  lockKey: string;
  /** True when the sweep was cancelled (a flag in Redis). */
  cancelled(): Promise<boolean>;
  /** Renews the job lock; false when another run holds the job. */
  renewJob(): Promise<boolean>;
  /** Called once, with why the run must stop. */
  onStop(why: RunStop): void;
  /** Real time in ms (performance.now): stalls are a matter of wall time, whatever clock the sweep uses. */
  now?: () => number;
}

export interface RunWatch {
  /** What disturbed the run at or after `since` (RunWatchOptions.now time), if anything. */
  disturbance(since: number): string | undefined;
  /** Why the run was stopped, if it was. */
  stopped(): RunStop | undefined;
  now(): number;
  stop(): void;
}

export function startRunWatch(o: RunWatchOptions): RunWatch {
  const now = o.now ?? (() => performance.now());
  const stallMs = o.stallMs ?? 2000;
  const notes: Array<{ at: number; what: string }> = [];
  let why: RunStop | undefined;
  let expected = now() + o.tickMs;
  let busy = false;
  const stopWith = (w: RunStop) => {
    if (why) return;
    why = w;
    o.onStop(w);
  };
  const tick = async () => {
    const late = now() - expected;
    expected = now() + o.tickMs;
    if (late >= stallMs)
      notes.push({
        at: now(),
        what: `the platform process was stalled for ${(late / 1000).toFixed(1)} s during the trial`,
      });
    // one check at a time: on a slow Redis the next tick waits for this one
    if (busy || why) return;
    busy = true;
    try {
      if (await o.cancelled()) return stopWith('cancelled');
      if (!(await o.renewJob())) return stopWith('superseded');
      const device = await o.lock.renew(o.lockKey, o.owner, o.lockMs);
      if (device === 'busy') return stopWith('deviceLost');
      if (device === 'taken') notes.push({ at: now(), what: 'the device lock had lapsed (renewed too late)' });
    } catch {
      // Redis unreachable for a moment: the next tick tries again; the locks' expiry covers a longer outage
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), o.tickMs);
  return {
    disturbance: (since) => notes.find((n) => n.at >= since)?.what,
    stopped: () => why,
    now,
    stop: () => clearInterval(timer),
  };
}
