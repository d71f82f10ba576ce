/**
 * Replica forward tokens: every launch of a replica process gets a fresh random token in its
 * environment (FASTGSHARE_FORWARD_TOKEN); the template's HTTP server answers 403 to a request that
 * does not carry it in FORWARD_TOKEN_HEADER. The agent reports it in the replica's status (over its
 * authenticated API) so the gateway can forward to the replica, and sends it with its own health
 * probes (found by the port the probe dials). A token is forgotten when its process is gone.
 */
import { randomBytes } from 'node:crypto';
import type { FunctionReplicas } from '../../core/contracts/node-agent.ts';
import { REPLICA_ENV } from '../../core/contracts/replica-env.ts';
import type { LaunchPlan, ReplicaLauncher } from '../replicas/launcher.ts';
import type { HealthProbe } from '../replicas/health.ts';

export interface ForwardTokens {
  /** Gives each launched process its token (a wrapper around the launcher chain). */
  wrapLauncher(inner: ReplicaLauncher): ReplicaLauncher;
  /** A health probe that sends the token of the replica on `port`. */
  probe(inner: HealthProbe): HealthProbe;
  /** The current token of a replica, if its process runs. */
  of(replicaId: string): string | undefined;
  /** Copies of the statuses with each replica's `forwardToken`. */
  annotate(fns: FunctionReplicas[]): FunctionReplicas[];
  annotate(fn: FunctionReplicas): FunctionReplicas;
}

export function createForwardTokens(): ForwardTokens {
  const byReplica = new Map<string, string>();
  const byPort = new Map<number, string>();

  const one = (f: FunctionReplicas): FunctionReplicas => ({
    ...f,
    replicas: f.replicas.map((r) => {
      const t = byReplica.get(r.id);
      return t ? { ...r, forwardToken: t } : r;
    }),
  });
  function annotate(fns: FunctionReplicas[]): FunctionReplicas[];
  function annotate(fn: FunctionReplicas): FunctionReplicas;
  function annotate(x: FunctionReplicas | FunctionReplicas[]): FunctionReplicas | FunctionReplicas[] {
    return Array.isArray(x) ? x.map(one) : one(x);
  }

  return {
    wrapLauncher(inner) {
      return {
        launch(plan: LaunchPlan) {
          const token = randomBytes(24).toString('base64url');
          const launched = inner.launch({ ...plan, env: { ...plan.env, [REPLICA_ENV.forwardToken]: token } });
          byReplica.set(plan.replicaId, token);
          byPort.set(plan.port, token);
          void launched.exited.then(() => {
            if (byReplica.get(plan.replicaId) === token) byReplica.delete(plan.replicaId);
            if (byPort.get(plan.port) === token) byPort.delete(plan.port);
          });
          return launched;
        },
      };
    },
    probe(inner) {
      return (port, timeoutMs, token) => inner(port, timeoutMs, token ?? byPort.get(port));
    },
    of: (id) => byReplica.get(id),
    annotate,
  };
}
