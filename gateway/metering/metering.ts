/**
 * Metering wired together: the invocation observer and the node poller feed one writer, which
 * is flushed every `flushMs`; nodes are read every `pollMs`; old minutes are rolled up to
 * hours every hour. Run it in one gateway of a deployment, or in several: the node cursors
 * make sure each counter's growth is added once.
 */
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { InvocationObserver } from '../observers/invocation-observer.ts';
import type { FunctionInfoCache } from '../tenants/function-info.ts';
import { createUsageWriter } from './usage-writer.ts';
import { createInvocationMeter } from './invocation-meter.ts';
import { createNodeUsagePoller } from './node-usage-poller.ts';
import { createMeterCursors } from './meter-cursors.ts';
import { createRollup } from './rollup.ts';
import type { UsageSource } from './usage-source.ts';
import { HOUR_MS } from './usage-fields.ts';

export interface MeteringOptions {
  pollMs: number;
  flushMs: number;
  minuteRetentionDays: number;
}

export interface Metering {
  observer: InvocationObserver;
  start(): void;
  /** Reads the nodes and writes everything metered so far. */
  flush(): Promise<void>;
  rollup(): Promise<number>;
  close(): Promise<void>;
}

export function createMetering(d: {
  models: Models;
  sources: UsageSource[];
  info: FunctionInfoCache;
  clock: Clock;
  log: Logger;
  options: MeteringOptions;
}): Metering {
  const log = d.log.child('metering');
  const writer = createUsageWriter({ models: d.models, log });
  const observer = createInvocationMeter({ writer, info: d.info, clock: d.clock, log });
  const poller = createNodeUsagePoller({
    sources: d.sources,
    cursors: createMeterCursors(d.models),
    writer,
    info: d.info,
    clock: d.clock,
    log,
    maxGapMs: 2 * d.options.pollMs,
  });
  const rollup = createRollup({ models: d.models, clock: d.clock, minuteRetentionDays: d.options.minuteRetentionDays });
  const timers: NodeJS.Timeout[] = [];
  let polling: Promise<void> = Promise.resolve();
  const poll = () => (polling = polling.then(() => poller.pollOnce()));
  const guard = (what: string, p: Promise<unknown>) =>
    p.catch((err: Error) => log.warn(`metering: ${what} failed`, { error: err.message }));
  return {
    observer,
    start() {
      void guard('first node read', poll());
      void guard('roll-up', rollup.run());
      timers.push(setInterval(() => void guard('node read', poll()), d.options.pollMs).unref());
      timers.push(setInterval(() => void guard('flush', writer.flush()), d.options.flushMs).unref());
      timers.push(setInterval(() => void guard('roll-up', rollup.run()), HOUR_MS).unref());
    },
    async flush() {
      await poll();
      await observer.idle();
      await writer.flush();
    },
    rollup: () => rollup.run(),
    async close() {
      for (const t of timers) clearInterval(t);
      await guard('last node read', polling);
      await observer.idle();
      await guard('last flush', writer.flush());
    },
  };
}
