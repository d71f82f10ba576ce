/**
 * Scheduler benchmark:
 * 1. decision time (planning + placement, ours) for 1,000 functions on 256 emulated V100s: a first
 *    round from nothing and a re-planning round with every demand moved by up to ±20 % (p50 / max
 *    over several runs);
 * 2. devices used vs the lower bound Σ demand × area(eff) / rps(eff), and vs two fair bounds
 *    (≥ 1 replica per function; the cheapest cover of each demand by profiled configurations);
 * 3. the simulator's policy table (all policies) on one seeded diurnal trace.
 * Writes bench/results/scheduler.md (+ scheduler.svg) and ends with `RESULT {json}`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PLATFORM_ROOT } from '../core/version.ts';
import {
  loadCalibrationProfiles,
  V100_DEVICE_CLASS,
  V100_MEMORY_BYTES,
} from '../core/profiles/calibration-profiles.ts';
import { configArea } from '../core/profiles/profile-table.ts';
import { coverBound, replicaFloorBound } from '../scheduler/lower-bound.ts';
import { scheduleRound } from '../scheduler/policies/ours.ts';
import { boundWorkload } from '../scheduler/sim/bound-workload.ts';
import { createRng } from '../scheduler/sim/rng.ts';
import { runScenario } from '../scheduler/sim/scenario.ts';
import { clusterDevices } from '../scheduler/sim/simulator.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';

const FUNCTIONS = 1000;
const NODES = 32;
const PER_NODE = 8;
const RUNS = 9;
/** Rounds run first and not counted (JIT warm-up; the live loop runs continuously). */
const WARMUP = 3;
/** Total demand, in devices of the lower bound (of 256). */
const TARGET_LOAD_DEVICES = 120;

const profiles = loadCalibrationProfiles();
const devices = clusterDevices({
  nodes: NODES,
  devicesPerNode: PER_NODE,
  deviceClass: V100_DEVICE_CLASS,
  memoryBytes: V100_MEMORY_BYTES,
});

function packing(count: number) {
  const w = boundWorkload(profiles, count, TARGET_LOAD_DEVICES, 42);
  const r = scheduleRound(
    { nowMs: 0, functions: w.functions, demand: w.demand, devices, current: [], profiles },
    new Map(),
  );
  const used = new Set(r.decision.replicas.map((x) => x.deviceId)).size;
  const planned = [...r.decision.decisions!.values()].reduce(
    (s, d) => s + d.plan!.replicas.reduce((a, x) => a + configArea(x.config), 0),
    0,
  );
  const floor = replicaFloorBound(w.functions, w.demand, profiles);
  const cover = coverBound(w.functions, w.demand, profiles);
  return {
    count,
    replicas: r.decision.replicas.length,
    unplaced: r.decision.unplaced.length,
    bound: w.bound.devices,
    used,
    ratio: used / w.bound.devices,
    plannedOverBound: planned / w.bound.area,
    packed: planned / used,
    floor: floor.devices,
    cover: cover.devices,
    coverExhaustive: cover.exhaustive,
    overCover: used / cover.devices,
  };
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const big = boundWorkload(profiles, FUNCTIONS, TARGET_LOAD_DEVICES, 42);
const first: number[] = [];
const replan: number[] = [];
let replanMoves = 0;
for (let run = -WARMUP; run < RUNS; run++) {
  let t = performance.now();
  const a = scheduleRound(
    { nowMs: 0, functions: big.functions, demand: big.demand, devices, current: [], profiles },
    new Map(),
  );
  const tFirst = performance.now() - t;
  const moved = new Map([...big.demand].map(([k, v]) => [k, v * createRng(run + 7).between(0.8, 1.2)]));
  t = performance.now();
  const b = scheduleRound(
    { nowMs: 60_000, functions: big.functions, demand: moved, devices, current: a.decision.replicas, profiles },
    a.state,
  );
  const tReplan = performance.now() - t;
  if (run < 0) continue; // warm-up (JIT), not counted
  first.push(tFirst);
  replan.push(tReplan);
  const before = new Map(a.decision.replicas.map((r) => [r.id, r.deviceId]));
  replanMoves = b.decision.replicas.filter((r) => before.has(r.id) && before.get(r.id) !== r.deviceId).length;
}
const packs = [packing(FUNCTIONS), packing(100)];
const decisionTable = markdownTable(
  ['round', 'p50 ms', 'max ms', 'runs'],
  [
    ['first (1,000 functions, empty cluster)', quantile(first, 0.5), Math.max(...first), String(RUNS)],
    ['re-plan (demand ±20 %, hysteresis)', quantile(replan, 0.5), Math.max(...replan), String(RUNS)],
  ],
);
const boundTable = markdownTable(
  [
    'functions',
    'devices',
    'replicas',
    'unplaced',
    'lower bound (devices)',
    'devices used',
    'used / bound',
    'planned area / bound',
    'area per device used',
  ],
  packs.map((p) => [
    String(p.count),
    String(devices.length),
    String(p.replicas),
    String(p.unplaced),
    String(p.bound),
    String(p.used),
    p.ratio,
    p.plannedOverBound,
    p.packed,
  ]),
);
const fairTable = markdownTable(
  ['functions', 'lower bound', '≥ 1 replica each', 'cheapest cover', 'devices used', 'used / cheapest cover'],
  packs.map((p) => [
    String(p.count),
    String(p.bound),
    String(p.floor),
    `${p.cover}${p.coverExhaustive ? '' : ' (search cut)'}`,
    String(p.used),
    p.overCover,
  ]),
);

const sim = runScenario({
  profiles,
  trace: 'diurnal',
  seed: 1,
  nodes: 4,
  devicesPerNode: 4,
  functions: 8,
  durationS: Number(process.env.BENCH_SIM_DURATION ?? 300),
});
await writeFile(join(PLATFORM_ROOT, 'bench', 'results', 'scheduler.svg'), sim.svg);
const ours = sim.results.find((r) => r.policy === 'ours')!;

const text = [
  '# Scheduler benchmark',
  '',
  `Emulated V100 profiles from calibration/. Machine: ${process.platform} ${process.arch}, Node ${process.version}.`,
  '',
  `## Decision time: planning + placement, ${FUNCTIONS} functions × ${devices.length} devices (target < 100 ms)`,
  '',
  decisionTable,
  '',
  `${WARMUP} warm-up rounds first, not counted. Replicas moved by the last re-plan round: ${replanMoves}.`,
  '',
  '## Devices used vs the lower bound Σ demand × area(eff) / rps(eff) (target within 10 %)',
  '',
  boundTable,
  '',
  'planned area / bound: what the planner asks for (saturated + residual replicas under the SLO) over the bound; area per device used: how full placement packs the devices (time × SM).',
  '',
  'Fair bounds for the same demand (scheduler/lower-bound.ts; the lower bound above is unchanged): ≥ 1 replica each = Σ max(demand × area(eff) / rps(eff), smallest area of a configuration the function may run); cheapest cover = Σ the least area of any set of profiled configurations that covers each demand under the SLO rules (exhaustive search). No plan built from the profiled configurations needs fewer devices than the cheapest cover, whatever the placement.',
  '',
  fairTable,
  '',
  '## Simulator: all policies, one seeded trace',
  '',
  sim.markdown,
  `Chart: bench/results/scheduler.svg. Simulated ${sim.results.length} policies in ${(sim.wallMs / 1000).toFixed(1)} s.`,
].join('\n');
await writeResult('scheduler', text);
printResultLine({
  decision_ms_p50: +quantile(first, 0.5).toFixed(2),
  decision_ms_max: +Math.max(...first).toFixed(2),
  replan_ms_p50: +quantile(replan, 0.5).toFixed(2),
  replan_ms_max: +Math.max(...replan).toFixed(2),
  bound: packs.map((p) => ({
    functions: p.count,
    lower_bound: p.bound,
    replica_floor_bound: p.floor,
    cover_bound: p.cover,
    devices_used: p.used,
    used_over_bound: +p.ratio.toFixed(3),
    used_over_cover: +p.overCover.toFixed(3),
    unplaced: p.unplaced,
  })),
  sim: Object.fromEntries(
    sim.results.map((r) => [
      r.policy,
      {
        devices_mean: +r.devicesMean.toFixed(2),
        slo: +r.sloAttainment.toFixed(4),
        throughput: +r.throughputRps.toFixed(0),
        util: +r.utilisation.toFixed(3),
      },
    ]),
  ),
  ours_slo: +ours.sloAttainment.toFixed(4),
});
