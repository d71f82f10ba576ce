/**
 * The fingerprint of a spec: a stable digest of everything a replica is started from. Replicas
 * whose fingerprint differs from their group's are rolled; quota annotations are left out
 * because quota changes are applied to running replicas (sharing/node-sharing.ts).
 */
import { createHash } from 'node:crypto';
import type { FunctionSpec } from '../../core/contracts/node-agent.ts';
import { LIVE_SHARE_ANNOTATIONS } from '../sharing/share-config.ts';

/** A stable digest of everything a replica is started from (key order does not matter). */
export function fingerprintOf(spec: FunctionSpec): string {
  // quota changes are applied to running replicas (sharing/node-sharing.ts), not by a restart
  const annotations = Object.fromEntries(
    Object.entries(spec.annotations ?? {}).filter(([k]) => !LIVE_SHARE_ANNOTATIONS.includes(k)),
  );
  return createHash('sha256')
    .update(stableJson({ ...spec, annotations }))
    .digest('hex')
    .slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
