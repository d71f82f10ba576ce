/**
 * Counts finished invocations per function and adds them to the stored `invocationCount` with
 * `$inc` every `flushMs` (and on close), so the count survives gateway restarts. Readers that
 * add `pending()` to a stored count do so inside `read()`, which never overlaps a flush, so a
 * count is seen exactly once: either still pending or already stored.
 */
import type { Models } from '../../core/store/models.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvocationObserver } from './invocation-observer.ts';

export interface InvocationCounts {
  /** Counted but not yet written to the store. */
  pending(key: string): number;
  /** Runs `fn` (which reads stored counts) while no flush is under way. */
  read<T>(fn: () => Promise<T>): Promise<T>;
}

export interface InvocationCounter extends InvocationObserver, InvocationCounts {
  flush(): Promise<void>;
  start(): void;
  close(): Promise<void>;
}

type Count = { name: string; namespace: string; n: number };

export function createInvocationCounter(opts: { models: Models; log: Logger; flushMs?: number }): InvocationCounter {
  const flushMs = opts.flushMs ?? 5_000;
  let counts = new Map<string, Count>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  let writing = false;
  let readers = 0;
  let readersDone: (() => void) | undefined;

  async function write(batch: Map<string, Count>): Promise<void> {
    for (const [key, c] of batch) {
      try {
        await opts.models.Function.updateOne(
          { namespace: c.namespace, name: c.name },
          { $inc: { invocationCount: c.n } },
        );
      } catch (err) {
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
    pending: (key) => counts.get(key)?.n ?? 0,
    async read(fn) {
      while (writing) await flushing;
      readers++;
      try {
        return await fn();
      } finally {
        if (--readers === 0) readersDone?.();
      }
    },
    flush() {
      flushing = flushing.then(async () => {
        while (readers > 0) await new Promise<void>((r) => (readersDone = r));
        if (counts.size === 0) return;
        writing = true;
        const batch = counts;
        counts = new Map();
        try {
          await write(batch);
        } finally {
          writing = false;
        }
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
