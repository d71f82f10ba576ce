/** The metered quantities of one function in one period, and the periods records are kept in. */
import type { Granularity, UsageFields } from '../../core/contracts/cost.ts';

export type { Granularity, UsageFields } from '../../core/contracts/cost.ts';

export const USAGE_FIELDS: Array<keyof UsageFields> = [
  'invocations',
  'errorCount',
  'sloMet',
  'sloViolated',
  'deviceSeconds',
  'reservedDeviceSeconds',
  'gbSeconds',
];

export const zeroUsage = (): UsageFields => ({
  invocations: 0,
  errorCount: 0,
  sloMet: 0,
  sloViolated: 0,
  deviceSeconds: 0,
  reservedDeviceSeconds: 0,
  gbSeconds: 0,
});

export function addUsage(into: UsageFields, more: Partial<UsageFields>): UsageFields {
  for (const f of USAGE_FIELDS) into[f] += more[f] ?? 0;
  return into;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const GRANULARITY_MS: Record<Granularity, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/** Start of the UTC period holding `ms`. */
export function floorTo(ms: number, periodMs: number): number {
  return Math.floor(ms / periodMs) * periodMs;
}

/** A function's record in one minute. */
export interface UsageKey {
  namespace: string;
  name: string;
  /** The device kind (fastgshare/device: cpu, emulated, cuda) the usage ran on, which prices are keyed by. */
  device: string;
  /** Epoch ms of the minute's start. */
  start: number;
}
