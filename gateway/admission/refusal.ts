/**
 * The error a refused change gets: `limit_exceeded` (HTTP 403, as Kubernetes answers a request
 * over a ResourceQuota) with one sentence per limit: the limit, its value, the total asked for,
 * the total now and how to get more. No server paths or URLs (node names only).
 */
import { PlatformError } from '../../core/errors.ts';
import { formatBytes } from '../../core/contracts/quantity.ts';
import type { LimitUnit, Violation } from './violations.ts';

export function formatValue(unit: LimitUnit, v: number): string {
  if (unit === 'bytes') return formatBytes(v);
  if (unit === 'devices') return String(Math.round(v * 1000) / 1000);
  return String(v);
}

const UNIT_TEXT: Record<LimitUnit, string> = {
  replicas: ' replicas',
  functions: ' functions',
  devices: ' device(s)',
  bytes: '',
};

const LIMIT_TEXT: Record<string, string> = {
  'tenant.replicas': 'replicas (Σ over its functions)',
  'tenant.functions': 'functions',
  'tenant.deviceShare': 'guaranteed device share (Σ replicas × gpu_quota_request × gpu_sm_partition/100)',
  'tenant.memoryBytes': 'memory (Σ replicas × limits.memory)',
  'function.replicas': 'replicas per function (FASTGSHARE_MAX_REPLICAS_PER_FUNCTION)',
  'node.deviceShare': 'guaranteed share (Σ gpu_quota_request × gpu_sm_partition/100 over every tenant)',
  'node.memoryBytes': 'Σ limits.memory of every replica on it',
};

export function describeViolation(v: Violation): string {
  const f = (x: number) => formatValue(v.unit, x) + UNIT_TEXT[v.unit];
  return `${v.scope}: limit ${v.limit} (${LIMIT_TEXT[v.limit] ?? v.limit}) is ${f(v.value)}; this needs ${f(v.requested)} (now ${f(v.current)}); ${v.remedy}`;
}

/** `action` says what was refused, e.g. `scale function "fn" in namespace "ns" to 1000 replicas`. */
export function refusal(action: string, violations: readonly Violation[]): PlatformError {
  return new PlatformError(
    'limit_exceeded',
    `${action}: refused, nothing was changed. ${violations.map(describeViolation).join('. ')}`,
    {
      details: {
        limits: violations.map((v) => ({
          limit: v.limit,
          scope: v.scope,
          value: v.value,
          requested: v.requested,
          current: v.current,
          unit: v.unit,
        })),
      },
    },
  );
}
