/**
 * Every function deployed on this node: applies validated requests (resolving the image to its
 * bundle and fprocess, one replica template per replica group), removes functions, lists them,
 * and stops everything on shutdown.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import type { FunctionReplicas, ReplicaExit, ReplicaState } from '../../core/contracts/node-agent.ts';
import type { ImageStore } from '../../core/images/image-store.ts';
import { PlatformError } from '../../core/errors.ts';
import type { ValidatedApply } from '../apply/request.ts';
import { splitCommandLine } from '../apply/command-line.ts';
import { Replica, type ReplicaDeps, type ReplicaTemplate } from '../replicas/replica.ts';
import { Deployment, type DesiredGroup } from './deployment.ts';
import { DEVICE_ANNOTATIONS, hasDeviceAnnotations, readDeviceRequest } from '../../core/contracts/annotations.ts';

/** What a cuda replica's device memory is held to (fastgshare/gpu_mem); undefined for other devices. */
function deviceMemoryOf(annotations: Record<string, string> | undefined): ReplicaTemplate['deviceMemory'] {
  if (!hasDeviceAnnotations(annotations)) return undefined;
  const req = readDeviceRequest(annotations);
  if (req.device !== 'cuda') return undefined;
  return req.memoryBytes === undefined
    ? {}
    : { limitBytes: req.memoryBytes, limit: annotations![DEVICE_ANNOTATIONS.memory]!.trim() };
}

export interface ReplicaObserver {
  onChange(replica: Replica): void;
  onCrash(replica: Replica, exit: ReplicaExit): void;
}

export interface NodeSupervisor {
  apply(req: ValidatedApply): Promise<FunctionReplicas>;
  /** False when the function is not on this node. */
  remove(namespace: string, name: string): Promise<boolean>;
  list(): FunctionReplicas[];
  get(namespace: string, name: string): FunctionReplicas | undefined;
  states(): ReplicaState[];
  stopAll(): Promise<void>;
}

export function createNodeSupervisor(opts: {
  images: ImageStore;
  replicaDeps: ReplicaDeps;
  observer: ReplicaObserver;
  log: Logger;
  /** Refuses a spec this node cannot run (e.g. its device), before anything changes. */
  admit?: (spec: ValidatedApply['spec']) => void;
}): NodeSupervisor {
  const deployments = new Map<string, Deployment>();
  const removing = new Set<Promise<void>>();
  let seq = 0;
  let closed = false;
  const key = (ns: string, name: string) => `${ns}/${name}`;

  const deploymentFor = (namespace: string, name: string): Deployment => {
    let d = deployments.get(key(namespace, name));
    if (!d) {
      const dep: Deployment = new Deployment(
        namespace,
        name,
        (template) =>
          new Replica(`${name}-${randomBytes(5).toString('hex')}`, ++seq, template, opts.replicaDeps, {
            onChange: (r) => {
              opts.observer.onChange(r);
              dep.notify();
            },
            onCrash: (r, exit) => opts.observer.onCrash(r, exit),
          }),
        opts.log,
      );
      d = dep;
      deployments.set(key(namespace, name), d);
    }
    return d;
  };

  return {
    async apply(req) {
      if (closed) throw new PlatformError('unavailable', 'the node agent is shutting down');
      for (const g of req.groups) opts.admit?.(g.spec);
      const bundle = await opts.images.resolve(req.spec.image);
      // stopAll ran meanwhile: a deployment made now would start replicas nothing stops
      if (closed) throw new PlatformError('unavailable', 'the node agent is shutting down');
      const argv =
        req.envProcessArgv ?? splitCommandLine(bundle.manifest.fprocess, `fprocess of image "${bundle.ref}"`);
      const groups = req.groups.map((g): DesiredGroup => {
        const template: ReplicaTemplate = {
          spec: g.spec,
          argv,
          bundleDir: bundle.dir,
          // a rebuilt bundle under the same tag rolls the replicas too
          fingerprint: `${g.fingerprint}:${bundle.manifest.builtAt}`,
          memoryLimitBytes: req.memoryLimitBytes,
          deviceMemory: deviceMemoryOf(g.spec.annotations),
        };
        return { key: g.key, overrides: g.overrides, template, desired: g.replicas };
      });
      const d = deploymentFor(req.spec.namespace, req.spec.name);
      await d.apply(req.spec.image, groups, req.grouped);
      return d.status();
    },
    async remove(namespace, name) {
      const d = deployments.get(key(namespace, name));
      if (!d) return false;
      deployments.delete(key(namespace, name));
      const p = d.remove();
      removing.add(p);
      try {
        await p;
      } finally {
        removing.delete(p);
      }
      return true;
    },
    list() {
      return [...deployments.values()]
        .map((d) => d.status())
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    },
    get(namespace, name) {
      return deployments.get(key(namespace, name))?.status();
    },
    states() {
      return [...deployments.values()].flatMap((d) => d.status().replicas.map((r) => r.state));
    },
    async stopAll() {
      closed = true;
      const all = [...deployments.values()];
      deployments.clear();
      await Promise.all([...all.map((d) => d.remove()), ...removing]);
    },
  };
}
