/**
 * Every Redis name the profiler uses, built in one place. BullMQ keeps its keys under
 * `<prefix>:<queue>:*`, and the profiler's own keys (latest sweep per function, cancel flags,
 * device locks, the auto-scaler's requests) live under the same pattern, so one SCAN removes them all.
 */
export interface ProfilerKeys {
  prefix: string;
  queue: string;
  /** Hash: `name.namespace` → id of the latest sweep job. */
  latest(): string;
  /** Set while a sweep should stop. */
  cancel(jobId: string): string;
  /** Held by the sweep run that owns a device (node + device id). */
  deviceLock(node: string, device: string): string;
  /** BullMQ's own lock of a job (its value is the token of the run that holds the job). */
  jobLock(jobId: string): string;
  /** Hash: `name.namespace` → the auto-scaler's sweeps of it (count, last queued, last job). */
  autoRequests(): string;
  /** Held for a moment while a gateway decides whether to queue a sweep of `name.namespace`. */
  autoGuard(fnKey: string): string;
  pattern(): string;
}

export function profilerKeys(c: { prefix: string; queue: string }): ProfilerKeys {
  const base = `${c.prefix}:${c.queue}`;
  return {
    prefix: c.prefix,
    queue: c.queue,
    latest: () => `${base}:latest`,
    cancel: (jobId) => `${base}:cancel:${jobId}`,
    deviceLock: (node, device) => `${base}:device-lock:${node}:${device}`,
    jobLock: (jobId) => `${base}:${jobId}:lock`,
    autoRequests: () => `${base}:auto-requests`,
    autoGuard: (fnKey) => `${base}:auto-guard:${fnKey}`,
    pattern: () => `${base}:*`,
  };
}
