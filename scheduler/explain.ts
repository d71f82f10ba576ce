/** Text for `fastgshare explain <fn>`: the demand, the chosen configurations, the alternatives and why, and where the replicas went. */
import type { FunctionDecision } from './policies/policy.ts';
import type { ConfigNote } from './planner.ts';

const cfg = (c: ConfigNote) => `partition ${c.partitionPercent} %, quota ${c.quota}, batch ${c.batch}: ${c.rps.toFixed(1)} rps, batch latency ${c.batchLatencyMs.toFixed(1)} ms, ${c.efficiency.toFixed(0)} rps per device (${c.source})`;

export function formatExplanation(d: FunctionDecision): string {
  const lines: string[] = [`function ${d.function}`];
  const p = d.plan;
  if (p) {
    const ex = p.explanation;
    lines.push(`  model ${ex.model}, SLO ${ex.sloMs} ms, demand ${ex.demandRps.toFixed(1)} rps → ${p.action}: ${p.replicas.length} replicas, capacity ${p.capacityRps.toFixed(1)} rps`);
    if (ex.efficient) lines.push(`  efficient: ${ex.efficient.replicas} × ${cfg(ex.efficient)}`);
    for (const m of ex.mix ?? []) lines.push(`  also saturated: ${m.replicas} × ${cfg(m)}`);
    if (ex.residual) lines.push(`  residual (${ex.residual.residualRps.toFixed(1)} rps): ${cfg(ex.residual)}`);
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
      const rej = n.rejected && Object.keys(n.rejected).length ? ` (devices ruled out: ${Object.entries(n.rejected).map(([k, v]) => `${v} ${k}`).join(', ')})` : '';
      lines.push(`    - ${n.action} ${n.replicaId || '(new)'} p${n.config.partitionPercent}/q${n.config.quota}/b${n.config.batch}${n.deviceId ? ` on ${n.deviceId}` : ''}: ${n.why}${rej}`);
    }
  }
  return lines.join('\n') + '\n';
}
