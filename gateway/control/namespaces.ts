/**
 * The namespace collection: `openfaas-fn` always exists; others are created with the
 * OpenFaaS Pro style API (POST /system/namespace/) before functions are deployed into them, and
 * their labels and annotations replaced with PUT /system/namespace/NAME (faas-cli namespace
 * update). A namespace's secrets are deleted with it, and a re-created namespace starts with none.
 */
import type { Models } from '../../core/store/models.ts';
import { PlatformError } from '../../core/errors.ts';
import { DEFAULT_NAMESPACE } from '../../core/names.ts';

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface Namespaces {
  ensureDefault(): Promise<void>;
  list(): Promise<string[]>;
  get(name: string): Promise<NamespaceInfo>;
  create(ns: NamespaceInfo): Promise<void>;
  /** Replaces the labels and annotations of an existing namespace (404 when there is none). */
  update(ns: NamespaceInfo): Promise<NamespaceInfo>;
  remove(name: string): Promise<void>;
  /** A 400 telling how to create the namespace when it does not exist (before deploying into it). */
  require(name: string): Promise<void>;
  /**
   * A 400 saying the namespace does not exist (listing a namespace that is not there, as OpenFaaS providers answer).
   */
  check(name: string): Promise<void>;
  /**
   * At start: deletes secrets whose namespace no longer exists (left by deletions before secrets went with their
   * namespace).
   */
  sweepOrphanSecrets(): Promise<number>;
}

/** Annotations with this prefix are the platform's (e.g. fastgshare/tenant). */
const PLATFORM_PREFIX = 'fastgshare/';

export function createNamespaces(models: Models): Namespaces {
  const { Namespace, Function, Secret } = models;
  const notFound = (name: string) =>
    new PlatformError('not_found', `namespace "${name}" not found; list them with GET /system/namespaces`);
  return {
    async ensureDefault() {
      await Namespace.updateOne(
        { name: DEFAULT_NAMESPACE },
        { $setOnInsert: { name: DEFAULT_NAMESPACE, labels: {}, annotations: {} } },
        { upsert: true },
      );
    },
    async list() {
      const docs = await Namespace.find({}, { name: 1 }).lean();
      const names = new Set(docs.map((d) => d.name));
      names.add(DEFAULT_NAMESPACE);
      return [...names].sort((a, b) =>
        a === DEFAULT_NAMESPACE ? -1 : b === DEFAULT_NAMESPACE ? 1 : a.localeCompare(b),
      );
    },
    async get(name) {
      const d = await Namespace.findOne({ name }).lean();
      if (!d) {
        if (name === DEFAULT_NAMESPACE) return { name, labels: {}, annotations: {} };
        throw notFound(name);
      }
      return {
        name: d.name,
        labels: (d.labels ?? {}) as Record<string, string>,
        annotations: (d.annotations ?? {}) as Record<string, string>,
      };
    },
    async create(ns) {
      if (ns.name === DEFAULT_NAMESPACE || (await Namespace.exists({ name: ns.name }))) {
        throw new PlatformError('conflict', `namespace "${ns.name}" already exists`);
      }
      // a namespace name used before starts empty: no secret of an earlier namespace of that name
      await Secret.deleteMany({ namespace: ns.name });
      try {
        await Namespace.create(ns);
      } catch (err) {
        if ((err as { code?: number }).code === 11000)
          throw new PlatformError('conflict', `namespace "${ns.name}" already exists`);
        throw err;
      }
    },
    async update(ns) {
      const current = await Namespace.findOne({ name: ns.name }, { annotations: 1 }).lean();
      if (!current && ns.name !== DEFAULT_NAMESPACE) throw notFound(ns.name);
      // the platform's own annotations (fastgshare/tenant: the owner) stay unless the update sets them
      const kept = Object.fromEntries(
        Object.entries((current?.annotations ?? {}) as Record<string, string>).filter(
          ([k]) => k.startsWith(PLATFORM_PREFIX) && !(k in ns.annotations),
        ),
      );
      const next: NamespaceInfo = {
        name: ns.name,
        labels: { ...ns.labels },
        annotations: { ...kept, ...ns.annotations },
      };
      // upsert for the default namespace only: it always exists, its record may not yet
      const r = await Namespace.updateOne(
        { name: ns.name },
        { $set: { labels: next.labels, annotations: next.annotations } },
        { upsert: ns.name === DEFAULT_NAMESPACE },
      );
      if (r.matchedCount === 0 && r.upsertedCount === 0) throw notFound(ns.name);
      return next;
    },
    async remove(name) {
      if (name === DEFAULT_NAMESPACE)
        throw new PlatformError(
          'conflict',
          `namespace "${DEFAULT_NAMESPACE}" is the default namespace and cannot be removed`,
        );
      if (!(await Namespace.exists({ name }))) throw notFound(name);
      const count = await Function.countDocuments({ namespace: name });
      if (count > 0) {
        throw new PlatformError(
          'conflict',
          `namespace "${name}" still holds ${count} function${count > 1 ? 's' : ''}; remove them first (faas-cli remove NAME -n ${name})`,
        );
      }
      // secrets go first: should the namespace delete fail, a retry finishes the job, while the
      // reverse order could leave secrets behind for the next namespace of that name
      await Secret.deleteMany({ namespace: name });
      await Namespace.deleteOne({ name });
      // and any secret created while the namespace was being deleted
      await Secret.deleteMany({ namespace: name });
    },
    async sweepOrphanSecrets() {
      const names = new Set((await Namespace.find({}, { name: 1 }).lean()).map((d) => d.name));
      names.add(DEFAULT_NAMESPACE);
      const orphaned = (await Secret.distinct('namespace')).filter((ns) => !names.has(ns));
      if (orphaned.length === 0) return 0;
      const r = await Secret.deleteMany({ namespace: { $in: orphaned } });
      return r.deletedCount;
    },
    async require(name) {
      if (name === DEFAULT_NAMESPACE) return;
      if (!(await Namespace.exists({ name }))) {
        throw new PlatformError(
          'bad_request',
          `namespace "${name}" does not exist; create it first with POST /system/namespace/ {"name":"${name}"} (fastgshare namespace create ${name}) or deploy to "${DEFAULT_NAMESPACE}"`,
          { details: { field: 'namespace' } },
        );
      }
    },
    async check(name) {
      if (name === DEFAULT_NAMESPACE) return;
      if (!(await Namespace.exists({ name }))) {
        throw new PlatformError(
          'bad_request',
          `namespace "${name}" does not exist; list the namespaces with GET /system/namespaces (faas-cli namespace list)`,
          { details: { field: 'namespace' } },
        );
      }
    },
  };
}
