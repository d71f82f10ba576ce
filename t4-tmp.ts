import { loadCalibrationProfiles, V100_DEVICE_CLASS, V100_MEMORY_BYTES } from './core/profiles/calibration-profiles.ts';
import { configArea } from './core/profiles/profile-table.ts';
import { saturatedCandidates } from './scheduler/feasibility.ts';
import { deviceLowerBound } from './scheduler/lower-bound.ts';
import { scheduleRound } from './scheduler/policies/ours.ts';
import { createRng } from './scheduler/sim/rng.ts';
import { clusterDevices } from './scheduler/sim/simulator.ts';
import { defaultSloMs, MODEL_MIX } from './scheduler/sim/workload.ts';
const profiles = loadCalibrationProfiles();
const devices = clusterDevices({ nodes: 32, devicesPerNode: 8, deviceClass: V100_DEVICE_CLASS, memoryBytes: V100_MEMORY_BYTES });
const rng = createRng(42);
const functions = Array.from({ length: Number(process.argv[3] ?? 1000) }, (_, i) => { const model = MODEL_MIX[i % MODEL_MIX.length]!; return { name: `f${i}`, model, deviceClass: V100_DEVICE_CLASS, sloMs: defaultSloMs(profiles, model), minReplicas: 0, maxReplicas: 1000 }; });
const raw = new Map(functions.map((f) => { const eff = saturatedCandidates(profiles.entries(f.model, f.deviceClass), f.sloMs * 0.9).candidates[0]!; return [f.name, eff.rps * Math.exp(rng.between(Math.log(0.3), Math.log(6)))] as const; }));
const scale = Number(process.argv[2] ?? 200) / deviceLowerBound(functions, raw, profiles).area;
const demand = new Map([...raw].map(([k, v]) => [k, v * scale]));
const a = scheduleRound({ nowMs: 0, functions, demand, devices, current: [], profiles }, new Map());
const reasons: Record<string, number> = {};
for (const [, d] of a.decision.decisions!) for (const n of d.placement) if (n.action==='unplaced') for (const [k,v] of Object.entries(n.rejected ?? {})) reasons[k]=(reasons[k]??0)+v;
console.log('unplaced', a.decision.unplaced.length, reasons);
const byDev = new Map<string, any[]>(); for (const r of a.decision.replicas) byDev.set(r.deviceId, [...(byDev.get(r.deviceId) ?? []), r]);
const stats = [...byDev.values()].map(rs => ({n: rs.length, area: rs.reduce((s,r)=>s+configArea(r.config),0), p: rs.reduce((s,r)=>s+r.config.partitionPercent,0)}));
console.log('devices', byDev.size, 'mean area', (stats.reduce((s,x)=>s+x.area,0)/stats.length).toFixed(3), 'mean n', (stats.reduce((s,x)=>s+x.n,0)/stats.length).toFixed(2));
for (const [d, rs] of [...byDev].slice(0, 6)) console.log(d, rs.map(r => `${r.model.replace('v100-','')}:p${r.config.partitionPercent}q${r.config.quota}b${r.config.batch}s${r.latency?.slackMs.toFixed(0)}h${r.latency?.holdMs.toFixed(0)}`).join(' '));
const mix: Record<string, string> = {};
for (const [fn, d] of a.decision.decisions!) { const e = d.plan!.explanation.efficient; if (e && !mix[d.plan!.explanation.model]) mix[d.plan!.explanation.model] = `p${e.partitionPercent} q${e.quota} b${e.batchLatencyMs.toFixed(0)}ms area ${(e.quota*e.partitionPercent/100).toFixed(3)} rps ${e.rps.toFixed(0)}`; }
console.log(mix);
let sat = 0, res = 0;
for (const [, d] of a.decision.decisions!) for (const r of d.plan!.replicas) { if (r.role==='residual') res += configArea(r.config); else sat += configArea(r.config); }
console.log('planned area sat', sat.toFixed(1), 'res', res.toFixed(1), 'lb', deviceLowerBound(functions, demand, profiles).area.toFixed(1));
const per: Record<string, number[]> = {};
for (const [, d] of a.decision.decisions!) { const m = d.plan!.explanation.model; const ra = d.plan!.replicas.filter(r=>r.role==='residual').reduce((s,r)=>s+configArea(r.config),0); const need = d.plan!.explanation.residual ? d.plan!.explanation.residual.residualRps * (d.plan!.explanation.efficient!.quota*d.plan!.explanation.efficient!.partitionPercent/100) / d.plan!.explanation.efficient!.rps : 0; (per[m] ??= [0,0]); per[m][0]+=ra; per[m][1]+=need; }
console.log(Object.fromEntries(Object.entries(per).map(([k,v])=>[k, `${v[0].toFixed(1)} vs ${v[1].toFixed(1)}`])));
const open: Record<string, number> = {}; let opened = 0;
for (const [, d] of a.decision.decisions!) for (const n of d.placement) if (n.action==='started' && n.why.startsWith('opened')) { opened++; for (const [k,v] of Object.entries(n.rejected ?? {})) open[k]=(open[k]??0)+v; }
console.log('opened', opened, open);
const hist: Record<string, number> = {}; for (const s of stats) { const k = s.area.toFixed(1); hist[k]=(hist[k]??0)+1; } console.log(hist);
let shown = 0;
for (const [d, rs] of byDev) { const ar = rs.reduce((s,r)=>s+configArea(r.config),0); if (ar < 0.7 && shown++ < 10) console.log(d, ar.toFixed(2), rs.map(r => `${r.model.replace('v100-','')}:p${r.config.partitionPercent}q${r.config.quota}b${r.config.batch}s${r.latency?.slackMs.toFixed(0)}h${r.latency?.holdMs.toFixed(0)}`).join(' ')); }
