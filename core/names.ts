import { PlatformError } from './errors.ts';

/** The namespace functions land in when none is given (as in OpenFaaS). */
export const DEFAULT_NAMESPACE = 'openfaas-fn';

/** DNS-1123 label, as Kubernetes (and so faas-netes) requires for services and namespaces. */
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Secret names: DNS-1123 subdomain. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** Characters OpenFaaS accepts in a `/function/{name}` route segment. */
export const ROUTE_NAME = /^[-a-zA-Z_0-9.]+$/;

export function validateFunctionName(name: unknown, field = 'service'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new PlatformError('invalid_name', `${field} is required: a function name such as "echo"`);
  }
  if (name.length > 63 || !LABEL.test(name)) {
    throw new PlatformError(
      'invalid_name',
      `${field} "${truncate(name)}" is not a valid function name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`,
      { details: { field } },
    );
  }
  return name;
}

export function validateNamespace(ns: unknown, field = 'namespace'): string {
  if (ns === undefined || ns === null || ns === '') return DEFAULT_NAMESPACE;
  if (typeof ns !== 'string' || ns.length > 63 || !LABEL.test(ns)) {
    throw new PlatformError(
      'invalid_name',
      `${field} "${truncate(String(ns))}" is not a valid namespace: use at most 63 lowercase letters, digits and '-'`,
      { details: { field } },
    );
  }
  return ns;
}

export function validateSecretName(name: unknown, field = 'name'): string {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > 253 ||
    !SUBDOMAIN.test(name) ||
    name.includes('..')
  ) {
    throw new PlatformError(
      'invalid_name',
      `${field} "${truncate(String(name ?? ''))}" is not a valid secret name: use lowercase letters, digits, '-' and '.'`,
      { details: { field } },
    );
  }
  return name;
}

export interface QualifiedName {
  name: string;
  namespace: string;
}

/**
 * Splits `name.namespace` at the LAST dot (OpenFaaS rule); no dot means the default namespace.
 * An explicit `namespace` (query parameter) wins when the name has no dot.
 */
export function parseQualifiedName(raw: string, explicitNamespace?: string): QualifiedName {
  if (!ROUTE_NAME.test(raw)) {
    throw new PlatformError(
      'invalid_name',
      `"${truncate(raw)}" is not a function name: use letters, digits, '-', '_' and '.' (name.namespace)`,
    );
  }
  const dot = raw.lastIndexOf('.');
  if (dot === -1)
    return { name: validateFunctionName(raw, 'function name'), namespace: validateNamespace(explicitNamespace) };
  return {
    name: validateFunctionName(raw.slice(0, dot), 'function name'),
    namespace: validateNamespace(raw.slice(dot + 1)),
  };
}

export function qualified(q: QualifiedName): string {
  return `${q.name}.${q.namespace}`;
}

/**
 * Image references name bundles in the local image store: `[registry/]path[:tag]`, each path
 * segment lowercase alphanumerics separated by '.', '_' or '-'. Nothing that could climb out of
 * the store ('..', absolute paths, backslashes) is accepted.
 */
const IMAGE_SEGMENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const IMAGE_REGISTRY = /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface ImageRef {
  /** Path segments below the store root, registry first when there is one. */
  segments: string[];
  tag: string;
  /** Normalised reference: `path:tag`. */
  ref: string;
}

export function parseImageRef(image: unknown, field = 'image'): ImageRef {
  if (typeof image !== 'string' || image.length === 0) {
    throw new PlatformError(
      'bad_request',
      `${field} is required: the name of a function bundle, e.g. "echo:latest" (build it with \`fastgshare build -f stack.yml\`)`,
    );
  }
  const bad = () =>
    new PlatformError(
      'invalid_name',
      `${field} "${truncate(image)}" is not a valid image reference: use lowercase path segments separated by '/', with an optional ':tag' (e.g. "ghcr.io/team/echo:1.0")`,
      { details: { field } },
    );
  if (image.length > 255 || image.includes('\\') || image.includes('\0') || image.includes('@')) throw bad();
  let path = image;
  let tag = 'latest';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon > lastSlash) {
    path = image.slice(0, colon);
    tag = image.slice(colon + 1);
  }
  if (!IMAGE_TAG.test(tag)) throw bad();
  const segments = path.split('/');
  if (segments.length === 0 || segments.length > 8) throw bad();
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const isRegistry = i === 0 && segments.length > 1 && (s.includes('.') || s.includes(':') || s === 'localhost');
    if (!(isRegistry ? IMAGE_REGISTRY.test(s) : IMAGE_SEGMENT.test(s))) throw bad();
    if (s === '.' || s === '..') throw bad();
  }
  // a registry port (host:5000) would otherwise become a path segment with a colon
  const safeSegments = segments.map((s) => s.replace(':', '_'));
  return { segments: safeSegments, tag, ref: `${segments.join('/')}:${tag}` };
}

function truncate(s: string, n = 80): string {
  return s.length > n ? s.slice(0, n) + '…' : s;
}
