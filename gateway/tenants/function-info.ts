/**
 * What the invocation path needs to know about a function beyond routing, read from its
 * annotations with the one parser (core/contracts/annotations.ts) and cached for `ttlMs` (a
 * changed annotation takes effect within that time):
 *   fastgshare/invoke_auth   public (default, as in OpenFaaS) | tenant (the owner's key is required)
 *   fastgshare/slo_ms        latency objective, for SLO metering
 *   fastgshare/device        device kind, for metering and pricing (default cpu)
 * Deploys refuse bad values (400), so stored functions parse; one that does not (stored before
 * that check) fails its lookups with the same 400 naming the annotation, never read as public.
 */
import type { Models } from '../../core/store/models.ts';
import type { Clock } from '../../core/clock.ts';
import { readFunctionAnnotations, type InvokeAuth } from '../../core/contracts/annotations.ts';
import type { DeviceKind } from '../../core/contracts/devices.ts';

export interface FunctionInfo {
  invokeAuth: InvokeAuth;
  sloMs?: number;
  device: DeviceKind;
}

export interface FunctionInfoCache {
  /** undefined when the function does not exist. */
  get(namespace: string, name: string): Promise<FunctionInfo | undefined>;
}

export function functionInfoOf(annotations: Record<string, string> | undefined | null): FunctionInfo {
  const a = readFunctionAnnotations(annotations ?? undefined);
  return { invokeAuth: a.invokeAuth, sloMs: a.sloMs, device: a.device };
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
        .then((doc) => (doc ? functionInfoOf(doc.annotations as Record<string, string> | undefined) : undefined));
      value.catch(() => entries.delete(key));
      if (entries.size > 50_000) entries.clear();
      entries.set(key, { at: now, value });
      return value;
    },
  };
}
