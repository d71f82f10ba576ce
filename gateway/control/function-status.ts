/**
 * FunctionStatus for list and describe: the stored deployment, desired `replicas`, ready
 * replicas across nodes as `availableReplicas`, and with `usage` the sum over its replicas.
 */
import type { Models, FunctionDoc } from '../../core/store/models.ts';
import type { FunctionResources, FunctionStatus } from '../../core/contracts/openfaas.ts';
import { PlatformError } from '../../core/errors.ts';
import { functionKey, type ReplicaDirectory } from '../nodes/replica-directory.ts';
import { asStringMap } from './function-spec.ts';
import type { InvocationCounts } from '../observers/invocation-counter.ts';

export interface FunctionQuery {
  list(namespace: string, usage: boolean): Promise<FunctionStatus[]>;
  get(name: string, namespace: string, usage: boolean): Promise<FunctionStatus>;
}

export function createFunctionQuery(d: {
  models: Models;
  directory: ReplicaDirectory;
  invocations: InvocationCounts;
}): FunctionQuery {
  const toStatus = (f: FunctionDoc & { createdAt?: Date }, usage: boolean): FunctionStatus => {
    const key = functionKey(f.name, f.namespace);
    const view = d.directory.view(key);
    const s: FunctionStatus = {
      name: f.name,
      image: f.image,
      namespace: f.namespace,
      ...(f.envProcess ? { envProcess: f.envProcess } : {}),
      envVars: asStringMap(f.envVars),
      constraints: f.constraints ?? [],
      secrets: f.secrets ?? [],
      labels: asStringMap(f.labels),
      annotations: asStringMap(f.annotations),
      ...(f.limits ? { limits: f.limits as FunctionResources } : {}),
      ...(f.requests ? { requests: f.requests as FunctionResources } : {}),
      readOnlyRootFilesystem: Boolean(f.readOnlyRootFilesystem),
      invocationCount: (f.invocationCount ?? 0) + d.invocations.pending(key),
      replicas: f.replicas,
      availableReplicas: view?.ready.length ?? 0,
      createdAt: (f.createdAt ?? new Date(0)).toISOString(),
    };
    if (usage) {
      const live = (view?.replicas ?? []).filter((r) => r.state !== 'stopped');
      s.usage = {
        cpu: live.reduce((a, r) => a + (r.usage?.cpu ?? 0), 0),
        totalMemoryBytes: live.reduce((a, r) => a + (r.usage?.totalMemoryBytes ?? 0), 0),
      };
    }
    return s;
  };

  return {
    list: (namespace, usage) =>
      d.invocations.read(async () => {
        const docs = await d.models.Function.find({ namespace }).sort({ name: 1 }).lean();
        return docs.map((f) => toStatus(f, usage));
      }),
    get: (name, namespace, usage) =>
      d.invocations.read(async () => {
        const f = await d.models.Function.findOne({ namespace, name }).lean();
        if (!f)
          throw new PlatformError(
            'not_found',
            `function "${name}" not found in namespace "${namespace}"; list functions with faas-cli list -n ${namespace}`,
          );
        return toStatus(f, usage);
      }),
  };
}
