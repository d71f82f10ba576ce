/**
 * The hard ceiling of one function's replicas (FASTGSHARE_MAX_REPLICAS_PER_FUNCTION), for every
 * caller, the admin and the auto-scaler included: no request can ask a node for hundreds of
 * processes. A scale request above it is refused (not clamped: it asked for something the
 * platform never runs); a com.openfaas.scale.min/max label above it is refused at deploy.
 */
import { SCALE_MAX_LABEL, SCALE_MIN_LABEL, type ScaleBounds } from '../../core/contracts/scale-bounds.ts';
import type { Violation } from './violations.ts';

const remedy = (ceiling: number) =>
  `ask for at most ${ceiling}; this ceiling holds for every caller, the admin included, and only the platform's configuration changes it (FASTGSHARE_MAX_REPLICAS_PER_FUNCTION)`;

/** A scale request for `requested` replicas of a function that runs `current`. */
export function ceilingViolation(
  fn: string,
  requested: number,
  current: number,
  ceiling: number,
): Violation | undefined {
  if (requested <= ceiling) return undefined;
  return {
    limit: 'function.replicas',
    scope: `function "${fn}"`,
    value: ceiling,
    requested,
    current,
    unit: 'replicas',
    remedy: remedy(ceiling),
  };
}

/** A deployment's scale labels: the minimum, and the maximum when the label sets one, must be within the ceiling. */
export function labelViolations(
  fn: string,
  labels: Record<string, string>,
  bounds: ScaleBounds,
  current: number,
  ceiling: number,
): Violation[] {
  const out: Violation[] = [];
  const check = (label: string, v: number) => {
    if (v > ceiling)
      out.push({
        limit: 'function.replicas',
        scope: `function "${fn}" label ${label}`,
        value: ceiling,
        requested: v,
        current,
        unit: 'replicas',
        remedy: `set ${label} to at most ${ceiling}, or leave it out; ${remedy(ceiling)}`,
      });
  };
  check(SCALE_MIN_LABEL, bounds.min);
  if (labels[SCALE_MAX_LABEL] !== undefined && labels[SCALE_MAX_LABEL] !== '') check(SCALE_MAX_LABEL, bounds.max);
  return out;
}
