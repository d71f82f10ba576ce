/**
 * FaST-GShare's published scheduler test on the emulated V100 (fast-gshare.md §4): 4 ResNet-50
 * replicas (SM 12 %, quota 0.4), 2 RNNT (24 %, 0.4) and 2 BERT (50 %, 0.6), batch 1. Placed by our
 * placement (time × SM packing, model sharing) and by time sharing (each replica on the whole
 * device with its quota, best fit on Σ quota ≤ 1; published: 1 device vs 4), then both layouts
 * serve the same steady load (a fraction of each function's profiled capacity) in the simulator,
 * so SLO attainment is measured. SLOs: ResNet 69 ms (published); RNNT and BERT 5 × batch-1 latency.
 */
import { PlatformError } from '../../core/errors.ts';
import { V100_DEVICE_CLASS } from '../../core/profiles/calibration-profiles.ts';
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import { place } from '../placement.ts';
import { plannedReplica } from '../planner.ts';
import { timeSharingBins } from '../policies/time-sharing.ts';
import type { PolicyFactory } from '../policies/policy.ts';
import { memoryWithoutSharing } from '../policies/common.ts';
import type { DeviceSpec, FunctionSpec, PlacedReplica } from '../types.ts';
import { simulate, type SimResult } from './simulator.ts';
import type { Trace } from './traces.ts';
import { defaultSloMs } from './workload.ts';

export const PUBLISHED_CASE = [
  { name: 'resnet', model: 'v100-resnet50', replicas: 4, partitionPercent: 12, quota: 0.4, sloMs: 69 },
  { name: 'rnnt', model: 'v100-rnnt', replicas: 2, partitionPercent: 24, quota: 0.4, sloMs: undefined },
  { name: 'bert', model: 'v100-bert', replicas: 2, partitionPercent: 50, quota: 0.6, sloMs: undefined },
] as const;

/** A policy that always answers the same replicas (for fixed layouts). */
export function fixedLayout(name: string, replicas: readonly PlacedReplica[]): PolicyFactory {
  return {
    name,
    description: 'a fixed layout',
    create: () => ({ name, decide: () => ({ replicas: [...replicas], unplaced: [] }) }),
  };
}

export interface LayoutOutcome {
  devicesUsed: number;
  replicas: PlacedReplica[];
  sim: SimResult;
}

export interface PublishedTestResult {
  functions: FunctionSpec[];
  ratesRps: Record<string, number>;
  ours: LayoutOutcome;
  timeSharing: LayoutOutcome;
}

export function runPublishedSchedulerTest(
  profiles: ProfileTable,
  devices: readonly DeviceSpec[],
  opts: { load?: number; durationS?: number; seed?: number } = {},
): PublishedTestResult {
  const load = opts.load ?? 0.5;
  const durationS = opts.durationS ?? 60;
  const functions: FunctionSpec[] = PUBLISHED_CASE.map((c) => ({
    name: c.name,
    model: c.model,
    deviceClass: V100_DEVICE_CLASS,
    sloMs: c.sloMs ?? defaultSloMs(profiles, c.model),
    minReplicas: c.replicas,
    maxReplicas: c.replicas,
  }));
  const desired = PUBLISHED_CASE.map((c, i) => {
    const spec = functions[i]!;
    const entry = profiles
      .entries(c.model, V100_DEVICE_CLASS)
      .find((e) => e.partitionPercent === c.partitionPercent && e.quota === c.quota && e.batch === 1);
    if (!entry)
      throw new PlatformError('internal', `no profile row for ${c.model} at ${c.partitionPercent} % / ${c.quota}`);
    return {
      spec,
      entry,
      replicas: Array.from({ length: c.replicas }, () => plannedReplica(entry, 'saturated', spec.sloMs)),
    };
  });
  const ratesRps = Object.fromEntries(
    desired.map((d) => [d.spec.name, Math.round(load * d.entry.rps * d.replicas.length * 10) / 10]),
  );

  const ours = place({
    devices,
    current: [],
    desired: desired.map((d) => ({ spec: d.spec, replicas: d.replicas })),
    footprint: (m) => profiles.footprint(m),
  });
  if (ours.unplaced.length)
    throw new PlatformError('internal', `published case did not fit: ${ours.unplaced[0]!.reason}`);

  const bins = timeSharingBins(devices);
  const ts: PlacedReplica[] = [];
  for (const d of [...desired].sort((a, b) => b.entry.quota - a.entry.quota)) {
    d.replicas.forEach((r, i) => {
      const dev = bins.place(
        d.spec.deviceClass,
        r.config.quota,
        memoryWithoutSharing(profiles.footprint(d.spec.model)),
      );
      if (!dev) throw new PlatformError('internal', 'published case did not fit under time sharing');
      const config = { partitionPercent: 100, quota: r.config.quota, batch: 1 };
      ts.push({
        id: `${d.spec.name}-${i + 1}`,
        function: d.spec.name,
        model: d.spec.model,
        deviceId: dev.id,
        nodeId: dev.nodeId,
        config,
        capacityRps: r.capacityRps,
      });
    });
  }

  const trace: Trace = {
    name: 'published-steady',
    functions,
    rates: functions.map((f) => new Float64Array(durationS).fill(ratesRps[f.name]!)),
    durationS,
  };
  const run = (name: string, replicas: PlacedReplica[]): LayoutOutcome => ({
    devicesUsed: new Set(replicas.map((r) => r.deviceId)).size,
    replicas,
    sim: simulate({ profiles, devices, trace, policy: fixedLayout(name, replicas), seed: opts.seed ?? 1 }),
  });
  return { functions, ratesRps, ours: run('ours', ours.replicas), timeSharing: run('time-sharing', ts) };
}
