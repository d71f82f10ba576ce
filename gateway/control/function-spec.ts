/** A stored function plus its resolved secrets, as the node agent needs it (FunctionSpec). */
import type { FunctionSpec } from '../../core/contracts/node-agent.ts';
import type { FunctionResources } from '../../core/contracts/openfaas.ts';

/** The stored fields a spec is built from (a FunctionDoc or a deployment about to be stored). */
export interface StoredFunction {
  name: string;
  namespace: string;
  image: string;
  envProcess?: string | null;
  envVars?: unknown;
  labels?: unknown;
  annotations?: unknown;
  constraints?: string[] | null;
  secrets?: string[] | null;
  limits?: unknown;
  requests?: unknown;
  readOnlyRootFilesystem?: boolean | null;
  replicas: number;
}

export const asStringMap = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};

export function toFunctionSpec(fn: StoredFunction, secrets: Record<string, string>): FunctionSpec {
  return {
    name: fn.name,
    namespace: fn.namespace,
    image: fn.image,
    ...(fn.envProcess ? { envProcess: fn.envProcess } : {}),
    envVars: asStringMap(fn.envVars),
    labels: asStringMap(fn.labels),
    annotations: asStringMap(fn.annotations),
    ...(fn.limits ? { limits: fn.limits as FunctionResources } : {}),
    ...(fn.requests ? { requests: fn.requests as FunctionResources } : {}),
    secrets,
    readOnlyRootFilesystem: Boolean(fn.readOnlyRootFilesystem),
  };
}
