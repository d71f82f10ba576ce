import { loadCalibrationProfiles, V100_DEVICE_CLASS, V100_MEMORY_BYTES } from './core/profiles/calibration-profiles.ts';
import { buildWorkload } from './scheduler/sim/workload.ts';
import { clusterDevices } from './scheduler/sim/simulator.ts';
import { scheduleRound } from './scheduler/policies/ours.ts';
const profiles = loadCalibrationProfiles();
const wl = buildWorkload(profiles, 8, 1);
const devices = clusterDevices({nodes:4, devicesPerNode:4, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES});
const r = scheduleRound({nowMs:0, functions: wl.map(w=>w.spec), demand: new Map(wl.map(w=>[w.spec.name, w.baseRps*1.2])), devices, current: [], profiles}, new Map());
for (const [fn, d] of r.decision.decisions!) { const p = d.plan!; console.log(fn, p.demandRps.toFixed(0), JSON.stringify(p.explanation.efficient), JSON.stringify(p.explanation.residual)); }
const byDev = new Map<string,string[]>(); for (const x of r.decision.replicas) { byDev.set(x.deviceId, [...(byDev.get(x.deviceId)??[]), `${x.function.slice(3,9)}:p${x.config.partitionPercent}q${x.config.quota}b${x.config.batch}s${x.latency?.slackMs.toFixed(0)}h${x.latency?.holdMs.toFixed(0)}`]); }
for (const [d, l] of byDev) console.log(d, l.join(' '));
