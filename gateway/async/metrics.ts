/**
 * Async invocation metrics on the gateway's registry: queue depth per state and the age of the
 * oldest call still waiting (both read from Redis at scrape time), and counters for
 * submissions, finished calls, retries and callbacks.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface QueueProbe {
  counts(): Promise<Record<string, number>>;
  /** Epoch ms of the oldest waiting or delayed call, undefined when none. */
  oldestTimestamp(): Promise<number | undefined>;
}

export interface AsyncMetrics {
  submitted(fn: string): void;
  finished(fn: string, status: number): void;
  retried(fn: string): void;
  callback(result: 'delivered' | 'failed'): void;
}

export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed'] as const;

export function createAsyncMetrics(
  registry: Registry,
  probe: QueueProbe,
  now: () => number,
  onError: (err: unknown) => void,
): AsyncMetrics {
  new Gauge({
    name: 'gateway_async_queue_depth',
    help: 'Async invocations in the queue, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await probe.counts();
        for (const s of QUEUE_STATES) this.set({ state: s }, counts[s] ?? 0);
      } catch (err) {
        onError(err);
      }
    },
  });
  new Gauge({
    name: 'gateway_async_queue_oldest_age_seconds',
    help: 'Age of the oldest async invocation still waiting to run (0 when none)',
    registers: [registry],
    async collect() {
      try {
        const ts = await probe.oldestTimestamp();
        this.set(ts === undefined ? 0 : Math.max(0, (now() - ts) / 1000));
      } catch (err) {
        onError(err);
      }
    },
  });
  const submitted = new Counter({
    name: 'gateway_async_submitted_total',
    help: 'Async invocations accepted',
    labelNames: ['function_name'],
    registers: [registry],
  });
  const finished = new Counter({
    name: 'gateway_async_finished_total',
    help: 'Async invocations finished (after retries), by final status',
    labelNames: ['function_name', 'code'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'gateway_async_retries_total',
    help: 'Async invocation attempts that will be retried',
    labelNames: ['function_name'],
    registers: [registry],
  });
  const callbacks = new Counter({
    name: 'gateway_async_callbacks_total',
    help: 'Callbacks posted, by result',
    labelNames: ['result'],
    registers: [registry],
  });
  return {
    submitted: (fn) => submitted.inc({ function_name: fn }),
    finished: (fn, status) => finished.inc({ function_name: fn, code: String(status) }),
    retried: (fn) => retries.inc({ function_name: fn }),
    callback: (result) => callbacks.inc({ result }),
  };
}
