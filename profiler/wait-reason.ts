/**
 * What a sweep that is not running waits for, in words for `fastgshare profile` and the queue view
 * (`GET /system/profiles`, `fastgshare profiles`): the device another sweep holds, a free worker,
 * its turn in the queue, or a retry after a failed run.
 */

export interface WaitFacts {
  /** The job's BullMQ state (waiting, delayed, prioritized, active, …). */
  raw: string;
  /** The progress it reported: 'waiting-for-device' when it found its device taken. */
  phase?: string;
  device: string;
  node: string;
  /** The sweep holding the device, when known: its function and how far it is. */
  holder?: { function: string; done?: number; total?: number; id: string };
  /** Runs that failed so far and runs allowed, with the last failure. */
  attemptsMade: number;
  attempts: number;
  failedReason?: string;
  /** Sweeps queued before it (waiting) and sweeps running now, with the workers' concurrency. */
  ahead: number;
  running: number;
  concurrency?: number;
}

/**
 * True when the job waits for its device: delayed by the worker for that reason (not after a
 * failure), or picked up again and checking whether the device is free now (a worker reports
 * `starting` as soon as it has the device).
 */
export function waitsForDevice(f: Pick<WaitFacts, 'raw' | 'phase'>): boolean {
  return (f.raw === 'delayed' || f.raw === 'active') && f.phase === 'waiting-for-device';
}

export function waitReason(f: WaitFacts): string | undefined {
  if (waitsForDevice(f)) {
    const h = f.holder;
    const progress = h && h.total ? `, ${h.done ?? 0}/${h.total} trials done` : '';
    return h
      ? `the device ${f.device} on ${f.node}: the sweep of ${h.function} holds it (job ${h.id}${progress}); one sweep per device at a time`
      : `the device ${f.device} on ${f.node} (another sweep held it a moment ago)`;
  }
  if (f.raw === 'active' || f.raw === 'completed' || f.raw === 'failed') return undefined;
  if (f.raw === 'delayed' && f.attemptsMade > 0) {
    return `a retry (run ${f.attemptsMade + 1} of ${f.attempts}) after a failed run${f.failedReason ? `: ${f.failedReason}` : ''}`;
  }
  if (f.raw === 'delayed') return 'its start time';
  const full = f.concurrency !== undefined && f.running >= f.concurrency;
  if (f.ahead > 0)
    return `its turn: ${f.ahead} sweep${f.ahead === 1 ? '' : 's'} queued before it${full ? `, ${f.running} running (at most ${f.concurrency} at once)` : ''}`;
  if (full) return `a free worker: ${f.running} sweeps running, at most ${f.concurrency} at once`;
  return 'a worker to pick it up';
}
