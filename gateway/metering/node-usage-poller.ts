/**
 * Turns node agents' counters into per-minute usage:
 * - device-seconds used and reserved: the growth of each function's totals on each node since
 *   the last read (kept in the store, see meter-cursors.ts). An agent that restarted counts from
 *   zero, so all of its totals are new: seen as a new boot id in its answer (or, from an agent
 *   that sends none, as a total that went down).
 * - GB-seconds of memory: each replica's resident memory times the time since the node was
 *   last read (at most `maxGapMs`, so a gateway that was down does not bill its outage at the
 *   memory it sees on return). 1 GB = 1e9 bytes.
 * The cursor is committed before the usage is added: a crash in between loses one poll of
 * usage and never counts any twice.
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { FunctionInfoCache } from '../tenants/function-info.ts';
import type { MeterCursors } from './meter-cursors.ts';
import type { UsageSource } from './usage-source.ts';
import type { UsageWriter } from './usage-writer.ts';
import type { UsageFields } from './usage-fields.ts';

/** [function, deviceSeconds, reservedDeviceSeconds] */
type DeviceTotalsCursor = Array<[string, number, number]>;
/** What the store keeps per node: the totals last read and the agent run they belong to. */
interface DeviceCursor {
  bootId?: string;
  totals: DeviceTotalsCursor;
}

/** A cursor as stored: the current shape, or a bare totals array written before boot ids. */
function readDeviceCursor(v: DeviceCursor | DeviceTotalsCursor): DeviceCursor {
  return Array.isArray(v) ? { totals: v } : { bootId: v.bootId, totals: v.totals ?? [] };
}

export interface NodeUsagePoller {
  /** Reads every node once; resolves when the usage is handed to the writer. */
  pollOnce(): Promise<void>;
}

function splitKey(fn: string): { name: string; namespace: string } | undefined {
  const dot = fn.lastIndexOf('.');
  if (dot <= 0 || dot === fn.length - 1) return undefined;
  return { name: fn.slice(0, dot), namespace: fn.slice(dot + 1) };
}

export function growth(current: number, last: number | undefined): number {
  if (last === undefined) return current;
  return current >= last ? current - last : current;
}

export function createNodeUsagePoller(d: {
  sources: UsageSource[];
  cursors: MeterCursors;
  writer: UsageWriter;
  info: FunctionInfoCache;
  clock: Clock;
  log: Logger;
  maxGapMs: number;
}): NodeUsagePoller {
  const add = async (fn: string, at: number, fields: Partial<UsageFields>) => {
    const k = splitKey(fn);
    if (!k) return;
    const info = await d.info.get(k.namespace, k.name);
    d.writer.add({ ...k, device: info?.device ?? 'cpu' }, at, fields);
  };

  const devices = async (s: UsageSource) => {
    const { functions: totals, bootId } = await s.deviceTotals();
    const source = `devices|${s.url}`;
    const prev = await d.cursors.read<DeviceCursor | DeviceTotalsCursor>(source, { totals: [] });
    const cursor = readDeviceCursor(prev.values);
    // another run of the agent: its counters began again from zero, so all they hold is new
    const restarted = bootId !== undefined && cursor.bootId !== undefined && bootId !== cursor.bootId;
    if (restarted) d.log.info('node agent restarted: its usage counters count from zero', { node: s.url });
    const last = new Map(restarted ? [] : cursor.totals.map(([f, u, r]) => [f, { u, r }]));
    const now = d.clock.date();
    const next: DeviceTotalsCursor = totals.map((t) => [t.function, t.deviceSeconds, t.reservedDeviceSeconds]);
    // functions the node no longer reports keep their last values (a later reset is caught by the drop)
    for (const [f, v] of last) if (!totals.some((t) => t.function === f)) next.push([f, v.u, v.r]);
    if (
      !(await d.cursors.commit<DeviceCursor | DeviceTotalsCursor>(
        source,
        prev,
        { ...(bootId !== undefined ? { bootId } : {}), totals: next },
        now,
      ))
    )
      return;
    for (const t of totals) {
      const l = last.get(t.function);
      const used = growth(t.deviceSeconds, l?.u);
      const reserved = growth(t.reservedDeviceSeconds, l?.r);
      if (used > 0 || reserved > 0)
        await add(t.function, now.getTime(), { deviceSeconds: used, reservedDeviceSeconds: reserved });
    }
  };

  const memory = async (s: UsageSource) => {
    const fns = await s.replicas();
    const source = `memory|${s.url}`;
    const prev = await d.cursors.read<Record<string, never>>(source, {});
    const now = d.clock.date();
    if (!(await d.cursors.commit(source, prev, {}, now))) return;
    if (!prev.at) return; // the first read only starts the clock
    const seconds = Math.min(Math.max(0, now.getTime() - prev.at.getTime()), d.maxGapMs) / 1000;
    if (seconds === 0) return;
    for (const f of fns) {
      const bytes = f.replicas
        .filter((r) => r.pid !== null && r.state !== 'stopped')
        .reduce((sum, r) => sum + (r.usage?.totalMemoryBytes ?? 0), 0);
      if (bytes > 0) await add(`${f.name}.${f.namespace}`, now.getTime(), { gbSeconds: (bytes / 1e9) * seconds });
    }
  };

  return {
    async pollOnce() {
      await Promise.all(
        d.sources.map(async (s) => {
          for (const [what, step] of [
            ['device usage', devices],
            ['memory usage', memory],
          ] as const) {
            try {
              await step(s);
            } catch (err) {
              d.log.warn(`cannot read ${what} from a node; it is counted at the next read`, {
                node: s.url,
                error: (err as Error).message,
              });
            }
          }
        }),
      );
    },
  };
}
