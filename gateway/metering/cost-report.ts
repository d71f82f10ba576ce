/**
 * Builds a cost report from the usage records: per tenant (a namespace's owner; namespaces no
 * tenant owns are reported under UNASSIGNED so the tenants always add up to the platform),
 * per function, and per period. Costs are summed in integer micro-units (pricing.ts), so every
 * total is exactly the sum of its parts.
 */
import type { Models } from '../../core/store/models.ts';
import type { PricingConfig } from '../../core/config.ts';
import { addUsage, floorTo, GRANULARITY_MS, USAGE_FIELDS, zeroUsage, type UsageFields } from './usage-fields.ts';
import { costMicros, fromMicros, ratesFor, type CostMicros } from './pricing.ts';
import type { CostQuery } from './cost-query.ts';
import type { CostLine, CostReport, TenantCost } from '../../core/contracts/cost.ts';

export const UNASSIGNED = '(unassigned)';

export type { CostLine, CostReport, TenantCost } from '../../core/contracts/cost.ts';

class Acc {
  usage = zeroUsage();
  micros: CostMicros = { device: 0, memory: 0, invocations: 0, total: 0 };
  add(u: UsageFields, c: CostMicros): void {
    addUsage(this.usage, u);
    this.micros.device += c.device;
    this.micros.memory += c.memory;
    this.micros.invocations += c.invocations;
    this.micros.total += c.total;
  }
  line(): CostLine {
    return {
      ...this.usage,
      cost: fromMicros(this.micros.total),
      costDevice: fromMicros(this.micros.device),
      costMemory: fromMicros(this.micros.memory),
      costInvocations: fromMicros(this.micros.invocations),
    };
  }
}

const get = <K, V>(m: Map<K, V>, k: K, make: () => V): V => {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
};

export async function buildCostReport(
  d: { models: Models; pricing: PricingConfig; owners: Map<string, string> },
  q: CostQuery,
): Promise<CostReport> {
  const filter: Record<string, unknown> = { start: { $gte: q.from, $lt: q.to } };
  const owned = new Map<string, string[]>();
  for (const [ns, t] of d.owners) get(owned, t, () => []).push(ns);
  if (q.tenant) filter.namespace = { $in: q.tenant === UNASSIGNED ? [] : (owned.get(q.tenant) ?? []) };
  const records = await d.models.UsageRecord.find(filter).lean();
  const step = GRANULARITY_MS[q.granularity];
  const total = new Acc();
  const tenants = new Map<string, { totals: Acc; fns: Map<string, Acc>; series: Map<string, Acc> }>();
  if (q.tenant) tenants.set(q.tenant, { totals: new Acc(), fns: new Map(), series: new Map() });
  for (const r of records) {
    const u = zeroUsage();
    for (const f of USAGE_FIELDS) u[f] = (r[f] as number | undefined) ?? 0;
    const c = costMicros(u, ratesFor(d.pricing, r.device), q.model);
    const tenant = d.owners.get(r.namespace) ?? UNASSIGNED;
    const t = get(tenants, tenant, () => ({ totals: new Acc(), fns: new Map(), series: new Map() }));
    const fn = `${r.namespace}\u0000${r.name}`;
    total.add(u, c);
    t.totals.add(u, c);
    get(t.fns, fn, () => new Acc()).add(u, c);
    get(t.series, `${floorTo(r.start.getTime(), step)}\u0000${fn}`, () => new Acc()).add(u, c);
  }
  const out: TenantCost[] = [...tenants]
    .sort(([a], [b]) => (a === UNASSIGNED ? 1 : b === UNASSIGNED ? -1 : a.localeCompare(b)))
    .map(([tenant, t]) => ({
      tenant,
      namespaces: [...(owned.get(tenant) ?? [])].sort(),
      totals: t.totals.line(),
      functions: [...t.fns]
        .map(([k, a]) => {
          const [namespace, name] = k.split('\u0000') as [string, string];
          return { namespace, name, totals: a.line() };
        })
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
      series: [...t.series]
        .map(([k, a]) => {
          const [start, namespace, name] = k.split('\u0000') as [string, string, string];
          return { start: new Date(Number(start)).toISOString(), namespace, name, ...a.line() };
        })
        .sort(
          (a, b) =>
            a.start.localeCompare(b.start) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
        ),
    }));
  return {
    from: q.from.toISOString(),
    to: q.to.toISOString(),
    granularity: q.granularity,
    model: q.model,
    currency: d.pricing.currency,
    tenants: out,
    total: total.line(),
  };
}
