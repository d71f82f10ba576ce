/**
 * Dynamic batching for one executor (Triton-style, with Nexus/Clockwork-style admission):
 * - requests queue (bounded: `maxQueue`); one batch runs at a time;
 * - when the executor is free it takes the largest queued batch up to `maxBatch`; with fewer queued
 *   it waits for a fuller batch, at most `maxQueueDelayMs` after the oldest arrived and never so
 *   long that a queued request's deadline could no longer be met — and only while another request
 *   is expected in that time (from the recent mean gap between arrivals, an EWMA), so under light
 *   or closed-loop load a request runs at once instead of waiting for a batch that will not come;
 *   a lone request (nothing else queued, running or on its way) never waits unless recent
 *   arrivals found other work in flight (concurrent load): at concurrency 1 it runs at once;
 *   and the wait ends once arrivals pause (nothing new for PAUSE_GAPS mean gaps, nothing on its
 *   way): a closed loop of a few clients sends its requests in one burst and nothing more until
 *   they are answered, so waiting out the whole delay only added it to every call (4 clients of
 *   text-direction: 51 items/s at p50 77 ms, against 176 items/s for 1 client);
 * - on arrival, the completion time is estimated from the queue ahead and the online estimate of
 *   batch latency; a request that cannot finish within its SLO is rejected at once
 *   (AdmissionRejectedError, code too_many_requests → HTTP 429), as is one arriving to a full queue;
 *   but a request arriving to an idle replica (nothing queued, nothing running) runs: a latency
 *   estimate alone never refuses work there — it may be a warm-up figure or one taken during an
 *   overload that has passed, and only served work corrects it; only a device token out of reach
 *   within the SLO (the replica's quota used up for now) still refuses it;
 * - a queued request whose deadline can no longer be met even alone is rejected instead of served late
 *   (except one admitted to an idle replica, which is served);
 * - with a device gate (token-gate.ts, on a shared device) each batch runs under a time token: the
 *   batch is dispatched at once and waits for the grant, its latency is measured from the moment
 *   it starts computing, and every estimate above adds the gate's expected token wait (0 while a
 *   held token still covers the work) — so a replica whose share is used up rejects or drops what
 *   the wait would make late instead of serving it late.
 */
import type { Clock } from 'fastgshare/core/clock.ts';
import { PlatformError, toPlatformError } from 'fastgshare/core/errors.ts';
import type { Logger } from 'fastgshare/core/logger.ts';
import { AdmissionRejectedError } from './admission-error.ts';
import type { LatencyEstimator } from './latency-estimator.ts';
import type { Timers } from './timers.ts';
import { ungatedDevice, type DeviceGate } from './token-gate.ts';

/** A batch may run this much longer than one item when one item alone already overruns the token. */
const OVERRUN_BATCH_SLACK = 1.25;
/**
 * Arrivals have paused when none came for this many mean gaps: after a burst, nothing more is coming (under
 * Poisson arrivals, no arrival for 3 mean gaps happens 5 % of the time).
 */
const PAUSE_GAPS = 3;
export interface BatcherOptions<I, O> {
  /** Runs one batch; resolves one output per item, in order. */
  runBatch(items: I[]): Promise<O[]>;
  maxBatch: number;
  /** Most requests waiting (not counting the running batch). */
  maxQueue: number;
  /** Latency objective per request, ms from arrival. */
  sloMs: number;
  /**
   * Longest wait for a fuller batch. Default: min(`queueDelayFraction` × SLO − ℓ(maxBatch),
   * ℓ(maxBatch)), at least 0 (recomputed as the latency estimate moves).
   */
  maxQueueDelayMs?: number;
  /** Share of the SLO that may be spent waiting for a fuller batch plus running it; default 0.5. */
  queueDelayFraction?: number;
  estimator: LatencyEstimator;
  /** Device tokens on a shared device; default ungated. */
  gate?: DeviceGate;
  /**
   * Requests on their way to this batcher (e.g. being decoded): while some are, a lone queued
   * request may wait for them. Default: none.
   */
  incoming?: () => number;
  clock: Clock;
  timers: Timers;
  logger: Logger;
}

export interface BatcherStats {
  queued: number;
  running: number;
  batches: number;
  served: number;
  rejected: Record<string, number>;
}

export interface Batcher<I, O> {
  /** Queues one request; `sloMs` overrides the default objective for it. */
  submit(item: I, options?: { sloMs?: number }): Promise<O>;
  /** Expected completion (ms from now) of a request arriving now; Infinity when the queue is full. */
  expectedLatencyMs(): number;
  /** The current bound on the wait for a fuller batch. */
  queueDelayMs(): number;
  stats(): BatcherStats;
  /** Rejects queued requests and resolves when the running batch has finished. */
  close(): Promise<void>;
}

interface Entry<I, O> {
  item: I;
  arrival: number;
  deadline: number;
  /**
   * Admitted to an idle replica, whatever the estimates predict: it is served, never shed on an
   * estimate (and its measurement corrects the estimate).
   */
  idleAdmit?: boolean;
  resolve(o: O): void;
  reject(e: Error): void;
}

function positive(name: string, v: number, whole = true): void {
  if (!(v > 0) || (whole && !Number.isInteger(v)))
    throw new PlatformError(
      'bad_request',
      `batcher: ${name} must be a positive${whole ? ' whole' : ''} number, got ${v}`,
    );
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const { maxBatch, maxQueue, clock, timers, estimator, logger } = options;
  const gate = options.gate ?? ungatedDevice;
  positive('maxBatch', maxBatch);
  positive('maxQueue', maxQueue);
  positive('sloMs', options.sloMs, false);
  const fraction = options.queueDelayFraction ?? 0.5;
  if (!(fraction > 0 && fraction <= 1))
    throw new PlatformError('bad_request', `batcher: queueDelayFraction must be in (0, 1], got ${fraction}`);
  if (options.maxQueueDelayMs !== undefined && !(options.maxQueueDelayMs >= 0))
    throw new PlatformError('bad_request', `batcher: maxQueueDelayMs must be ≥ 0, got ${options.maxQueueDelayMs}`);

  const queue: Entry<I, O>[] = [];
  /** The running batch; `start` is when it began computing (undefined while it waits for a token). */
  let running: { size: number; start?: number; done: Promise<void> } | undefined;
  let cancelTimer: (() => void) | undefined;
  let closed = false;
  const stats: BatcherStats = { queued: 0, running: 0, batches: 0, served: 0, rejected: {} };

  // Waiting longer than a full batch takes to run buys little batching (under load the queue
  // fills while the executor is busy anyway) and, at low load, is pure added latency.
  const queueDelayMs = () =>
    options.maxQueueDelayMs ??
    Math.max(0, Math.min(fraction * options.sloMs - estimator.estimate(maxBatch), estimator.estimate(maxBatch)));
  /**
   * Mean gap between arrivals (EWMA, ms); Infinity until two requests have arrived. A gap in which a batch was
   * answered does not count: a closed-loop client sends its next request only after its answer, so that gap says how
   * long the batch took, not how soon another request comes.
   */
  let arrivalGapMs = Infinity;
  let lastAnswer = -Infinity;
  let schedulePending = false;
  let lastArrival: number | undefined;
  /**
   * Share of recent arrivals that found other work in flight (queued, running or on its way;
   * EWMA). Near 0 when requests come one at a time (concurrency 1: the next is sent only after
   * this one is answered, so waiting for it can only add latency).
   */
  let concurrentArrivals = 0;
  const incoming = options.incoming ?? (() => 0);
  const noteArrival = (now: number) => {
    const concurrent = queue.length > 0 || running !== undefined || incoming() > 0 ? 1 : 0;
    concurrentArrivals = 0.8 * concurrentArrivals + 0.2 * concurrent;
    if (lastArrival !== undefined && lastAnswer <= lastArrival) {
      const gap = now - lastArrival;
      arrivalGapMs = arrivalGapMs === Infinity ? gap : 0.8 * arrivalGapMs + 0.2 * gap;
    }
    lastArrival = now;
  };

  /** Requests that will wait: an idle executor takes the first batch of the queue at once. */
  const waiting = () => (running ? queue.length : Math.max(0, queue.length - maxBatch));

  const reject = (e: Entry<I, O>, err: AdmissionRejectedError) => {
    stats.rejected[err.reason] = (stats.rejected[err.reason] ?? 0) + 1;
    e.reject(err);
  };

  /** When a request joining the queue at `position` (0-based) would finish, absolute ms. */
  function completionAt(position: number, now: number): number {
    const fullBefore = Math.floor(position / maxBatch);
    const own = position + 1 - fullBefore * maxBatch;
    const work = fullBefore * estimator.estimate(maxBatch) + estimator.estimate(own);
    let freeAt: number;
    if (!running) freeAt = now + gate.expectedWaitMs(work);
    else if (running.start === undefined)
      freeAt = now + gate.expectedWaitMs(estimator.estimate(running.size) + work) + estimator.estimate(running.size);
    else freeAt = Math.max(now, running.start + estimator.estimate(running.size));
    return freeAt + work;
  }

  function schedule(): void {
    cancelTimer?.();
    cancelTimer = undefined;
    if (running || closed) return;
    const now = clock.now();
    // Drop what can no longer be served in time, even alone.
    for (let i = queue.length - 1; i >= 0; i--) {
      const e = queue[i];
      if (!e.idleAdmit && now + gate.expectedWaitMs(estimator.estimate(1)) + estimator.estimate(1) > e.deadline) {
        queue.splice(i, 1);
        reject(
          e,
          new AdmissionRejectedError(
            'deadline_passed',
            `request dropped: its deadline can no longer be met (waited ${Math.round(now - e.arrival)} ms)`,
            { waitedMs: now - e.arrival },
          ),
        );
      }
    }
    if (queue.length === 0) return;
    if (queue.length >= maxBatch) return dispatch();
    // A lone request on an idle replica (nothing else queued, running or on its way) runs at once
    // unless recent arrivals show concurrent load (then another is likely to come while it waits):
    // at concurrency 1 nobody else is coming.
    if (queue.length === 1 && incoming() === 0 && concurrentArrivals < 0.5) return dispatch();
    const size = queue.length;
    const latestStart =
      Math.min(...queue.map((e) => e.deadline)) -
      estimator.estimate(size + 1) -
      gate.expectedWaitMs(estimator.estimate(size + 1));
    const newest = queue[queue.length - 1]!.arrival;
    const dispatchAt = Math.min(queue[0].arrival + queueDelayMs(), latestStart);
    if (dispatchAt <= now) return dispatch();
    // another request is not expected before we would have to dispatch anyway: waiting only adds
    // latency (light or closed-loop load), so run now
    if (arrivalGapMs !== Infinity && newest + arrivalGapMs > dispatchAt) return dispatch();
    // arrivals paused (a burst is over) and nothing is on its way: nobody else is coming soon
    const pausedAt = arrivalGapMs === Infinity ? Infinity : newest + PAUSE_GAPS * arrivalGapMs;
    if (pausedAt <= now && incoming() === 0) return dispatch();
    cancelTimer = timers.after(Math.max(0, Math.min(dispatchAt, pausedAt) - now), schedule);
  }

  function dispatch(): void {
    // On a shared device the batch is formed when the token is granted (more may have queued
    // meanwhile), and sized so that its estimated time fits what is left of the token: a batch far
    // longer than the token would overrun it and push the replica past its limit.
    let batch: Entry<I, O>[] = [];
    const current: { size: number; start?: number; done: Promise<void> } = {
      size: Math.min(queue.length, maxBatch),
      done: Promise.resolve(),
    };
    stats.batches++;
    current.done = (async () => {
      try {
        const expected = estimator.estimate(current.size);
        // told to the scheduler: however short the token, the batch cut to it runs at least this long;
        // and the most urgent queued request must start within its slack to meet its deadline
        const minRun = Math.min(expected, OVERRUN_BATCH_SLACK * estimator.estimate(1));
        const slack = queue.length ? Math.min(...queue.map((e) => e.deadline)) - clock.now() - minRun : undefined;
        const outputs = await gate.run(
          expected,
          (quotaLeftMs) => {
            let n = Math.min(queue.length, maxBatch);
            // when even one item overruns what is left of the token (a slow model under tokens cut
            // short for others' SLOs), the overrun happens anyway: items that add at most a quarter
            // to it come almost free, where batches of one would never catch up with the load
            const room = Math.max(quotaLeftMs, OVERRUN_BATCH_SLACK * estimator.estimate(1));
            while (n > 1 && estimator.estimate(n) > room) n--;
            batch = queue.splice(0, n);
            current.size = batch.length;
            current.start = clock.now();
            return batch.length ? options.runBatch(batch.map((e) => e.item)) : Promise.resolve([]);
          },
          { minRunMs: minRun, slackMs: slack },
        );
        if (batch.length === 0) return;
        if (outputs.length !== batch.length)
          throw new PlatformError('internal', `batch of ${batch.length} gave ${outputs.length} results`);
        estimator.observe(batch.length, clock.now() - current.start!);
        stats.served += batch.length;
        batch.forEach((e, i) => e.resolve(outputs[i]));
      } catch (err) {
        const e = toPlatformError(err);
        logger.warn('batch failed', { size: batch.length, err: e });
        for (const entry of batch) entry.reject(e);
      } finally {
        running = undefined;
        lastAnswer = clock.now();
        schedule();
      }
    })();
    running = current;
  }

  return {
    submit(item, submitOptions) {
      const sloMs = submitOptions?.sloMs ?? options.sloMs;
      return new Promise<O>((resolve, rejectPromise) => {
        const now = clock.now();
        const entry: Entry<I, O> = { item, arrival: now, deadline: now + sloMs, resolve, reject: rejectPromise };
        if (closed) return reject(entry, new AdmissionRejectedError('closed', 'the replica is shutting down'));
        if (waiting() >= maxQueue) {
          return reject(
            entry,
            new AdmissionRejectedError(
              'queue_full',
              `queue full: ${waiting()} requests waiting (limit ${maxQueue}); retry later or add replicas`,
              { queued: waiting(), maxQueue },
            ),
          );
        }
        // Estimates only change when work runs: one taken while the device was crowded (a warm-up
        // beside other replicas' warm-ups, an overload that has passed) would otherwise shed the
        // very requests that would correct it. With nothing queued and nothing running there is no
        // load to protect: the request runs — unless the device token itself is out of reach within
        // the SLO (the replica's quota is used up for now: the expected wait fades to 0 over one
        // window without use), which is the share limit speaking, not a stale estimate.
        if (queue.length === 0 && !running && gate.expectedWaitMs(estimator.estimate(1)) <= sloMs)
          entry.idleAdmit = true;
        const expected = completionAt(queue.length, now) - now;
        if (!entry.idleAdmit && expected > sloMs) {
          return reject(
            entry,
            new AdmissionRejectedError(
              'slo_unattainable',
              `cannot finish within the ${sloMs} ms SLO: expected ${Math.round(expected)} ms with ${queue.length} queued`,
              {
                expectedMs: expected,
                sloMs,
                queued: queue.length,
              },
            ),
          );
        }
        noteArrival(now);
        queue.push(entry);
        // same-tick arrivals join one batch: decide once the current burst of submissions is in
        if (!schedulePending) {
          schedulePending = true;
          queueMicrotask(() => {
            schedulePending = false;
            schedule();
          });
        }
      });
    },
    expectedLatencyMs() {
      return waiting() >= maxQueue ? Infinity : completionAt(queue.length, clock.now()) - clock.now();
    },
    queueDelayMs,
    stats: () => ({ ...stats, queued: queue.length, running: running?.size ?? 0, rejected: { ...stats.rejected } }),
    async close() {
      closed = true;
      cancelTimer?.();
      for (const e of queue.splice(0)) reject(e, new AdmissionRejectedError('closed', 'the replica is shutting down'));
      await running?.done;
    },
  };
}
