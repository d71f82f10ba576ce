/**
 * OpenFaaS gateway metrics on an injected prom-client Registry. An invocation observer feeds
 * the counters and histogram; `gateway_service_count` is computed at scrape time from the
 * replica directory. `function_name` is always `name.namespace`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReplicaDirectory } from '../nodes/replica-directory.ts';
import type { InvocationObserver } from './invocation-observer.ts';

export function createMetricsObserver(registry: Registry): InvocationObserver {
  const total = new Counter({
    name: 'gateway_function_invocation_total',
    help: 'Function invocations by status code',
    labelNames: ['function_name', 'code'],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'gateway_functions_seconds',
    help: 'Function invocation time taken',
    labelNames: ['function_name', 'code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const started = new Counter({
    name: 'gateway_function_invocation_started',
    help: 'Function invocations started',
    labelNames: ['function_name'],
    registers: [registry],
  });
  return {
    started(e) {
      started.inc({ function_name: e.function });
    },
    finished(e) {
      const labels = { function_name: e.function, code: String(e.status) };
      total.inc(labels);
      seconds.observe(labels, e.durationSeconds);
    },
  };
}

/** Ready replicas per function the nodes report, at scrape time. */
export function registerServiceCount(registry: Registry, directory: ReplicaDirectory): void {
  new Gauge({
    name: 'gateway_service_count',
    help: 'Ready replicas per function',
    labelNames: ['function_name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of directory.views()) this.set({ function_name: v.key }, v.ready.length);
    },
  });
}
