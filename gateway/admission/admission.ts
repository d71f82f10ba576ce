/**
 * Admission control: every deploy, update and scale is checked against the limits before
 * anything is stored or sent to a node, so a refused change leaves everything as it was.
 *   - the per-function replica ceiling (function-ceiling.ts), for every caller;
 *   - the limits of the tenant that owns the function's namespace (tenant-limits.ts): Σ replicas,
 *     functions, Σ guaranteed device share, Σ memory limits over all its functions;
 *   - each node's capacity over every tenant's functions where the placement puts them
 *     (node-usage.ts): Σ guaranteed share ≤ 1 per device, Σ limits.memory ≤ the node's memory.
 * A change is refused only for a total it raises above its limit (violations.ts). The
 * auto-scaler does not get refusals: `fit` gives the largest count within every limit.
 * Functions in namespaces no tenant owns (the admin's) have no tenant limits; the ceiling and
 * the node checks hold for them too. Callers run these inside the control plane's serial section.
 */
import type { AdmissionConfig } from '../../core/config.ts';
import type { TenantLimitsInfo } from '../../core/contracts/admission.ts';
import type { NodeAgentClient } from '../../core/contracts/node-agent.ts';
import type { Logger } from '../../core/logger.ts';
import type { Models } from '../../core/store/models.ts';
import { asStringMap } from '../control/function-spec.ts';
import type { Placement } from '../control/placement.ts';
import type { ScaleBounds } from '../../core/contracts/scale-bounds.ts';
import { ceilingViolation, labelViolations } from './function-ceiling.ts';
import { replicaMemory, replicaShare, type AdmissionFunction } from './footprint.ts';
import type { NodeCapacities } from './node-capacities.ts';
import { nodeUsage } from './node-usage.ts';
import { formatValue, refusal } from './refusal.ts';
import { effectiveLimits, parseLimitsChange, type TenantLimitsStore } from './tenant-limits.ts';
import { tenantUsage } from './tenant-usage.ts';
import { nodeViolations, tenantViolations, type Violation } from './violations.ts';

export interface AdmissionDeps {
  models: Models;
  placement: Placement;
  capacities: NodeCapacities;
  limits: TenantLimitsStore;
  config: AdmissionConfig;
  log: Logger;
}

/** What the auto-scaler was allowed. */
export interface Fit {
  replicas: number;
  /** Why it is below what was asked (absent when it is not). */
  limitedBy?: Violation[];
}

export interface Admission {
  readonly maxReplicasPerFunction: number;
  /** A deployment (create or update) of `fn` with these scale labels; throws limit_exceeded. */
  admitDeploy(
    fn: AdmissionFunction,
    labels: Record<string, string>,
    bounds: ScaleBounds,
    nodes: readonly NodeAgentClient[],
    action: string,
  ): Promise<void>;
  /** A scale of stored `fn` asked for `requested` replicas, `target` after the label bounds; throws limit_exceeded. */
  admitScale(
    fn: AdmissionFunction,
    requested: number,
    target: number,
    nodes: readonly NodeAgentClient[],
    action: string,
  ): Promise<void>;
  /** The largest count from fn.replicas up to `wanted` within every limit (any count at or below fn.replicas is). */
  fit(fn: AdmissionFunction, wanted: number, nodes: readonly NodeAgentClient[]): Promise<Fit>;
  /** GET /system/tenants/<name>/limits. */
  info(tenant: string): Promise<TenantLimitsInfo>;
  /** PUT /system/tenants/<name>/limits. */
  setLimits(tenant: string, body: unknown): Promise<TenantLimitsInfo>;
}

const same = (a: { name: string; namespace: string }, b: { name: string; namespace: string }) =>
  a.name === b.name && a.namespace === b.namespace;

export function createAdmission(d: AdmissionDeps): Admission {
  const ceiling = d.config.maxReplicasPerFunction;

  /**
   * Every stored function; one whose annotations or limits no longer parse counts as reserving nothing (said in the
   * log).
   */
  async function stored(): Promise<AdmissionFunction[]> {
    const docs = await d.models.Function.find(
      {},
      { name: 1, namespace: 1, annotations: 1, limits: 1, replicas: 1 },
    ).lean();
    return docs.map((f) => {
      const fn: AdmissionFunction = {
        name: f.name,
        namespace: f.namespace,
        annotations: asStringMap(f.annotations),
        limits: f.limits ?? undefined,
        replicas: f.replicas,
      };
      try {
        replicaShare(fn.annotations);
        replicaMemory(fn.limits);
        return fn;
      } catch (err) {
        d.log.warn('stored function has annotations or limits admission cannot read; counted as reserving nothing', {
          function: `${f.name}.${f.namespace}`,
          error: (err as Error).message,
        });
        return { ...fn, annotations: {}, limits: undefined };
      }
    });
  }

  /** The limits `after` breaks that the change raises. */
  async function evaluate(
    after: AdmissionFunction,
    nodes: readonly NodeAgentClient[],
    world?: AdmissionFunction[],
  ): Promise<Violation[]> {
    // the proposed function first: a bad annotation or limits.memory is a 400 naming it
    replicaShare(after.annotations);
    replicaMemory(after.limits);
    const before = world ?? (await stored());
    const next = [...before.filter((f) => !same(f, after)), after];
    const out: Violation[] = [];
    const owner = await d.limits.ownerOf(after.namespace);
    if (owner) {
      const own = (fs: AdmissionFunction[]) => fs.filter((f) => owner.namespaces.includes(f.namespace));
      out.push(
        ...tenantViolations(
          owner.name,
          effectiveLimits(d.config.tenantDefaults, owner.overrides),
          tenantUsage(own(before)),
          tenantUsage(own(next)),
          formatValue,
        ),
      );
    }
    if (nodes.length > 0) {
      const caps = await d.capacities.of(nodes);
      out.push(...nodeViolations(caps, nodeUsage(before, nodes, d.placement), nodeUsage(next, nodes, d.placement)));
    }
    return out;
  }

  async function info(tenant: string): Promise<TenantLimitsInfo> {
    const owner = await d.limits.get(tenant);
    const own = (await stored()).filter((f) => owner.namespaces.includes(f.namespace));
    return {
      tenant: owner.name,
      defaults: { ...d.config.tenantDefaults },
      overrides: owner.overrides,
      effective: effectiveLimits(d.config.tenantDefaults, owner.overrides),
      usage: tenantUsage(own),
      maxReplicasPerFunction: ceiling,
    };
  }

  return {
    maxReplicasPerFunction: ceiling,
    async admitDeploy(fn, labels, bounds, nodes, action) {
      const world = await stored();
      const current = world.find((f) => same(f, fn))?.replicas ?? 0;
      const violations = labelViolations(fn.name, labels, bounds, current, ceiling);
      // replicas only rise on create or when new bounds lift them; a count kept from before the ceiling existed is not
      // refused
      const c = fn.replicas > current ? ceilingViolation(fn.name, fn.replicas, current, ceiling) : undefined;
      if (c) violations.push(c);
      violations.push(...(await evaluate(fn, nodes, world)));
      if (violations.length) throw refusal(action, violations);
    },
    async admitScale(fn, requested, target, nodes, action) {
      const c = ceilingViolation(fn.name, requested, fn.replicas, ceiling);
      if (c) throw refusal(action, [c]);
      if (target <= fn.replicas) return; // nothing rises
      const violations = await evaluate({ ...fn, replicas: target }, nodes);
      if (violations.length) throw refusal(action, violations);
    },
    async fit(fn, wanted, nodes) {
      const limitedBy: Violation[] = [];
      let top = wanted;
      const c = ceilingViolation(fn.name, wanted, fn.replicas, ceiling);
      if (c) {
        limitedBy.push(c);
        top = ceiling;
      }
      if (top <= fn.replicas) return { replicas: top, ...(limitedBy.length ? { limitedBy } : {}) };
      const world = await stored();
      const at = (n: number) => evaluate({ ...fn, replicas: n }, nodes, world);
      const atTop = await at(top);
      if (atTop.length === 0) return { replicas: top, ...(limitedBy.length ? { limitedBy } : {}) };
      // every total grows with the count: the largest admissible count by bisection, fn.replicas always is
      let lo = fn.replicas;
      let hi = top;
      let why = atTop;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const v = await at(mid);
        if (v.length === 0) lo = mid;
        else {
          hi = mid;
          why = v;
        }
      }
      return { replicas: lo, limitedBy: [...limitedBy, ...why] };
    },
    info,
    async setLimits(tenant, body) {
      const change = parseLimitsChange(body);
      await d.limits.update(tenant, change);
      d.log.info('tenant limits changed', { tenant, set: JSON.stringify(change.set), cleared: change.clear.join(',') });
      return info(tenant);
    },
  };
}
