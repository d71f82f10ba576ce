/**
 * Samples CPU and memory of every watched process group with one /proc scan per period, and
 * reports each group's cores in use (CPU-time delta over wall-time delta) and resident bytes.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { ProcReader } from './proc.ts';

export interface UsageSample {
  /** Cores in use over the last period (1.0 = one core busy). */
  cpu: number;
  rssBytes: number;
}

export type UsageListener = (sample: UsageSample) => void;

export interface UsageSampler {
  /** Watches a group until the returned function is called. */
  watch(pgid: number, listener: UsageListener): () => void;
  /** Takes one sample of every watched group now. */
  sampleNow(): Promise<void>;
  stop(): void;
}

interface Watched {
  listener: UsageListener;
  lastTicks?: number;
  lastAt?: number;
}

export function createUsageSampler(opts: { proc: ProcReader; clock: Clock; intervalMs: number; log: Logger }): UsageSampler {
  const watched = new Map<number, Watched>();
  let busy = false;
  const sampleNow = async () => {
    if (busy || watched.size === 0) return;
    busy = true;
    try {
      const usage = await opts.proc.groups(watched.keys());
      const now = opts.clock.now();
      for (const [pgid, w] of watched) {
        const g = usage.get(pgid);
        if (!g) continue;
        let cpu = 0;
        if (w.lastTicks !== undefined && w.lastAt !== undefined && now > w.lastAt) {
          cpu = Math.max(0, g.cpuTicks - w.lastTicks) / opts.proc.ticksPerSecond / ((now - w.lastAt) / 1000);
        }
        w.lastTicks = g.cpuTicks;
        w.lastAt = now;
        try {
          w.listener({ cpu: Math.round(cpu * 1000) / 1000, rssBytes: g.rssBytes });
        } catch (err) {
          opts.log.error('usage listener failed', { pgid, err });
        }
      }
    } catch (err) {
      opts.log.warn('cannot sample process usage', { err });
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void sampleNow(), opts.intervalMs);
  timer.unref();
  return {
    watch(pgid, listener) {
      const w: Watched = { listener };
      watched.set(pgid, w);
      return () => {
        if (watched.get(pgid) === w) watched.delete(pgid);
      };
    },
    sampleNow,
    stop() {
      clearInterval(timer);
      watched.clear();
    },
  };
}
