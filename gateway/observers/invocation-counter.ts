/**
 * Counts finished invocations per function and adds them to the stored `invocationCount` with
 * `$inc` every `flushMs` (and on close), so the count survives gateway restarts.
 */
import type { Models } from '../../core/store/models.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvocationObserver } from './invocation-observer.ts';

export interface InvocationCounter extends InvocationObserver {
  /** Counted but not yet written to the store. */
  pending(key: string): number;
  flush(): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

export function createInvocationCounter(opts: { models: Models; log: Logger; flushMs?: number }): InvocationCounter {
  const flushMs = opts.flushMs ?? 5_000;
  let counts = new Map<string, { name: string; namespace: string; n: number }>();
  /** Being written now: still reported as pending until the store has them. */
  let writing = new Map<string, { name: string; namespace: string; n: number }>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  async function write(batch: typeof counts): Promise<void> {
    for (const [key, c] of batch) {
      try {
        await opts.models.Function.updateOne({ namespace: c.namespace, name: c.name }, { $inc: { invocationCount: c.n } });
        batch.delete(key);
      } catch (err) {
        batch.delete(key);
        // keep the count for the next flush
        const cur = counts.get(key);
        if (cur) cur.n += c.n;
        else counts.set(key, c);
        opts.log.warn('cannot store invocation count; will retry', { function: key, error: (err as Error).message });
      }
    }
  }

  const counter: InvocationCounter = {
    finished(e) {
      const c = counts.get(e.function);
      if (c) c.n++;
      else counts.set(e.function, { name: e.name, namespace: e.namespace, n: 1 });
    },
    pending: (key) => (counts.get(key)?.n ?? 0) + (writing.get(key)?.n ?? 0),
    flush() {
      flushing = flushing.then(() => {
        if (counts.size === 0) return;
        writing = counts;
        counts = new Map();
        return write(writing);
      });
      return flushing;
    },
    start() {
      timer = setInterval(() => void counter.flush(), flushMs);
      timer.unref();
    },
    async close() {
      clearInterval(timer);
      await counter.flush();
    },
  };
  return counter;
}
