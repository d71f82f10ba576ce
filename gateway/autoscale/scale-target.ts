/**
 * How the auto-scaler changes a function: the replica count through the control plane's scale
 * (clamped to the bounds, rolled out through the Placement seam), and the configuration as the
 * function's device annotations (stored, then rolled out by a reconcile pass).
 */
import type { Models } from '../../core/store/models.ts';
import { PlatformError } from '../../core/errors.ts';
import type { FunctionsControl } from '../control/functions.ts';
import type { Reconciler } from '../control/reconciler.ts';
import type { Serial } from '../control/serial.ts';
import { asStringMap } from '../control/function-spec.ts';

export interface ScaleTarget {
  /** Sets the replica count; resolves with the count applied. */
  scale(name: string, namespace: string, replicas: number): Promise<number>;
  /** Replaces the function's annotations by `update(current)`; resolves false when nothing changed. */
  updateAnnotations(name: string, namespace: string, update: (current: Record<string, string>) => Record<string, string>): Promise<boolean>;
}

export function createControlScaleTarget(d: { control: FunctionsControl; models: Models; serial: Serial; reconciler: Reconciler }): ScaleTarget {
  return {
    scale: (name, namespace, replicas) => d.control.scale(name, { serviceName: name, namespace, replicas }, namespace),
    async updateAnnotations(name, namespace, update) {
      const changed = await d.serial.run(async () => {
        const doc = await d.models.Function.findOne({ namespace, name }).lean();
        if (!doc) throw new PlatformError('not_found', `function "${name}" not found in namespace "${namespace}"`);
        const current = asStringMap(doc.annotations);
        const next = update(current);
        const same = Object.keys(next).length === Object.keys(current).length && Object.entries(next).every(([k, v]) => current[k] === v);
        if (same) return false;
        await d.models.Function.updateOne({ namespace, name }, { $set: { annotations: next }, $inc: { generation: 1 } });
        return true;
      });
      if (changed) d.reconciler.trigger();
      return changed;
    },
  };
}
