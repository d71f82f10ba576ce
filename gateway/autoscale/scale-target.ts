/**
 * How the auto-scaler changes a function: the replica count through the control plane's scale
 * (clamped to the bounds, rolled out through the Placement seam), and a rollout of the planned
 * placement (replica groups per node) when only the configurations changed. The function's
 * stored annotations stay what its owner deployed.
 */
import type { FunctionsControl } from '../control/functions.ts';
import type { Reconciler } from '../control/reconciler.ts';

export interface ScaleTarget {
  /** Sets the replica count; resolves with the count applied. */
  scale(name: string, namespace: string, replicas: number): Promise<number>;
  /** Pushes every function's placement to the nodes soon (a reconcile pass). */
  rollout(): void;
}

export function createControlScaleTarget(d: { control: FunctionsControl; reconciler: Reconciler }): ScaleTarget {
  return {
    scale: (name, namespace, replicas) => d.control.scale(name, { serviceName: name, namespace, replicas }, namespace),
    rollout: () => d.reconciler.trigger(),
  };
}
