/**
 * The BullMQ worker that runs sweeps. For each job: take the device lock (or put the job back
 * for a while: another sweep has the device), then run the sweep with an abort signal that
 * fires when the sweep is cancelled (a flag in Redis, polled) or the worker stops. A cancelled
 * sweep fails for good ("cancelled"); a sweep cut off by a stopping worker is retried, and a
 * worker that died leaves its job to BullMQ's stalled-job check: either way the next run skips
 * the trials already stored. A bad_request (no sample, an input the function rejects) fails for good.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PlatformError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { DeviceLock } from './device-lock.ts';
import type { ProfilerKeys } from './keys.ts';
import { runSweep, type SweepDeps } from './sweep.ts';
import type { SweepJobData, SweepProgress, SweepResult } from './sweep-job.ts';

export const CANCELLED = 'cancelled';

export interface ProfilerWorkerOptions {
  connection: Redis;
  keys: ProfilerKeys;
  lock: DeviceLock;
  /** Reads cancel flags (any connection). */
  redis: Redis;
  sweep: SweepDeps;
  concurrency: number;
  lockMs: number;
  /** How long a job that found its device busy waits before trying again (default 2 s). */
  busyDelayMs?: number;
  cancelPollMs?: number;
  clock: Clock;
  log: Logger;
}

export interface ProfilerWorker {
  /**
   * Stops taking jobs. By default it waits for running sweeps to end; `interrupt` stops them now and
   * lets each clean up (at most `graceMs`), and they resume on the next start; `abandon` drops them
   * at once, as a crash would.
   */
  close(opts?: { abandon?: boolean; interrupt?: boolean; graceMs?: number }): Promise<void>;
}

export function startProfilerWorker(o: ProfilerWorkerOptions): ProfilerWorker {
  const busyDelay = o.busyDelayMs ?? 2000;
  const pollMs = o.cancelPollMs ?? 300;
  const processor = async (job: Job<SweepJobData, SweepResult>, token?: string, signal?: AbortSignal): Promise<SweepResult> => {
    const data = job.data;
    const lockKey = o.keys.deviceLock(data.node, data.deviceId);
    if (await o.redis.exists(o.keys.cancel(job.id!))) throw new UnrecoverableError(CANCELLED);
    if (!(await o.lock.acquire(lockKey, job.id!, o.lockMs))) {
      const holder = await o.lock.holder(lockKey);
      await job.updateProgress({ phase: 'waiting-for-device', done: 0, total: 0, resumed: 0, etaSeconds: 0, holder } as SweepProgress);
      await job.moveToDelayed(o.clock.now() + busyDelay, token);
      throw new DelayedError();
    }
    const ctl = new AbortController();
    const onStop = () => ctl.abort(new Error('profiler worker stopped'));
    signal?.addEventListener('abort', onStop, { once: true });
    let cancelled = false;
    const timer = setInterval(() => {
      void o.redis.exists(o.keys.cancel(job.id!)).then(
        (n) => {
          if (n && !ctl.signal.aborted) {
            cancelled = true;
            ctl.abort(new Error(CANCELLED));
          }
        },
        () => undefined,
      );
      void o.lock.renew(lockKey, job.id!, o.lockMs).catch(() => undefined);
    }, Math.min(pollMs, Math.floor(o.lockMs / 3)));
    try {
      return await runSweep(o.sweep, job.id!, data, (p) => job.updateProgress(p as unknown as object), ctl.signal);
    } catch (err) {
      // cancelled, even when the sweep failed before the poll saw the flag (the cancel wins)
      if (cancelled || (await o.redis.exists(o.keys.cancel(job.id!)).catch(() => 0))) throw new UnrecoverableError(CANCELLED);
      // bad input (no sample, a body the function rejects): running it again cannot help
      if (err instanceof PlatformError && err.code === 'bad_request') throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      clearInterval(timer);
      signal?.removeEventListener('abort', onStop);
      // a stopping worker keeps the device for its sweep, which resumes; otherwise hand it on
      if (!ctl.signal.aborted || cancelled) await o.lock.release(lockKey, job.id!).catch(() => undefined);
    }
  };
  const worker = new Worker<SweepJobData, SweepResult>(o.keys.queue, processor, {
    connection: o.connection,
    prefix: o.keys.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(500, Math.floor(o.lockMs / 2)),
    maxStalledCount: 20,
  });
  worker.on('error', (err) => o.log.warn('profiler worker error', { error: err.message }));
  worker.on('failed', (job, err) => {
    if (job) o.log.info('sweep stopped', { sweep: job.id, function: `${job.data.function}.${job.data.namespace}`, reason: err.message, attempts: job.attemptsMade });
  });
  worker.on('completed', (job) => o.log.info('sweep done', { sweep: job.id, function: `${job.data.function}.${job.data.namespace}` }));
  return {
    async close(opts = {}) {
      if (opts.abandon) {
        worker.cancelAllJobs('worker stopped');
        await worker.close(true);
      } else if (opts.interrupt) {
        // stop running sweeps now (they resume on the next start) but let each one clean up: its
        // trial function removed, its device lock kept for the resume
        worker.cancelAllJobs('worker stopped');
        let timer: NodeJS.Timeout | undefined;
        const graceful = await Promise.race([worker.close().then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), opts.graceMs ?? 10_000)))]);
        clearTimeout(timer);
        if (!graceful) await worker.close(true);
      } else {
        await worker.close();
      }
    },
  };
}
