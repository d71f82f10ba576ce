import { loadCalibrationProfiles, V100_DEVICE_CLASS, V100_MEMORY_BYTES } from './core/profiles/calibration-profiles.ts';
import { clusterDevices } from './scheduler/sim/simulator.ts';
import { runPublishedSchedulerTest } from './scheduler/sim/published-test.ts';
const profiles = loadCalibrationProfiles();
const devices = clusterDevices({nodes:1, devicesPerNode:4, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES});
const t0=performance.now();
const r = runPublishedSchedulerTest(profiles, devices, {load: Number(process.argv[2] ?? 0.7)});
console.log(r.ratesRps, r.functions.map(f=>f.sloMs));
for (const k of ['ours','timeSharing'] as const) { const o = r[k]; console.log(k, o.devicesUsed, o.sim.sloAttainment.toFixed(4), o.sim.functions.map(f=>`${f.function}:${(f.withinSlo/f.arrived).toFixed(4)}`).join(' '), o.sim.p99Ms); }
console.log(performance.now()-t0);
