/**
 * Text for `fastgshare explain <fn>`: the demand, the chosen configurations, the alternatives and why, and where the
 * replicas went.
 */
import type { ReplicaConfig } from '../core/profiles/profile-table.ts';
import type { FunctionDecision } from './policies/policy.ts';
import type { ConfigNote } from './planner.ts';
import type { PlannedReplica } from './types.ts';
import type { VerticalExplanation } from './vertical.ts';

/** A figure with its unit, or "unknown" (never `NaN ms`): a table row may lack one. */
const fig = (x: number, digits: number, unit: string) =>
  Number.isFinite(x) ? `${x.toFixed(digits)} ${unit}` : `unknown ${unit}`;
const rate = (rps: number) => (Number.isFinite(rps) && rps > 0 ? `${rps.toFixed(1)} rps` : 'no rate within the SLO');
const cfg = (c: ConfigNote) =>
  `partition ${c.partitionPercent} %, quota ${c.quota}, batch ${c.batch}: ${rate(c.rps)}, batch latency ${fig(c.batchLatencyMs, 1, 'ms')}, ${fig(c.efficiency, 0, 'rps per device')} (${c.source})`;

const short = (c: ReplicaConfig) => `p${c.partitionPercent}/q${c.quota}/b${c.batch}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "3 × p20/q1/b8 (1310.0 rps), 1 × p20/q0.6/b8 (786.0 rps)": the plan's replicas by configuration. */
function planSummary(replicas: readonly PlannedReplica[]): string {
  const by = new Map<string, { n: number; rps: number }>();
  for (const r of replicas) {
    const k = short(r.config);
    const x = by.get(k);
    if (x) x.n++;
    else by.set(k, { n: 1, rps: r.capacityRps });
  }
  return [...by].map(([k, x]) => `${x.n} × ${k} (${rate(x.rps)})`).join(', ');
}

/** What the vertical step resized, stopped or could not do, and what it left to new replicas. */
function verticalLines(v: VerticalExplanation, replicas: readonly PlannedReplica[]): string[] {
  const tail =
    v.direction === 'up'
      ? v.added
        ? `; ${v.restRps.toFixed(1)} rps left → ${plural(v.added, 'replica')} added`
        : '; nothing left for new replicas'
      : v.removed.length
        ? `; ${plural(v.removed.length, 'replica')} stopped (surplus as a whole)`
        : '';
  const out = [
    `  vertical first (quotas of running replicas, applied live without a restart): running ${v.runningRps.toFixed(1)} → ${v.resizedRps.toFixed(1)} rps${tail}`,
  ];
  for (const r of v.resized) {
    out.push(
      `    - ${r.to.quota > r.from.quota ? 'raised' : 'lowered'} ${r.replicaIds.join(', ')} on ${r.deviceId}: quota ${r.from.quota} → ${r.to.quota} (partition ${r.to.partitionPercent} %, largest batch ${r.to.batch} kept): ${r.fromRps.toFixed(1)} → ${r.toRps.toFixed(1)} rps each`,
    );
  }
  for (const b of v.blocked)
    out.push(`    - ${b.deviceId} cannot take ${b.replicaIds.join(', ')} at quota ${b.quota}: ${b.why}`);
  if (v.removed.length) out.push(`    - stopped ${v.removed.join(', ')}`);
  out.push(`  plan: ${planSummary(replicas)}`);
  return out;
}

export function formatExplanation(d: FunctionDecision): string {
  const lines: string[] = [`function ${d.function}`];
  const p = d.plan;
  if (p) {
    const ex = p.explanation;
    lines.push(
      `  model ${ex.model}, SLO ${ex.sloMs} ms, demand ${ex.demandRps.toFixed(1)} rps → ${p.action}: ${p.replicas.length} replica${p.replicas.length === 1 ? '' : 's'}, ${Number.isFinite(p.capacityRps) && p.capacityRps > 0 ? `capacity ${p.capacityRps.toFixed(1)} rps` : 'no profiled capacity'}`,
    );
    if (ex.vertical) lines.push(...verticalLines(ex.vertical, p.replicas));
    const added = ex.vertical ? 'added ' : '';
    if (ex.efficient) lines.push(`  ${added}efficient: ${ex.efficient.replicas} × ${cfg(ex.efficient)}`);
    for (const m of ex.mix ?? []) lines.push(`  ${added}also saturated: ${m.replicas} × ${cfg(m)}`);
    if (ex.residual) lines.push(`  ${added}residual (${ex.residual.residualRps.toFixed(1)} rps): ${cfg(ex.residual)}`);
    if (p.needsProfiling) lines.push('  needs profiling: a profiling job should be queued');
    if (p.sloUnachievable) lines.push('  SLO unachievable with the profiled configurations');
    for (const n of ex.notes) lines.push(`  note: ${n}`);
    if (ex.alternatives.length) {
      lines.push(`  alternatives (${ex.infeasible} configurations miss the SLO at batch 1):`);
      for (const a of ex.alternatives) lines.push(`    - ${cfg(a)} — ${a.rejected}`);
    }
  }
  if (d.placement.length) {
    lines.push('  placement:');
    for (const n of d.placement) {
      const rej =
        n.rejected && Object.keys(n.rejected).length
          ? ` (devices ruled out: ${Object.entries(n.rejected)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')})`
          : '';
      lines.push(
        `    - ${n.action} ${n.replicaId || '(new)'} p${n.config.partitionPercent}/q${n.config.quota}/b${n.config.batch}${n.deviceId ? ` on ${n.deviceId}` : ''}: ${n.why}${rej}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
