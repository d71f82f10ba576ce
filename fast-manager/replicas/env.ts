/**
 * The environment a replica starts with: the deployment's envVars plus what the platform owns
 * (PORT, the identity variables of core/contracts/replica-env.ts, TMPDIR, PATH, and `fprocess`:
 * the function's command line, as OpenFaaS sets it). Nothing else of the agent's environment is
 * passed on.
 */
import { join } from 'node:path';
import { PLATFORM_ROOT } from '../../core/version.ts';
import { REPLICA_ENV as E } from '../../core/contracts/replica-env.ts';
import type { HostEnv } from '../host-env.ts';

export interface ReplicaEnvInput {
  envVars: Record<string, string>;
  name: string;
  namespace: string;
  replicaId: string;
  port: number;
  secretsDir: string;
  tmpDir: string;
  host: HostEnv;
  /** The function's command line (envProcess, else the image's). */
  fprocess: string;
}

export function buildReplicaEnv(i: ReplicaEnvInput): Record<string, string> {
  return {
    HOME: i.host.home,
    NODE_ENV: 'production',
    ...i.envVars,
    PATH: `${join(PLATFORM_ROOT, 'node_modules', '.bin')}:${i.host.path}`,
    [E.port]: String(i.port),
    TMPDIR: i.tmpDir,
    [E.function]: i.name,
    [E.namespace]: i.namespace,
    [E.replicaId]: i.replicaId,
    [E.secretsDir]: i.secretsDir,
    fprocess: i.fprocess,
  };
}
