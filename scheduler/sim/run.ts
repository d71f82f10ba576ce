/** Runs several policies over one trace and cluster (same seed for all) and collects their results. */
import type { ProfileTable } from '../../core/profiles/profile-table.ts';
import type { PolicyFactory } from '../policies/policy.ts';
import type { DeviceSpec } from '../types.ts';
import { simulate, type SimOptions, type SimResult } from './simulator.ts';
import type { Trace } from './traces.ts';

export interface CompareOptions {
  profiles: ProfileTable;
  devices: readonly DeviceSpec[];
  trace: Trace;
  policies: readonly PolicyFactory[];
  seed: number;
  periodS?: number;
  coldStartS?: number;
  estimator?: SimOptions['estimator'];
}

export function comparePolicies(o: CompareOptions): SimResult[] {
  return o.policies.map((policy) => simulate({ ...o, policy }));
}
