/**
 * The BullMQ worker that runs sweeps. For each job: take the device lock for this run (or put the
 * job back for a while: another sweep has the device), then run the sweep with an abort signal that
 * fires when the sweep is cancelled, when another run took the job over (this run's job lock lapsed),
 * when another sweep took the device, or when the worker stops (run-watch.ts). A cancelled sweep
 * fails for good ("cancelled"); a sweep cut off by a stopping worker is retried and keeps its device
 * (the lock is parked for it), and a worker that died leaves its job to BullMQ's stalled-job check:
 * either way the next run skips the trials already stored. A bad_request (no sample, an input the
 * function rejects) fails for good. With automatic profiling off, a sweep the auto-scaler queued is
 * not run: it ends cancelled.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PlatformError } from '../core/errors.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { DeviceLock, LockOwner } from './device-lock.ts';
import type { ProfilerKeys } from './keys.ts';
import { startRunWatch, type RunStop } from './run-watch.ts';
import { runSweep, type SweepDeps } from './sweep.ts';
import type { SweepJobData, SweepProgress, SweepResult } from './sweep-job.ts';
import { trialConfigs } from './grid.ts';

export const CANCELLED = 'cancelled';
/** Why a sweep the auto-scaler queued ended without running: automatic profiling is off. */
export const CANCELLED_AUTO_OFF = 'cancelled: automatic profiling is off (FASTGSHARE_PROFILER_AUTO=false)';

/** True for a job's failure reason that means it was cancelled (by a person, or automatic profiling turned off). */
export function isCancelReason(reason: string | undefined): boolean {
  return reason === CANCELLED || (reason?.startsWith(`${CANCELLED}:`) ?? false);
}

export interface ProfilerWorkerOptions {
  connection: Redis;
  keys: ProfilerKeys;
  lock: DeviceLock;
  /** Reads cancel flags and job locks (any connection). */
  redis: Redis;
  sweep: SweepDeps;
  concurrency: number;
  lockMs: number;
  /** How long a job that found its device busy waits before trying again (default 2 s). */
  busyDelayMs?: number;
  cancelPollMs?: number;
  /** Lateness of the watch's tick that counts as a stall of the process (default 2 s; run-watch.ts). */
  stallMs?: number;
  /** False: sweeps the auto-scaler queued are not run (FASTGSHARE_PROFILER_AUTO=false). Default true. */
  automatic?: boolean;
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
  const cancelled = async (job: Job) => (await o.redis.exists(o.keys.cancel(job.id!))) > 0;

  /** Back to the queue until the device is free, keeping what the progress said about the trials done. */
  const waitForDevice = async (
    job: Job<SweepJobData, SweepResult>,
    token: string | undefined,
    lockKey: string,
  ): Promise<never> => {
    const holder = await o.lock.holder(lockKey);
    const prev =
      typeof job.progress === 'object' && job.progress !== null
        ? (job.progress as unknown as Partial<SweepProgress>)
        : {};
    const total = job.data.device === 'emulated' ? 0 : trialConfigs(job.data.grid).length;
    const progress: SweepProgress = {
      phase: 'waiting-for-device',
      done: prev.done ?? 0,
      total: prev.total || total,
      resumed: prev.resumed ?? 0,
      etaSeconds: prev.etaSeconds ?? 0,
      ...(holder ? { holder: holder.sweep } : {}),
    };
    await job.updateProgress(progress as unknown as object);
    await job.moveToDelayed(o.clock.now() + busyDelay, token);
    throw new DelayedError();
  };

  const processor = async (
    job: Job<SweepJobData, SweepResult>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<SweepResult> => {
    const data = job.data;
    const lockKey = o.keys.deviceLock(data.node, data.deviceId);
    const owner: LockOwner = { sweep: job.id!, run: token ?? randomUUID() };
    if (await cancelled(job)) throw new UnrecoverableError(CANCELLED);
    if (o.automatic === false && data.origin === 'autoscaler') throw new UnrecoverableError(CANCELLED_AUTO_OFF);
    if ((await o.lock.acquire(lockKey, owner, o.lockMs)) === 'busy') return waitForDevice(job, token, lockKey);
    // the device is this run's: no longer waiting (until the sweep reports its first trial)
    const prev =
      typeof job.progress === 'object' && job.progress !== null
        ? (job.progress as unknown as Partial<SweepProgress>)
        : {};
    if (prev.phase === 'waiting-for-device') {
      await job.updateProgress({
        phase: 'starting',
        done: prev.done ?? 0,
        total: prev.total ?? 0,
        resumed: prev.resumed ?? 0,
        etaSeconds: prev.etaSeconds ?? 0,
      } satisfies SweepProgress as unknown as object);
    }
    const ctl = new AbortController();
    const onStop = () => ctl.abort(new Error('profiler worker stopped'));
    signal?.addEventListener('abort', onStop, { once: true });
    const reasons: Record<RunStop, string> = {
      cancelled: CANCELLED,
      superseded: 'another run took this sweep over (this run renewed its job lock too late)',
      deviceLost: 'another sweep took the device (this run renewed its device lock too late)',
    };
    const watch = startRunWatch({
      tickMs: Math.min(pollMs, Math.floor(o.lockMs / 3)),
      lockMs: o.lockMs,
      stallMs: o.stallMs,
      owner,
      lock: o.lock,
      lockKey,
      cancelled: () => cancelled(job),
      renewJob: async () => (token ? (await job.extendLock(token, o.lockMs)) === 1 : true),
      onStop: (why) => {
        if (why !== 'cancelled')
          o.log.warn('sweep run stopped', {
            sweep: job.id,
            function: `${data.function}.${data.namespace}`,
            reason: reasons[why],
          });
        ctl.abort(new Error(reasons[why]));
      },
    });
    const stoppedBy = () => watch.stopped();
    try {
      return await runSweep(
        o.sweep,
        job.id!,
        data,
        (p) => job.updateProgress(p as unknown as object),
        ctl.signal,
        watch,
      );
    } catch (err) {
      // cancelled, even when the sweep failed before the watch saw the flag (the cancel wins)
      if (stoppedBy() === 'cancelled' || (await cancelled(job).catch(() => false)))
        throw new UnrecoverableError(CANCELLED);
      // the job is another run's now: nothing to record (BullMQ refuses this run's outcome anyway)
      if (stoppedBy() === 'superseded') throw err;
      if (stoppedBy() === 'deviceLost') return waitForDevice(job, token, lockKey);
      // bad input (no sample, a body the function rejects): running it again cannot help
      if (err instanceof PlatformError && err.code === 'bad_request') throw new UnrecoverableError(err.message);
      throw err;
    } finally {
      watch.stop();
      signal?.removeEventListener('abort', onStop);
      // a stopping worker keeps the device for the sweep's next run; otherwise hand it on
      const workerStopped = ctl.signal.aborted && stoppedBy() === undefined;
      if (workerStopped) await o.lock.park(lockKey, owner, o.lockMs).catch(() => undefined);
      else await o.lock.release(lockKey, owner).catch(() => undefined);
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
    if (job)
      o.log.info('sweep stopped', {
        sweep: job.id,
        function: `${job.data.function}.${job.data.namespace}`,
        reason: err.message,
        attempts: job.attemptsMade,
      });
  });
  worker.on('completed', (job) =>
    o.log.info('sweep done', { sweep: job.id, function: `${job.data.function}.${job.data.namespace}` }),
  );
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
        const graceful = await Promise.race([
          worker.close().then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), opts.graceMs ?? 10_000))),
        ]);
        clearTimeout(timer);
        if (!graceful) await worker.close(true);
      } else {
        await worker.close();
      }
    },
  };
}
