import { loadCalibrationProfiles, V100_DEVICE_CLASS, V100_MEMORY_BYTES } from './core/profiles/calibration-profiles.ts';
import { planFunction } from './scheduler/planner.ts';
import { place } from './scheduler/placement.ts';
import { createRng } from './scheduler/sim/rng.ts';
import { clusterDevices } from './scheduler/sim/simulator.ts';
import { defaultSloMs, MODEL_MIX } from './scheduler/sim/workload.ts';
import { saturatedCandidates } from './scheduler/feasibility.ts';
import { deviceLowerBound } from './scheduler/lower-bound.ts';
const profiles = loadCalibrationProfiles();
const devices = clusterDevices({ nodes: 32, devicesPerNode: 8, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES });
const rng = createRng(42);
const functions = Array.from({ length: 1000 }, (_, i) => { const model = MODEL_MIX[i % MODEL_MIX.length]!; return { name: `f${i}`, model, deviceClass: V100_DEVICE_CLASS, sloMs: defaultSloMs(profiles, model), minReplicas: 0, maxReplicas: 1000 }; });
const raw = new Map(functions.map((f) => { const eff = saturatedCandidates(profiles.entries(f.model, f.deviceClass), f.sloMs * 0.9).candidates[0]!; return [f.name, eff.rps * Math.exp(rng.between(Math.log(0.3), Math.log(6)))] as const; }));
const scale = 150 / deviceLowerBound(functions, raw, profiles).area;
const demand = new Map([...raw].map(([k, v]) => [k, v * scale]));
for (let i = 0; i < 5; i++) {
  let t = performance.now();
  const plans = functions.map(spec => planFunction({ spec, demandRps: demand.get(spec.name)!, entries: profiles.entries(spec.model, spec.deviceClass), nowMs: 0 }));
  const tp = performance.now() - t; t = performance.now();
  const r = place({ devices, current: [], desired: plans.map((p, j) => ({ spec: functions[j]!, replicas: p.replicas })), footprint: m => profiles.footprint(m) });
  const tpl = performance.now() - t; t = performance.now();
  const r2 = place({ devices, current: [], desired: plans.map((p, j) => ({ spec: functions[j]!, replicas: p.replicas })), footprint: m => profiles.footprint(m), options: { consolidate: false } });
  console.log('plan', tp.toFixed(1), 'place', tpl.toFixed(1), 'place-noconsol', (performance.now()-t).toFixed(1), r.devicesUsed, r2.devicesUsed, r.replicas.length);
}
