/**
 * Samples CPU and memory of every watched process group with one /proc scan per period, and
 * reports each group's cores in use (CPU-time delta over wall-time delta) and resident bytes.
 * Groups watched with `deviceMemory` (cuda replicas) also get the GPU memory their processes
 * hold, from one `DeviceMemoryReader` query per period (made only while such a group is watched).
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { ProcReader } from './proc.ts';
import type { DeviceMemoryReader } from './device-memory.ts';

/** GPU memory held by the processes of one group, or why it could not be measured. */
export type DeviceMemoryUsage =
  | {
      ok: true;
      bytes: number;
      /** Processes of the group on a GPU whose memory the driver does not report ("[N/A]"); `bytes` leaves them out. */
      unreported: number;
    }
  | { ok: false; error: string };

export interface UsageSample {
  /** Cores in use over the last period (1.0 = one core busy). */
  cpu: number;
  rssBytes: number;
  /** Only for groups watched with `deviceMemory`. */
  device?: DeviceMemoryUsage;
}

export type UsageListener = (sample: UsageSample) => void;

export interface WatchOptions {
  /** Also measure the device memory of the group's processes. */
  deviceMemory?: boolean;
}

export interface UsageSampler {
  /** Watches a group until the returned function is called. */
  watch(pgid: number, listener: UsageListener, options?: WatchOptions): () => void;
  /** Takes one sample of every watched group now. */
  sampleNow(): Promise<void>;
  stop(): void;
}

interface Watched {
  listener: UsageListener;
  deviceMemory: boolean;
  lastTicks?: number;
  lastAt?: number;
}

export function createUsageSampler(opts: {
  proc: ProcReader;
  clock: Clock;
  intervalMs: number;
  log: Logger;
  deviceMemory?: DeviceMemoryReader;
}): UsageSampler {
  const watched = new Map<number, Watched>();
  let busy = false;

  /** Device memory per watched group that asked for it. */
  const readDevice = async (pgids: number[]): Promise<Map<number, DeviceMemoryUsage>> => {
    const out = new Map<number, DeviceMemoryUsage>();
    if (pgids.length === 0) return out;
    if (!opts.deviceMemory) {
      for (const g of pgids) out.set(g, { ok: false, error: 'this agent has no device memory reader' });
      return out;
    }
    let reading;
    try {
      reading = await opts.deviceMemory.read();
    } catch (err) {
      reading = { ok: false as const, error: `device memory reader failed: ${(err as Error).message}` };
    }
    if (!reading.ok) {
      for (const g of pgids) out.set(g, { ok: false, error: reading.error });
      return out;
    }
    const wanted = new Set(pgids);
    for (const g of pgids) out.set(g, { ok: true, bytes: 0, unreported: 0 });
    const groupOf = await opts.proc.groupsOf(reading.processes.map((p) => p.pid));
    for (const p of reading.processes) {
      const g = groupOf.get(p.pid);
      if (g === undefined || !wanted.has(g)) continue;
      const u = out.get(g) as Extract<DeviceMemoryUsage, { ok: true }>;
      if (p.bytes === null) u.unreported++;
      else u.bytes += p.bytes;
    }
    return out;
  };

  const sampleNow = async () => {
    if (busy || watched.size === 0) return;
    busy = true;
    try {
      const devicePgids = [...watched].filter(([, w]) => w.deviceMemory).map(([g]) => g);
      const [usage, device] = await Promise.all([opts.proc.groups(watched.keys()), readDevice(devicePgids)]);
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
        const d = w.deviceMemory ? device.get(pgid) : undefined;
        try {
          w.listener({ cpu: Math.round(cpu * 1000) / 1000, rssBytes: g.rssBytes, ...(d ? { device: d } : {}) });
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
    watch(pgid, listener, options) {
      const w: Watched = { listener, deviceMemory: options?.deviceMemory === true };
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
