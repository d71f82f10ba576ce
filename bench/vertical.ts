/**
 * Vertical before horizontal (issue #13 item 6), in the cluster simulator: ours (quotas of running
 * replicas resized first, the default) beside ours without the vertical step (today's
 * horizontal-only planning), FaST-GShare as published, and ours with `reshapeArea` 0 (re-plans the
 * replica set on every scale-down where lower quotas keep more area than the plan for the demand:
 * the cost-leaning setting). Diurnal and bursty traces, several seeds each, the `fastgshare sim`
 * cluster (4 nodes × 4 emulated V100, 8 functions, 300 s). Per policy: SLO violations (requests
 * that missed the SLO or were dropped), device-seconds (devices holding a replica × time),
 * allocated area-seconds (Σ quota × partition × time), cold starts and in-place resizes; median and
 * range over the seeds. Deterministic CPU work: the machine's load does not change the numbers.
 * Writes bench/results/vertical.md and ends with `RESULT {json}`.
 *   BENCH_VERTICAL_SEEDS=1,2,3  BENCH_VERTICAL_DURATION=300
 */
import {
  loadCalibrationProfiles,
  V100_DEVICE_CLASS,
  V100_MEMORY_BYTES,
} from '../core/profiles/calibration-profiles.ts';
import { oursPolicy } from '../scheduler/policies/ours.ts';
import { getPolicies } from '../scheduler/policies/registry.ts';
import type { PolicyFactory } from '../scheduler/policies/policy.ts';
import { clusterDevices, simulate, type SimResult } from '../scheduler/sim/simulator.ts';
import { generateTrace, type TraceKind } from '../scheduler/sim/traces.ts';
import { buildWorkload } from '../scheduler/sim/workload.ts';
import { markdownTable, printResultLine, writeResult } from './lib/table.ts';
import { median } from '../core/stats/percentile.ts';

const SEEDS = (process.env.BENCH_VERTICAL_SEEDS ?? '1,2,3').split(',').map(Number);
const DURATION_S = Number(process.env.BENCH_VERTICAL_DURATION ?? 300);
const NODES = 4;
const PER_NODE = 4;
const FUNCTIONS = 8;
const TRACES: TraceKind[] = ['diurnal', 'bursty'];

const profiles = loadCalibrationProfiles();
const devices = clusterDevices({
  nodes: NODES,
  devicesPerNode: PER_NODE,
  deviceClass: V100_DEVICE_CLASS,
  memoryBytes: V100_MEMORY_BYTES,
});
const LEAN = 'ours (reshapeArea 0)';
const policies: PolicyFactory[] = [
  ...getPolicies(['ours', 'ours-horizontal', 'fastgshare-published']),
  oursPolicy({ planner: { reshapeArea: 0 } }, LEAN),
];

interface Run {
  violations: number;
  attainment: number;
  deviceS: number;
  areaS: number;
  coldStarts: number;
  resizes: number;
  p99Ms: number;
  unplacedMax: number;
}

function summarise(r: SimResult): Run {
  const arrived = r.functions.reduce((s, f) => s + f.arrived, 0);
  const good = r.functions.reduce((s, f) => s + f.withinSlo, 0);
  return {
    violations: arrived - good,
    attainment: r.sloAttainment,
    deviceS: r.devicesMean * r.durationS,
    areaS: r.areaMean * r.durationS,
    coldStarts: r.coldStarts,
    resizes: r.resizes,
    p99Ms: r.p99Ms,
    unplacedMax: r.unplacedMax,
  };
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const spread = (xs: number[], d = 0) => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;

const t0 = performance.now();
const runs = new Map<string, Map<string, Run[]>>(); // trace → policy → per seed
const perSeedRows: string[][] = [];
for (const kind of TRACES) {
  const byPolicy = new Map<string, Run[]>(policies.map((p) => [p.name, []]));
  runs.set(kind, byPolicy);
  for (const seed of SEEDS) {
    const trace = generateTrace(kind, buildWorkload(profiles, FUNCTIONS, seed), DURATION_S, seed);
    for (const policy of policies) {
      const t = performance.now();
      const s = summarise(simulate({ profiles, devices, trace, policy, seed }));
      byPolicy.get(policy.name)!.push(s);
      perSeedRows.push([
        kind,
        String(seed),
        policy.name,
        fmt(s.violations),
        `${(s.attainment * 100).toFixed(2)} %`,
        fmt(s.deviceS),
        fmt(s.areaS),
        String(s.coldStarts),
        String(s.resizes),
        String(s.p99Ms),
        String(s.unplacedMax),
        ((performance.now() - t) / 1000).toFixed(1),
      ]);
      process.stderr.write(
        `${kind} seed ${seed} ${policy.name}: ${s.violations} violations, ${s.deviceS.toFixed(0)} device-s\n`,
      );
    }
  }
}
const wallS = (performance.now() - t0) / 1000;

/** Per-seed ratio a/b of one metric between two policies, median and range. */
function ratio(kind: string, a: string, b: string, metric: keyof Run): { median: number; min: number; max: number } {
  const ra = runs.get(kind)!.get(a)!;
  const rb = runs.get(kind)!.get(b)!;
  const xs = ra.map((x, i) => x[metric] / Math.max(1e-9, rb[i]![metric]));
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}
const rtext = (r: { median: number; min: number; max: number }) =>
  `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)})`;

const sections: string[] = [];
const result: Record<string, unknown> = {
  seeds: SEEDS,
  duration_s: DURATION_S,
  cluster: `${NODES}x${PER_NODE} v100`,
  functions: FUNCTIONS,
};
const traces: Record<string, unknown> = {};
for (const kind of TRACES) {
  const byPolicy = runs.get(kind)!;
  sections.push(`## ${kind} trace (median over seeds ${SEEDS.join(', ')}, range in brackets)`, '');
  sections.push(
    markdownTable(
      [
        'policy',
        'SLO violations',
        'SLO attainment',
        'device-seconds',
        'allocated area-seconds',
        'cold starts',
        'resized in place',
        'p99 ms',
      ],
      [...byPolicy].map(([name, rs]) => [
        name,
        spread(rs.map((r) => r.violations)),
        `${(median(rs.map((r) => r.attainment)) * 100).toFixed(2)} %`,
        spread(rs.map((r) => r.deviceS)),
        spread(rs.map((r) => r.areaS)),
        spread(rs.map((r) => r.coldStarts)),
        spread(rs.map((r) => r.resizes)),
        spread(rs.map((r) => r.p99Ms)),
      ]),
    ),
    '',
  );
  const vsH = {
    violations: ratio(kind, 'ours-horizontal', 'ours', 'violations'),
    deviceS: ratio(kind, 'ours', 'ours-horizontal', 'deviceS'),
    areaS: ratio(kind, 'ours', 'ours-horizontal', 'areaS'),
    coldStarts: ratio(kind, 'ours-horizontal', 'ours', 'coldStarts'),
  };
  const vsP = {
    violations: ratio(kind, 'fastgshare-published', 'ours', 'violations'),
    deviceS: ratio(kind, 'fastgshare-published', 'ours', 'deviceS'),
    areaS: ratio(kind, 'fastgshare-published', 'ours', 'areaS'),
  };
  const lean = {
    violations: ratio(kind, 'ours-horizontal', LEAN, 'violations'),
    deviceS: ratio(kind, LEAN, 'ours-horizontal', 'deviceS'),
  };
  sections.push(
    `Per-seed ratios, median (range): horizontal-only ÷ vertical SLO violations **${rtext(vsH.violations)}**, cold starts ${rtext(vsH.coldStarts)}; vertical ÷ horizontal-only device-seconds **${rtext(vsH.deviceS)}**, allocated area-seconds ${rtext(vsH.areaS)}. ` +
      `FaST-GShare as published ÷ vertical: SLO violations ${rtext(vsP.violations)}, device-seconds ${rtext(vsP.deviceS)}, area-seconds ${rtext(vsP.areaS)}. ` +
      `${LEAN}: horizontal-only ÷ it SLO violations ${rtext(lean.violations)}, it ÷ horizontal-only device-seconds ${rtext(lean.deviceS)}.`,
    '',
  );
  traces[kind] = {
    policies: Object.fromEntries(
      [...byPolicy].map(([name, rs]) => [
        name,
        {
          violations: median(rs.map((r) => r.violations)),
          attainment: +median(rs.map((r) => r.attainment)).toFixed(4),
          device_s: +median(rs.map((r) => r.deviceS)).toFixed(0),
          area_s: +median(rs.map((r) => r.areaS)).toFixed(0),
          cold_starts: median(rs.map((r) => r.coldStarts)),
          resizes: median(rs.map((r) => r.resizes)),
        },
      ]),
    ),
    horizontal_over_vertical_violations: +vsH.violations.median.toFixed(2),
    vertical_over_horizontal_device_s: +vsH.deviceS.median.toFixed(3),
    vertical_over_horizontal_area_s: +vsH.areaS.median.toFixed(3),
    published_over_vertical_violations: +vsP.violations.median.toFixed(2),
    published_over_vertical_device_s: +vsP.deviceS.median.toFixed(3),
  };
}
result.traces = traces;
result.wall_s = +wallS.toFixed(1);

const text = [
  '# Vertical before horizontal (simulator)',
  '',
  `\`npm run bench:vertical\` — ${NODES} nodes × ${PER_NODE} emulated V100 (calibration/ profiles), ${FUNCTIONS} functions, ${DURATION_S} s per run, seeds ${SEEDS.join(', ')}; the \`fastgshare sim\` defaults. Machine: ${process.platform} ${process.arch}, Node ${process.version}; ${wallS.toFixed(0)} s of simulation in all (deterministic: load does not change the numbers).`,
  '',
  '- **ours**: the default — quotas of running replicas first (live, no restart), replicas added only for the demand left, scale-down lowers quotas and stops only replicas surplus as a whole (scheduler/vertical.ts).',
  '- **ours-horizontal**: the same planner without the vertical step (every change re-plans the replica set): the policy before this change.',
  '- **fastgshare-published**: FaST-GShare as published (batch 1, no SLO check, MaxRects); its replicas restart on any configuration change. On this cluster it runs out of devices (see unplaced in the per-seed table).',
  `- **${LEAN}**: ours, re-planning the replica set on any scale-down where lower quotas keep more area than the plan for the demand (default 0.25: 25 % more).`,
  '',
  'SLO violations: requests that finished after their SLO or were dropped (queued past it, or with no replica). Device-seconds: Σ over time of devices holding at least one replica. Allocated area-seconds: Σ over time of quota × partition of every replica (a fine-grained share of devices, what a per-share price charges). Cold starts: replicas started after the first round (each serves only after 2 s). Resized in place: replicas whose quota changed while they kept running (for ours, also a re-plan that keeps partition, batch and device: the node agent moves the replica live).',
  '',
  ...sections,
  '## Every run',
  '',
  markdownTable(
    [
      'trace',
      'seed',
      'policy',
      'SLO violations',
      'SLO attainment',
      'device-s',
      'area-s',
      'cold starts',
      'resized',
      'p99 ms',
      'unplaced (max)',
      'wall s',
    ],
    perSeedRows,
  ),
  '',
].join('\n');
await writeResult('vertical', text);
printResultLine(result);
