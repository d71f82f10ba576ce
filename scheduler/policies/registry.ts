/** Every scheduling policy the simulator can run, by name (ours first). */
import { PlatformError } from '../../core/errors.ts';
import { exclusivePolicy } from './exclusive.ts';
import { fastgsharePublishedPolicy } from './fastgshare-published.ts';
import { fixedPartitionsPolicy } from './fixed-partitions.ts';
import { gpuletPolicy } from './gpulet.ts';
import { nexusPolicy } from './nexus.ts';
import { oursPolicy } from './ours.ts';
import type { PolicyFactory } from './policy.ts';
import { timeSharingPolicy } from './time-sharing.ts';

export const POLICIES: readonly PolicyFactory[] = [
  oursPolicy(),
  oursPolicy(
    { planner: { vertical: false } },
    'ours-horizontal',
    'ours without the vertical step: every change of demand re-plans the replica set (replicas added or removed, no quota resized in place)',
  ),
  exclusivePolicy,
  timeSharingPolicy,
  fixedPartitionsPolicy(2),
  fixedPartitionsPolicy(4),
  fastgsharePublishedPolicy,
  nexusPolicy,
  gpuletPolicy,
];

export function policyNames(): string[] {
  return POLICIES.map((p) => p.name);
}

export function getPolicies(names?: readonly string[]): PolicyFactory[] {
  if (!names || names.length === 0) return [...POLICIES];
  return names.map((n) => {
    const p = POLICIES.find((x) => x.name === n);
    if (!p) throw new PlatformError('bad_request', `unknown policy "${n}"; choose from ${policyNames().join(', ')}`);
    return p;
  });
}
