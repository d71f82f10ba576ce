/**
 * Deploy, update, scale and remove functions. Order for a deployment: validate → admission
 * (limits, gateway/admission/) → resolve secrets and apply on the nodes through the reconciler,
 * the one owner of rollout (the nodes check the image) → persist. A failure at any step leaves
 * the store as it was; changes are serialised with reconcile passes. A scale is admitted the same way before anything
 * is sent or stored.
 */
import type { Models } from '../../core/store/models.ts';
import type { Logger } from '../../core/logger.ts';
import { PlatformError } from '../../core/errors.ts';
import type { DeleteFunctionRequest, FunctionDeployment, ScaleServiceRequest } from '../../core/contracts/openfaas.ts';
import { parseImageRef, validateFunctionName, validateNamespace } from '../../core/names.ts';
import { isTrialFunctionName } from '../../profiler/grid.ts';
import { functionKey, type ReplicaDirectory } from '../nodes/replica-directory.ts';
import type { FunctionCatalog } from './function-catalog.ts';
import type { Namespaces } from './namespaces.ts';
import type { Reconciler } from './reconciler.ts';
import type { Serial } from './serial.ts';
import { clampReplicas, scaleBounds } from '../../core/contracts/scale-bounds.ts';
import { asStringMap, type StoredFunction } from './function-spec.ts';
import type { Admission, Fit } from '../admission/admission.ts';

export interface FunctionsControl {
  /** POST (create) or PUT (update, 404 when absent). Commands come parsed (the routes own the wire format). */
  deploy(dep: FunctionDeployment, mode: 'create' | 'update'): Promise<void>;
  remove(req: DeleteFunctionRequest): Promise<void>;
  /** Returns the replica count applied after clamping to the function's bounds; limit_exceeded (403) over a limit. */
  scale(name: string, req: ScaleServiceRequest, queryNamespace?: string): Promise<number>;
  /**
   * The auto-scaler's scale: clamped to the bounds, the per-function ceiling and every admission
   * limit instead of refused; resolves with the count applied and what lowered it.
   */
  scaleWithin(name: string, namespace: string, replicas: number): Promise<Fit>;
}

export interface FunctionsControlDeps {
  models: Models;
  directory: ReplicaDirectory;
  namespaces: Namespaces;
  catalog: FunctionCatalog;
  serial: Serial;
  reconciler: Reconciler;
  admission: Admission;
  log: Logger;
}

const notFound = (name: string, namespace: string, hint: string) =>
  new PlatformError('not_found', `function "${name}" not found in namespace "${namespace}"; ${hint}`);

export function createFunctionsControl(d: FunctionsControlDeps): FunctionsControl {
  const { Function } = d.models;

  /** Nodes that answer, for admission (polling them first when none is known yet, e.g. just after start). */
  const answeringNodes = async () => {
    if (d.directory.availableNodes().length === 0) await d.directory.refresh();
    return d.directory.availableNodes();
  };

  return {
    async deploy(dep, mode) {
      const name = validateFunctionName(dep.service, 'service');
      if (isTrialFunctionName(name)) {
        throw new PlatformError(
          'bad_request',
          `service: "${name}" ends like a profiler trial function (--prof-<n>), a name the platform keeps for its own profiling runs; choose another name`,
          { details: { field: 'service' } },
        );
      }
      const namespace = validateNamespace(dep.namespace);
      const image = parseImageRef(dep.image).ref;
      const labels = asStringMap(dep.labels);
      const bounds = scaleBounds(labels);
      await d.namespaces.require(namespace);
      const secretNames = [...new Set(dep.secrets ?? [])];
      await d.serial.run(async () => {
        const existing = await Function.findOne({ namespace, name }).lean();
        if (mode === 'update' && !existing)
          throw notFound(
            name,
            namespace,
            'deploy it with POST /system/functions (faas-cli deploy does this on its own)',
          );
        if (mode === 'create' && existing)
          throw new PlatformError(
            'conflict',
            `function "${name}" already exists in namespace "${namespace}"; update it with PUT /system/functions or remove it first`,
          );
        const fn: StoredFunction = {
          name,
          namespace,
          image,
          envProcess: dep.envProcess || undefined,
          envVars: dep.envVars ?? {},
          labels,
          annotations: asStringMap(dep.annotations),
          constraints: dep.constraints ?? [],
          secrets: secretNames,
          limits: dep.limits ?? undefined,
          requests: dep.requests ?? undefined,
          readOnlyRootFilesystem: dep.readOnlyRootFilesystem ?? false,
          replicas: existing ? clampReplicas(existing.replicas, bounds) : bounds.min,
        };
        // before anything is stored or sent: a refusal leaves the function as it was
        await d.admission.admitDeploy(
          { name, namespace, annotations: asStringMap(fn.annotations), limits: fn.limits, replicas: fn.replicas },
          labels,
          bounds,
          await answeringNodes(),
          `${mode === 'create' ? 'deploy' : 'update'} function "${name}" in namespace "${namespace}" (${fn.replicas} replicas)`,
        );
        try {
          // a missing secret is a 400 here, before anything is sent
          await d.reconciler.sync(fn, fn.replicas, { strictSecrets: true });
        } catch (err) {
          // nothing is stored: the next pass removes a new function from the nodes that took it, or restores the old
          // spec
          d.reconciler.trigger();
          throw err;
        }
        const fields = {
          ...fn,
          constraints: dep.constraints ?? [],
          secrets: secretNames,
          readOnlyRootFilesystem: Boolean(fn.readOnlyRootFilesystem),
          envProcess: fn.envProcess ?? null,
          limits: fn.limits ?? null,
          requests: fn.requests ?? null,
        };
        if (existing) await Function.updateOne({ namespace, name }, { $set: fields, $inc: { generation: 1 } });
        else await Function.create(fields);
        d.catalog.add(functionKey(name, namespace));
      });
      d.log.info(mode === 'create' ? 'function deployed' : 'function updated', {
        function: functionKey(name, namespace),
        image,
      });
      void d.directory.refresh();
    },

    async remove(req) {
      const name = validateFunctionName(req.functionName, 'functionName');
      const namespace = validateNamespace(req.namespace);
      await d.serial.run(async () => {
        const r = await Function.deleteOne({ namespace, name });
        if (r.deletedCount === 0) throw notFound(name, namespace, 'list functions with faas-cli list');
        d.catalog.remove(functionKey(name, namespace));
        const errors = await d.reconciler.drop(namespace, name);
        for (const e of errors)
          d.log.warn('cannot remove function from node; the next reconcile pass retries', {
            function: functionKey(name, namespace),
            error: e.message,
          });
      });
      d.log.info('function removed', { function: functionKey(name, namespace) });
      void d.directory.refresh();
    },

    async scale(pathName, req, queryNamespace) {
      const name = validateFunctionName(pathName, 'function name');
      if (req.serviceName && req.serviceName !== name) {
        throw new PlatformError(
          'bad_request',
          `scale function: serviceName "${req.serviceName}" does not match the function in the path "${name}"`,
          { details: { field: 'serviceName' } },
        );
      }
      const namespace = validateNamespace(req.namespace || queryNamespace);
      return (await scaleTo(name, namespace, req.replicas, 'refuse')).replicas;
    },

    scaleWithin: (name, namespace, replicas) =>
      scaleTo(validateFunctionName(name, 'function name'), validateNamespace(namespace), replicas, 'fit'),
  };

  /** refuse: a request over a limit is a 403 (users); fit: the count is lowered to fit (the auto-scaler). */
  async function scaleTo(name: string, namespace: string, asked: number, mode: 'refuse' | 'fit'): Promise<Fit> {
    const fit = await d.serial.run(async (): Promise<Fit> => {
      const doc = await Function.findOne({ namespace, name }).lean();
      if (!doc) throw notFound(name, namespace, 'deploy it first');
      const bounds = scaleBounds(asStringMap(doc.labels));
      const nodes = await answeringNodes();
      const current = {
        name,
        namespace,
        annotations: asStringMap(doc.annotations),
        limits: doc.limits ?? undefined,
        replicas: doc.replicas,
      };
      let target = clampReplicas(asked, bounds);
      let limitedBy: Fit['limitedBy'];
      if (mode === 'fit') {
        const f = await d.admission.fit(current, target, nodes);
        target = f.replicas;
        limitedBy = f.limitedBy;
      } else {
        // before anything is sent or stored: a refusal leaves the function as it was
        await d.admission.admitScale(
          current,
          asked,
          target,
          nodes,
          `scale function "${name}" in namespace "${namespace}" to ${asked} replicas`,
        );
      }
      await d.reconciler.sync(doc, target, { strictSecrets: false });
      await Function.updateOne({ namespace, name }, { $set: { replicas: target } });
      return { replicas: target, ...(limitedBy ? { limitedBy } : {}) };
    });
    d.log.info('function scaled', {
      function: functionKey(name, namespace),
      asked,
      replicas: fit.replicas,
      ...(fit.limitedBy ? { limitedBy: fit.limitedBy.map((v) => v.limit).join(',') } : {}),
    });
    void d.directory.refresh();
    return fit;
  }
}
