/**
 * Replica groups of an ApplyFunctionRequest: replicas of one function on this node that run
 * different configurations. Each group's spec is the function's spec with the group's annotation
 * overrides laid over its annotations; that merged spec goes through the same device and sharing
 * path as any spec (core/contracts/annotations.ts reads it), so partition, quota, batch and device come
 * out per replica. Checks: only the keys in REPLICA_GROUP_ANNOTATIONS, counts that add up to
 * `replicas`, no two groups with the same overrides, and values the annotation parser accepts;
 * every failure is a 400 naming the group and field.
 */
import { PlatformError } from '../../core/errors.ts';
import { REPLICA_GROUP_ANNOTATIONS, replicaGroupKey, type FunctionSpec } from '../../core/contracts/node-agent.ts';
import { readDeviceRequest } from '../../core/contracts/annotations.ts';
import { fingerprintOf } from './fingerprint.ts';

export interface ValidatedGroup {
  /** replicaGroupKey(overrides): "" for the spec as it is. */
  key: string;
  overrides: Record<string, string>;
  replicas: number;
  /** The function's spec with the overrides applied. */
  spec: FunctionSpec;
  /** fingerprintOf(spec): replicas whose fingerprint differs are rolled. */
  fingerprint: string;
}

const bad = (field: string, message: string) => new PlatformError('bad_request', message, { details: { field } });

/** The spec's annotations with `overrides` laid over them. */
export function groupSpec(spec: FunctionSpec, overrides: Record<string, string>): FunctionSpec {
  return { ...spec, annotations: { ...spec.annotations, ...overrides } };
}

export function validateGroups(
  spec: FunctionSpec,
  replicas: number,
  groups: { replicas: number; annotations?: Record<string, string> | null }[] | undefined,
): ValidatedGroup[] {
  if (!groups) return [{ key: '', overrides: {}, replicas, spec, fingerprint: fingerprintOf(spec) }];
  const out: ValidatedGroup[] = [];
  const seen = new Map<string, number>();
  groups.forEach((g, i) => {
    const overrides = g.annotations ?? {};
    for (const k of Object.keys(overrides)) {
      if (!REPLICA_GROUP_ANNOTATIONS.includes(k)) {
        throw bad(
          `groups[${i}].annotations.${k}`,
          `groups[${i}].annotations: "${k}" cannot differ between replicas; a group may set only ${REPLICA_GROUP_ANNOTATIONS.join(', ')}`,
        );
      }
    }
    const key = replicaGroupKey(overrides);
    const twin = seen.get(key);
    if (twin !== undefined)
      throw bad(
        `groups[${i}]`,
        `groups[${i}] has the same annotations as groups[${twin}] (${key || 'none'}); put their replicas in one group`,
      );
    seen.set(key, i);
    const merged = groupSpec(spec, overrides);
    try {
      readDeviceRequest(merged.annotations);
    } catch (err) {
      if (!(err instanceof PlatformError)) throw err;
      const field = typeof err.details?.field === 'string' ? err.details.field : 'annotations';
      throw new PlatformError('bad_request', `groups[${i}]: ${err.message}`, {
        details: { field: `groups[${i}].${field}` },
      });
    }
    out.push({ key, overrides, replicas: g.replicas, spec: merged, fingerprint: fingerprintOf(merged) });
  });
  const sum = out.reduce((a, g) => a + g.replicas, 0);
  if (sum !== replicas)
    throw bad('groups', `groups: the groups' replicas add up to ${sum}, but replicas is ${replicas}; make them equal`);
  return out;
}
