/**
 * Every Redis name the async invocations use, built in one place: BullMQ keeps its keys under
 * `<prefix>:<queue>:*`. Tests give each run its own prefix and delete `pattern()` afterwards.
 */
import type { AsyncConfig } from '../../core/config.ts';

export interface AsyncKeys {
  /** BullMQ `prefix` option. */
  prefix: string;
  /** BullMQ queue name. */
  queue: string;
  /** Glob matching every key of this queue (for SCAN-based cleanup). */
  pattern(): string;
}

export function asyncKeys(c: Pick<AsyncConfig, 'prefix' | 'queue'>): AsyncKeys {
  return {
    prefix: c.prefix,
    queue: c.queue,
    pattern: () => `${c.prefix}:${c.queue}:*`,
  };
}
