/**
 * What the devices can still take while one round resizes running replicas in place (vertical
 * scaling): a `DeviceLoad` per device built from the replicas running now, changed as each resize
 * or removal is decided, so a later function sees the room an earlier one took or freed. The same
 * device-fit checks as placement (area, memory, time-sharing packing, latency; device-fit.ts).
 */
import type { ModelFootprint } from '../core/profiles/profile-table.ts';
import { DeviceLoad, type Rejection } from './device-fit.ts';
import type { DeviceSpec, PlacedReplica } from './types.ts';

export interface DeviceRoom {
  /**
   * Replaces `olds` (running replicas on one device) by `news` (the same replicas with another
   * configuration). Returns undefined when the device takes them (and records it), else why not
   * (and leaves the device as it was).
   */
  resize(olds: readonly PlacedReplica[], news: readonly PlacedReplica[]): Rejection | 'device gone' | undefined;
  /** Records that `replicas` stop this round. */
  remove(replicas: readonly PlacedReplica[]): void;
  /** Area (Σ quota × partition / 100) in use on a device now; 0 for an unknown one. */
  area(deviceId: string): number;
}

export function deviceRoom(
  devices: readonly DeviceSpec[],
  current: readonly PlacedReplica[],
  footprint: (model: string) => ModelFootprint,
): DeviceRoom {
  const loads = new Map(devices.map((d) => [d.id, new DeviceLoad(d)]));
  for (const r of current) loads.get(r.deviceId)?.add(r, footprint(r.model));
  return {
    resize(olds, news) {
      const load = olds[0] && loads.get(olds[0].deviceId);
      if (!load) return 'device gone';
      for (const r of olds) load.remove(r, footprint(r.model));
      const added: PlacedReplica[] = [];
      for (const r of news) {
        const why = load.rejects(r, footprint(r.model), load.device.deviceClass);
        if (why) {
          for (const a of added) load.remove(a, footprint(a.model));
          for (const o of olds) load.add(o, footprint(o.model));
          return why;
        }
        load.add(r, footprint(r.model));
        added.push(r);
      }
      return undefined;
    },
    remove(replicas) {
      for (const r of replicas) loads.get(r.deviceId)?.remove(r, footprint(r.model));
    },
    area: (deviceId) => loads.get(deviceId)?.area ?? 0,
  };
}
