/**
 * What the invocation path needs to know about a function beyond routing, read from its
 * annotations and cached for `ttlMs` (a changed annotation takes effect within that time):
 *   fastgshare/invoke_auth   public (default, as in OpenFaaS) | tenant (the owner's key is required)
 *   fastgshare/slo_ms        latency objective, for SLO metering
 *   fastgshare/device        device class for pricing (default cpu)
 */
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import { PlatformError } from '../../core/errors.ts';

export const INVOKE_AUTH_ANNOTATION = 'fastgshare/invoke_auth';
export const SLO_ANNOTATION = 'fastgshare/slo_ms';
export const DEVICE_ANNOTATION = 'fastgshare/device';

export type InvokeAuth = 'public' | 'tenant';

export interface FunctionInfo {
  invokeAuth: InvokeAuth;
  sloMs?: number;
  deviceClass: string;
}

export interface FunctionInfoCache {
  /** undefined when the function does not exist. */
  get(namespace: string, name: string): Promise<FunctionInfo | undefined>;
}

/** Throws a 400 naming the annotation when a deployment gives a value we do not know. */
export function checkInvokeAuthAnnotation(annotations: unknown): void {
  if (!annotations || typeof annotations !== 'object') return;
  const v = (annotations as Record<string, unknown>)[INVOKE_AUTH_ANNOTATION];
  if (v === undefined || v === 'public' || v === 'tenant') return;
  throw new PlatformError('bad_request', `annotation ${INVOKE_AUTH_ANNOTATION} must be "public" or "tenant", got ${JSON.stringify(v)}`, { details: { field: `annotations.${INVOKE_AUTH_ANNOTATION}` } });
}

export function functionInfoOf(annotations: Record<string, unknown> | undefined | null): FunctionInfo {
  const a = annotations ?? {};
  const slo = Number(a[SLO_ANNOTATION]);
  const device = typeof a[DEVICE_ANNOTATION] === 'string' && a[DEVICE_ANNOTATION] !== '' ? (a[DEVICE_ANNOTATION] as string) : 'cpu';
  return { invokeAuth: a[INVOKE_AUTH_ANNOTATION] === 'tenant' ? 'tenant' : 'public', sloMs: Number.isFinite(slo) && slo > 0 ? slo : undefined, deviceClass: device };
}

export function createFunctionInfoCache(d: { models: Models; clock: Clock; ttlMs?: number }): FunctionInfoCache {
  const ttl = d.ttlMs ?? 1_000;
  const entries = new Map<string, { at: number; value: Promise<FunctionInfo | undefined> }>();
  return {
    get(namespace, name) {
      const key = `${name}.${namespace}`;
      const now = d.clock.now();
      const hit = entries.get(key);
      if (hit && now - hit.at < ttl) return hit.value;
      const value = d.models.Function.findOne({ namespace, name }, { annotations: 1 })
        .lean()
        .then((doc) => (doc ? functionInfoOf(doc.annotations as Record<string, unknown>) : undefined));
      value.catch(() => entries.delete(key));
      if (entries.size > 50_000) entries.clear();
      entries.set(key, { at: now, value });
      return value;
    },
  };
}
