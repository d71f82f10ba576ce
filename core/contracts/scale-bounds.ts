/** Replica bounds from the OpenFaaS labels com.openfaas.scale.min / com.openfaas.scale.max. */
import { PlatformError } from '../errors.ts';

export const SCALE_MIN_LABEL = 'com.openfaas.scale.min';
export const SCALE_MAX_LABEL = 'com.openfaas.scale.max';
export const DEFAULT_MIN_REPLICAS = 1;
export const MAX_REPLICAS = 1000;

export interface ScaleBounds {
  min: number;
  max: number;
}

function label(labels: Record<string, string>, key: string, dflt: number): number {
  const raw = labels[key];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > MAX_REPLICAS) {
    throw new PlatformError(
      'bad_request',
      `label ${key} must be a whole number from 0 to ${MAX_REPLICAS}, got "${raw}"`,
      { details: { field: `labels.${key}` } },
    );
  }
  return Number(raw);
}

/** Bounds from a function's labels; a 400 when they are not numbers or min > max. */
export function scaleBounds(labels: Record<string, string>): ScaleBounds {
  const min = label(labels, SCALE_MIN_LABEL, DEFAULT_MIN_REPLICAS);
  const max = label(labels, SCALE_MAX_LABEL, MAX_REPLICAS);
  if (min > max)
    throw new PlatformError(
      'bad_request',
      `label ${SCALE_MIN_LABEL} (${min}) is greater than ${SCALE_MAX_LABEL} (${max})`,
      { details: { field: `labels.${SCALE_MIN_LABEL}` } },
    );
  return { min, max };
}

export function clampReplicas(replicas: number, b: ScaleBounds): number {
  return Math.min(b.max, Math.max(b.min, replicas));
}
