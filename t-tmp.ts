import { loadCalibrationProfiles, V100_DEVICE_CLASS, V100_MEMORY_BYTES } from './core/profiles/calibration-profiles.ts';
import { POLICIES } from './scheduler/policies/registry.ts';
import { comparePolicies } from './scheduler/sim/run.ts';
import { clusterDevices } from './scheduler/sim/simulator.ts';
import { generateTrace } from './scheduler/sim/traces.ts';
import { buildWorkload } from './scheduler/sim/workload.ts';
const profiles = loadCalibrationProfiles();
const wl = buildWorkload(profiles, 8, 1);
console.log(wl.map(w=>`${w.spec.name} slo=${w.spec.sloMs} base=${w.baseRps}`).join('\n'));
const kind = (process.argv[2] ?? 'steady') as any;
const trace = generateTrace(kind, wl, 300, 1);
const devices = clusterDevices({nodes:4, devicesPerNode:4, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES});
const t0 = performance.now();
for (const r of comparePolicies({profiles, devices, trace, policies: POLICIES.filter(p=>(process.argv[3]??"ours,fixed-4x25").split(",").includes(p.name)), seed: 1})) {
  console.log(r.functions.map(f=>`${f.function} ${(f.withinSlo/f.arrived).toFixed(3)} drop=${f.dropped}`).join("\n"));
  console.log(r.policy.padEnd(22), 'dev', r.devicesMean.toFixed(2), r.devicesMax, 'slo', r.sloAttainment.toFixed(4), 'thr', r.throughputRps.toFixed(0), 'util', r.utilisation.toFixed(3), 'p99', r.p99Ms, 'unpl', r.unplacedMax);
}
console.log('ms', performance.now()-t0);
