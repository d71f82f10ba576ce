/**
 * Async invocations for one gateway process: the BullMQ queue the submission route writes to,
 * the workers that run queued calls through the gateway's own `/function/` route, and their
 * metrics. Two Redis connections: the producer fails fast while Redis is away (a submission
 * gets 503 instead of waiting), the workers' connection retries forever
 * and picks the queue up again when Redis returns. Jobs are written by one Redis script, so a
 * call is either queued whole or not at all.
 */
import type { IncomingMessage } from 'node:http';
import { Redis } from 'ioredis';
import { Queue, Worker } from 'bullmq';
import type { Registry } from 'prom-client';
import type { AsyncConfig } from '../../core/config.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvocationCaller } from '../../core/contracts/tenants.ts';
import { createCallbackSender } from './callback.ts';
import type { CallbackPolicy } from './callback-policy.ts';
import { createFunctionCaller } from './function-caller.ts';
import type { AsyncJobData, AsyncJobResult } from './job.ts';
import { asyncKeys } from './keys.ts';
import { createFunctionLimiter } from './limiter.ts';
import { createAsyncMetrics } from './metrics.ts';
import { createProcessor } from './processor.ts';
import { createAsyncSubmitHandler, type AsyncQueue } from './submit.ts';
import type { InvokeHandler } from '../proxy/invoke.ts';

export interface AsyncInvocations {
  /** The `/async-function/` handler (URL already below the mount point: `/name.ns/path?q`). */
  submit: InvokeHandler;
  /** Starts the workers once the gateway listens at `gatewayUrl`. */
  start(gatewayUrl: string): void;
  close(): Promise<void>;
}

export interface AsyncInvocationsDeps {
  config: AsyncConfig;
  redisUrl: string;
  exists: (key: string) => boolean;
  registry: Registry;
  clock: Clock;
  log: Logger;
  /** The gateway's own invocation body limit; queued bodies never exceed it. */
  maxBodyBytes: number;
  /** Longest one attempt may take (ready wait + upstream timeout). */
  callTimeoutMs: number;
  /** Whom invoke auth accepted a submission as (stored with the job instead of credentials). */
  callerOf?: (req: IncomingMessage) => InvocationCaller;
  /** Headers a queued call presents on behalf of its caller (the gateway's internal credential). */
  credentials?: (caller: InvocationCaller) => Record<string, string>;
  /** Where callbacks may go (checked at submission and on the address connected to). */
  callbackPolicy: CallbackPolicy;
}

const BACKOFF_TYPE = 'fastgshare-capped-exponential';

export function createAsyncInvocations(d: AsyncInvocationsDeps): AsyncInvocations {
  const c = d.config;
  const keys = asyncKeys(c);
  const log = d.log;
  let lastRedisWarning = 0;
  const warn = (msg: string, err: unknown) => {
    const now = Date.now();
    if (now - lastRedisWarning < 5000) return;
    lastRedisWarning = now;
    log.warn(msg, { error: (err as Error)?.message ?? String(err) });
  };

  // BullMQ sends its setup commands before the connection is up, so the offline queue stays on;
  // submissions fail fast instead by checking the connection state and by a bounded wait
  const producer = new Redis(d.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(50 * n, 1000) });
  producer.on('error', (err) => warn('async queue: Redis connection error', err));
  const queue = new Queue<AsyncJobData, AsyncJobResult>(keys.queue, { connection: producer, prefix: keys.prefix });
  queue.on('error', (err) => warn('async queue error', err));

  const asyncQueue: AsyncQueue = {
    ready: () => producer.status === 'ready',
    async add(data) {
      await queue.add('invoke', data, {
        jobId: data.callId,
        attempts: c.maxAttempts,
        backoff: { type: BACKOFF_TYPE, delay: c.backoffMs },
        removeOnComplete: { age: c.keepSeconds },
        removeOnFail: { age: c.keepSeconds },
      });
    },
  };

  const metrics = createAsyncMetrics(
    d.registry,
    {
      counts: () =>
        producer.status === 'ready' ? queue.getJobCounts() : Promise.reject(new Error('Redis not connected')),
      async oldestTimestamp() {
        if (producer.status !== 'ready') throw new Error('Redis not connected');
        const [waiting, delayed] = await Promise.all([
          queue.getJobs(['wait'], 0, 0, true),
          queue.getJobs(['delayed', 'prioritized'], 0, 0, true),
        ]);
        const ts = [...waiting, ...delayed].map((j) => j.timestamp).filter((t) => Number.isFinite(t));
        return ts.length ? Math.min(...ts) : undefined;
      },
    },
    () => d.clock.now(),
    (err) => warn('async queue metrics unavailable', err),
  );

  const submit = createAsyncSubmitHandler({
    queue: asyncQueue,
    exists: d.exists,
    clock: d.clock,
    maxBodyBytes: Math.min(c.maxBodyBytes, d.maxBodyBytes),
    submitTimeoutMs: c.submitTimeoutMs,
    onSubmitted: metrics.submitted,
    callerOf: d.callerOf,
    callbackPolicy: d.callbackPolicy,
  });

  let gatewayUrl = '';
  const caller = createFunctionCaller({
    gatewayUrl: () => gatewayUrl,
    timeoutMs: d.callTimeoutMs,
    maxResponseBytes: d.maxBodyBytes,
    credentials: d.credentials,
  });
  const processor = createProcessor({
    caller,
    callbacks: createCallbackSender({ timeoutMs: 10_000, policy: d.callbackPolicy }),
    limiter: createFunctionLimiter(c.functionConcurrency),
    metrics,
    clock: d.clock,
    log: log.child('worker'),
    maxAttempts: c.maxAttempts,
  });
  let worker: Worker<AsyncJobData, AsyncJobResult> | undefined;
  let workerConnection: Redis | undefined;

  return {
    submit,
    start(url) {
      if (worker) return;
      gatewayUrl = url;
      workerConnection = new Redis(d.redisUrl, {
        maxRetriesPerRequest: null,
        retryStrategy: (n) => Math.min(100 * n, 2000),
      });
      workerConnection.on('error', (err) => warn('async worker: Redis connection error', err));
      worker = new Worker<AsyncJobData, AsyncJobResult>(keys.queue, processor, {
        connection: workerConnection,
        prefix: keys.prefix,
        concurrency: c.concurrency,
        // a call left active by a worker that lost Redis is taken up again once its lock lapses;
        // BullMQ fails a job stalled more than maxStalledCount times, so allow several outages
        lockDuration: c.lockMs,
        stalledInterval: Math.max(500, Math.floor(c.lockMs / 2)),
        maxStalledCount: 20,
        settings: {
          backoffStrategy: (attemptsMade: number) =>
            Math.min(c.backoffMaxMs, c.backoffMs * 2 ** Math.max(0, attemptsMade - 1)),
        },
      });
      worker.on('error', (err) => warn('async worker error', err));
      worker.on('failed', (job, err) => {
        if (job && job.attemptsMade >= c.maxAttempts)
          log.warn('async call failed for good', { callId: job.id, error: err.message });
      });
      log.info('async invocations on', {
        queue: keys.queue,
        prefix: keys.prefix,
        concurrency: c.concurrency,
        perFunction: c.functionConcurrency,
        attempts: c.maxAttempts,
      });
    },
    async close() {
      const bounded = (p: Promise<unknown>, ms: number) =>
        Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);
      if (worker) await bounded(worker.close(), 5000);
      await bounded(queue.close(), 2000);
      caller.close();
      workerConnection?.disconnect();
      producer.disconnect();
    },
  };
}
