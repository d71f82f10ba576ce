/**
 * How the auto-scaler changes a function: the replica count through the control plane's scale
 * (clamped to the bounds, the per-function ceiling and every admission limit — a tenant's, a
 * node's — rather than refused; rolled out through the Placement seam), and a rollout of the
 * planned placement (replica groups per node) when only the configurations changed. The function's
 * stored annotations stay what its owner deployed. When admission lowered a count, `admission(key)`
 * says why, for GET /system/explain/<fn>.
 */
import type { FunctionsControl } from '../control/functions.ts';
import type { Reconciler } from '../control/reconciler.ts';
import { describeViolation } from '../admission/refusal.ts';

/** Why the last scale of a function applied fewer replicas than the auto-scaler planned. */
export interface AdmissionClamp {
  asked: number;
  applied: number;
  /** One sentence per limit that held it back (limit, value, total asked for, how to get more). */
  reasons: string[];
  limits: string[];
}

export interface ScaleTarget {
  /** Sets the replica count; resolves with the count applied. */
  scale(name: string, namespace: string, replicas: number): Promise<number>;
  /** Pushes every function's placement to the nodes soon (a reconcile pass). */
  rollout(): void;
  /** The clamp of the last scale of `name.namespace`, when admission lowered it. */
  admission?(key: string): AdmissionClamp | undefined;
}

export function createControlScaleTarget(d: { control: FunctionsControl; reconciler: Reconciler }): ScaleTarget {
  const clamps = new Map<string, AdmissionClamp>();
  return {
    async scale(name, namespace, replicas) {
      const fit = await d.control.scaleWithin(name, namespace, replicas);
      const key = `${name}.${namespace}`;
      if (fit.limitedBy?.length)
        clamps.set(key, {
          asked: replicas,
          applied: fit.replicas,
          reasons: fit.limitedBy.map(describeViolation),
          limits: fit.limitedBy.map((v) => v.limit),
        });
      else clamps.delete(key);
      return fit.replicas;
    },
    rollout: () => d.reconciler.trigger(),
    admission: (key) => clamps.get(key),
  };
}
