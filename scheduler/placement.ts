/**
 * Placement of planned replicas on devices (pure: devices, current replicas and the wanted
 * replicas in; the new assignment and why out).
 * - Keeps every current replica whose function still wants its configuration (no pointless moves);
 *   one the round resized in place (`resizedFrom`) is noted as resized.
 * - Scale-down stops surplus replicas on the emptiest devices first.
 * - New replicas, largest first, go to the device that already holds their model (model sharing:
 *   weights counted once), then to the in-use device with the least area left after placing (best
 *   fit); an empty device is opened only when nothing in use fits, preferring a node already in use.
 * - Consolidation: an in-use device is emptied onto the others when the device freed is worth more
 *   than the moves (`deviceCost` > `moveCost` × replicas moved; replicas placed in this same round
 *   move for free).
 */
import { configArea, configKey, type ModelFootprint } from '../core/profiles/profile-table.ts';
import { DeviceLoad } from './device-fit.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica, PlannedReplica, ReplicaConfig } from './types.ts';

export interface PlacementOptions {
  moveCost: number;
  deviceCost: number;
  consolidate: boolean;
}

export const DEFAULT_PLACEMENT_OPTIONS: PlacementOptions = { moveCost: 0.25, deviceCost: 1, consolidate: true };

export interface DesiredFunction {
  spec: Pick<FunctionSpec, 'name' | 'model' | 'deviceClass'>;
  replicas: PlannedReplica[];
}

export interface PlacementInput {
  devices: readonly DeviceSpec[];
  current: readonly PlacedReplica[];
  desired: readonly DesiredFunction[];
  footprint(model: string): ModelFootprint;
  options?: Partial<PlacementOptions>;
}

export interface PlacementNote {
  replicaId: string;
  action: 'kept' | 'resized' | 'started' | 'stopped' | 'moved' | 'unplaced';
  config: ReplicaConfig;
  deviceId?: string;
  why: string;
  /** Devices in use that could not take it, by reason. */
  rejected?: Record<string, number>;
}

export interface PlacementResult {
  replicas: PlacedReplica[];
  started: PlacedReplica[];
  stopped: PlacedReplica[];
  moved: { replica: PlacedReplica; fromDeviceId: string }[];
  unplaced: { function: string; config: ReplicaConfig; reason: string }[];
  notes: Map<string, PlacementNote[]>;
  devicesUsed: number;
}

interface Pending {
  fn: DesiredFunction;
  planned: PlannedReplica;
}

export function place(input: PlacementInput): PlacementResult {
  const o = { ...DEFAULT_PLACEMENT_OPTIONS, ...input.options };
  const loads = input.devices.map((d) => new DeviceLoad(d));
  const byId = new Map(loads.map((l) => [l.device.id, l]));
  const notes = new Map<string, PlacementNote[]>();
  const noteFor = (fn: string, n: PlacementNote) => {
    let list = notes.get(fn);
    if (!list) notes.set(fn, (list = []));
    list.push(n);
  };
  const fpCache = new Map<string, ModelFootprint>();
  const fp = (model: string) => {
    let f = fpCache.get(model);
    if (!f) fpCache.set(model, (f = input.footprint(model)));
    return f;
  };
  const wanted = new Map(input.desired.map((d) => [d.spec.name, d]));
  const stopped: PlacedReplica[] = [];
  const started: PlacedReplica[] = [];
  const nextIndex = new Map<string, number>();

  // Current replicas: grouped per function and configuration.
  const currentBy = new Map<string, PlacedReplica[]>();
  for (const r of input.current) {
    const m = /-(\d+)$/.exec(r.id);
    if (m) nextIndex.set(r.function, Math.max(nextIndex.get(r.function) ?? 0, Number(m[1])));
    const load = byId.get(r.deviceId);
    if (!load || !wanted.has(r.function)) {
      stopped.push(r);
      noteFor(r.function, {
        replicaId: r.id,
        action: 'stopped',
        config: r.config,
        deviceId: r.deviceId,
        why: load ? 'function no longer scheduled' : 'its device is gone',
      });
      continue;
    }
    load.add(r, fp(r.model));
    const k = `${r.function}|${configKey(r.config)}`;
    let list = currentBy.get(k);
    if (!list) currentBy.set(k, (list = []));
    list.push(r);
  }

  // Match wanted configurations with current replicas; surplus stops, deficit waits for placement.
  const pending: Pending[] = [];
  const kept = new Set<string>();
  for (const d of input.desired) {
    const want = new Map<string, PlannedReplica[]>();
    for (const p of d.replicas) {
      const k = `${d.spec.name}|${configKey(p.config)}`;
      let list = want.get(k);
      if (!list) want.set(k, (list = []));
      list.push(p);
    }
    for (const [k, list] of want) {
      const have = (currentBy.get(k) ?? [])
        .slice()
        .sort((a, b) => byId.get(b.deviceId)!.area - byId.get(a.deviceId)!.area || a.id.localeCompare(b.id));
      have.slice(0, list.length).forEach((r) => kept.add(r.id));
      for (const p of list.slice(have.length)) pending.push({ fn: d, planned: p });
    }
  }
  for (const [, list] of currentBy) {
    for (const r of list) {
      if (kept.has(r.id)) {
        const was = r.resizedFrom;
        if (was)
          noteFor(r.function, {
            replicaId: r.id,
            action: 'resized',
            config: r.config,
            deviceId: r.deviceId,
            why: `quota ${was.quota} → ${r.config.quota} in place (same partition and batch: applied live, no restart)`,
          });
        else
          noteFor(r.function, {
            replicaId: r.id,
            action: 'kept',
            config: r.config,
            deviceId: r.deviceId,
            why: 'configuration still wanted; not moved',
          });
        continue;
      }
      byId.get(r.deviceId)!.remove(r, fp(r.model));
      stopped.push(r);
      noteFor(r.function, {
        replicaId: r.id,
        action: 'stopped',
        config: r.config,
        deviceId: r.deviceId,
        why: 'surplus after re-planning (emptiest device first)',
      });
    }
  }

  // Place new replicas, largest area first.
  pending.sort(
    (a, b) =>
      configArea(b.planned.config) - configArea(a.planned.config) || a.fn.spec.name.localeCompare(b.fn.spec.name),
  );
  const unplaced: PlacementResult['unplaced'] = [];
  const fresh = new Set<string>();
  const usedNodes = new Map<string, number>();
  for (const l of loads) if (!l.empty) usedNodes.set(l.device.nodeId, (usedNodes.get(l.device.nodeId) ?? 0) + 1);
  for (const { fn, planned } of pending) {
    const { model, deviceClass, name } = fn.spec;
    const f = fp(model);
    const cand = { model, config: planned.config, latency: planned.latency };
    const rejected: Record<string, number> = {};
    let best: DeviceLoad | undefined;
    let bestShared = false;
    let bestLeft = Infinity;
    let empty: DeviceLoad | undefined;
    for (const l of loads) {
      if (l.empty) {
        if (empty && usedNodes.has(empty.device.nodeId)) continue;
        if (empty && !usedNodes.has(l.device.nodeId)) continue;
        if (!l.rejects(cand, f, deviceClass)) empty = l;
        continue;
      }
      const why = l.rejects(cand, f, deviceClass);
      if (why) {
        rejected[why] = (rejected[why] ?? 0) + 1;
        continue;
      }
      const shared = l.hasModel(model);
      const left = 1 - l.area - configArea(planned.config);
      if (!best || (shared && !bestShared) || (shared === bestShared && left < bestLeft - 1e-12)) {
        best = l;
        bestShared = shared;
        bestLeft = left;
      }
    }
    const target = best ?? empty;
    if (!target) {
      const reason = `no device can take it (${
        Object.entries(rejected)
          .map(([k, v]) => `${v} × ${k}`)
          .join(', ') || 'no free device'
      })`;
      unplaced.push({ function: name, config: planned.config, reason });
      noteFor(name, { replicaId: '', action: 'unplaced', config: planned.config, why: reason, rejected });
      continue;
    }
    const idx = (nextIndex.get(name) ?? 0) + 1;
    nextIndex.set(name, idx);
    const r: PlacedReplica = {
      id: `${name}-${idx}`,
      function: name,
      model,
      deviceId: target.device.id,
      nodeId: target.device.nodeId,
      config: { ...planned.config },
      capacityRps: planned.capacityRps,
      ...(planned.latency ? { latency: planned.latency } : {}),
    };
    if (target.empty) usedNodes.set(target.device.nodeId, (usedNodes.get(target.device.nodeId) ?? 0) + 1);
    target.add(r, f);
    started.push(r);
    fresh.add(r.id);
    const why = best
      ? bestShared
        ? `shares ${model} weights already on the device; area left ${bestLeft.toFixed(3)}`
        : `best fit: area left ${bestLeft.toFixed(3)}`
      : 'opened an empty device: no device in use fits';
    noteFor(name, { replicaId: r.id, action: 'started', config: r.config, deviceId: target.device.id, why, rejected });
  }

  const moved: PlacementResult['moved'] = [];
  if (o.consolidate) consolidate(loads, fp, fresh, o, moved, noteFor);
  const replicas = loads.flatMap((l) => l.replicas);
  const now = new Map(replicas.map((r) => [r.id, r]));
  return {
    replicas,
    started: started.map((s) => now.get(s.id)!),
    stopped,
    moved,
    unplaced,
    notes,
    devicesUsed: loads.filter((l) => !l.empty).length,
  };
}

function consolidate(
  loads: DeviceLoad[],
  fp: (model: string) => ModelFootprint,
  fresh: Set<string>,
  o: PlacementOptions,
  moved: PlacementResult['moved'],
  noteFor: (fn: string, n: PlacementNote) => void,
): void {
  const used = loads.filter((l) => !l.empty).sort((a, b) => a.area - b.area);
  for (const src of used) {
    if (src.empty) continue;
    const cost = src.replicas.filter((r) => !fresh.has(r.id)).length * o.moveCost;
    if (cost >= o.deviceCost) continue;
    const others = used.filter((l) => l !== src && !l.empty);
    const free = others.reduce((s, l) => s + (1 - l.area), 0);
    if (free + 1e-9 < src.area) continue;
    const plan: { r: PlacedReplica; to: DeviceLoad }[] = [];
    let ok = true;
    for (const r of [...src.replicas].sort((a, b) => configArea(b.config) - configArea(a.config))) {
      let to: DeviceLoad | undefined;
      let toShared = false;
      let left = Infinity;
      for (const l of others) {
        if (l.rejects(r, fp(r.model), src.device.deviceClass)) continue;
        const shared = l.hasModel(r.model);
        const lf = 1 - l.area - configArea(r.config);
        if (!to || (shared && !toShared) || (shared === toShared && lf < left))
          ((to = l), (toShared = shared), (left = lf));
      }
      if (!to) {
        ok = false;
        break;
      }
      const copy: PlacedReplica = { ...r, deviceId: to.device.id, nodeId: to.device.nodeId };
      to.add(copy, fp(r.model));
      plan.push({ r: copy, to });
    }
    if (!ok) {
      for (const { r, to } of plan) to.remove(r, fp(r.model));
      continue;
    }
    for (const r of [...src.replicas]) src.remove(r, fp(r.model));
    for (const { r } of plan) {
      const from = src.device.id;
      if (!fresh.has(r.id)) {
        moved.push({ replica: r, fromDeviceId: from });
        noteFor(r.function, {
          replicaId: r.id,
          action: 'moved',
          config: r.config,
          deviceId: r.deviceId,
          why: `consolidation: emptied ${from} (device worth ${o.deviceCost} > moves ${cost.toFixed(2)})`,
        });
      }
    }
  }
}
