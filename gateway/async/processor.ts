/**
 * What a worker does with one queued call: take a slot of the function's concurrency bound
 * (or put the job back for a moment), call the function through the gateway, and either throw
 * so BullMQ retries with backoff (retryable status, attempts left) or report the final result
 * to the callback URL. A job still holding a credential header (queued by an older gateway) has
 * it removed from Redis before anything else.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { CallbackSender } from './callback.ts';
import { withoutCredentials, type FunctionCaller } from './function-caller.ts';
import { RETRYABLE_STATUSES, type AsyncJobData, type AsyncJobResult } from './job.ts';
import type { FunctionLimiter } from './limiter.ts';
import type { AsyncMetrics } from './metrics.ts';

export interface ProcessorDeps {
  caller: FunctionCaller;
  callbacks: CallbackSender;
  limiter: FunctionLimiter;
  metrics: AsyncMetrics;
  clock: Clock;
  log: Logger;
  maxAttempts: number;
  /** How long a job that found its function at its concurrency bound waits before trying again. */
  busyDelayMs?: number;
}

/** Thrown to make BullMQ retry the job (with backoff). */
export class RetryableCallError extends Error {
  override name = 'RetryableCallError';
}

export function createProcessor(
  d: ProcessorDeps,
): (job: Job<AsyncJobData, AsyncJobResult>, token?: string) => Promise<AsyncJobResult> {
  const busyDelay = d.busyDelayMs ?? 100;
  return async (job, token) => {
    let data = job.data;
    if (Object.keys(data.headers).length !== Object.keys(withoutCredentials(data.headers)).length) {
      // queued by an older gateway with the caller's credentials: take them out of Redis first
      data = { ...data, headers: withoutCredentials(data.headers) };
      await job.updateData(data);
    }
    const release = d.limiter.tryAcquire(data.function);
    if (!release) {
      await job.moveToDelayed(d.clock.now() + busyDelay, token);
      throw new DelayedError();
    }
    try {
      const attempt = job.attemptsMade + 1;
      const started = d.clock.now();
      const r = await d.caller.call(data);
      const durationSeconds = (d.clock.now() - started) / 1000;
      if (RETRYABLE_STATUSES.has(r.status) && attempt < d.maxAttempts) {
        d.metrics.retried(data.function);
        d.log.info('async call will be retried', {
          callId: data.callId,
          function: data.function,
          status: r.status,
          attempt,
          error: r.error,
        });
        throw new RetryableCallError(
          `function ${data.function} answered ${r.status}${r.error ? ` (${r.error})` : ''} on attempt ${attempt} of ${d.maxAttempts}`,
        );
      }
      d.metrics.finished(data.function, r.status);
      const result: AsyncJobResult = { status: r.status, durationSeconds, attempts: attempt };
      if (data.callbackUrl) {
        try {
          await d.callbacks.send({
            url: data.callbackUrl,
            callId: data.callId,
            function: data.function,
            status: r.status,
            durationSeconds,
            body: r.body,
            contentType: typeof r.headers['content-type'] === 'string' ? r.headers['content-type'] : undefined,
            attempts: attempt,
            error: r.error,
          });
          result.callback = 'delivered';
        } catch (err) {
          result.callback = 'failed';
          d.log.warn('async callback failed', {
            callId: data.callId,
            function: data.function,
            error: (err as Error).message,
          });
        }
        d.metrics.callback(result.callback);
      }
      return result;
    } finally {
      release();
    }
  };
}
