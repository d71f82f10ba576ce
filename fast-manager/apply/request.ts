/**
 * Validates a `PUT /v1/functions/:namespace/:name` body (ApplyFunctionRequest) into what the
 * supervisor needs: the spec with defaults filled in, the parsed memory limit and the spec's
 * fingerprint (replicas are rolled when it changes), and the replica groups (apply/groups.ts),
 * each with its own spec and fingerprint. Every failure names the field at fault.
 */
import { z } from 'zod';
import { PlatformError } from '../../core/errors.ts';
import { parseBody } from '../../core/contracts/openfaas.ts';
import type { FunctionSpec } from '../../core/contracts/node-agent.ts';
import { validateFunctionName, validateNamespace, validateSecretName, parseImageRef } from '../../core/names.ts';
import { parseMemoryBytes, parseQuantity } from '../../core/contracts/quantity.ts';
import { splitCommandLine } from './command-line.ts';
import { fingerprintOf } from './fingerprint.ts';
export { fingerprintOf };
import { validateGroups, type ValidatedGroup } from './groups.ts';

const stringMap = z.record(z.string(), z.string());
const resources = z
  .object({ memory: z.string().optional(), cpu: z.string().optional(), 'nvidia.com/gpu': z.string().optional() })
  .passthrough()
  .nullable()
  .optional();

const ApplySchema = z.object({
  spec: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    image: z.string(),
    envProcess: z.string().nullable().optional(),
    envVars: stringMap.nullable().optional(),
    labels: stringMap.nullable().optional(),
    annotations: stringMap.nullable().optional(),
    limits: resources,
    requests: resources,
    secrets: stringMap.nullable().optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
  }),
  replicas: z.number().int().min(0).max(1000),
  groups: z
    .array(z.object({ replicas: z.number().int().min(0).max(1000), annotations: stringMap.nullable().optional() }))
    .max(64)
    .nullable()
    .optional(),
});

export interface ValidatedApply {
  spec: FunctionSpec;
  replicas: number;
  /** `limits.memory` in bytes, when set. */
  memoryLimitBytes?: number;
  /** `envProcess` split into argv, when set (otherwise the bundle's fprocess is used). */
  envProcessArgv?: string[];
  /** Changes whenever anything a replica is started from changes. */
  fingerprint: string;
  /** The replica groups: the request's, or one group of every replica running the spec as it is. */
  groups: ValidatedGroup[];
  /** True when the request had groups (replicas then report theirs). */
  grouped: boolean;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

export function validateApply(body: unknown, path: { namespace: string; name: string }): ValidatedApply {
  const name = validateFunctionName(path.name, 'name');
  const namespace = validateNamespace(path.namespace, 'namespace');
  const parsed = parseBody(ApplySchema, body, 'apply function');
  const s = parsed.spec;
  if (s.name !== name)
    throw new PlatformError('bad_request', `spec.name "${s.name}" does not match the path's function name "${name}"`, {
      details: { field: 'spec.name' },
    });
  const specNs = validateNamespace(s.namespace, 'spec.namespace');
  if (specNs !== namespace)
    throw new PlatformError(
      'bad_request',
      `spec.namespace "${specNs}" does not match the path's namespace "${namespace}"`,
      { details: { field: 'spec.namespace' } },
    );
  parseImageRef(s.image, 'spec.image');

  const envVars = s.envVars ?? {};
  for (const [k, v] of Object.entries(envVars)) {
    if (!ENV_NAME.test(k))
      throw new PlatformError(
        'bad_request',
        `spec.envVars: "${k}" is not a valid environment variable name (letters, digits and '_', not starting with a digit)`,
        { details: { field: `spec.envVars.${k}` } },
      );
    if (v.includes('\0'))
      throw new PlatformError('bad_request', `spec.envVars.${k}: the value must not contain NUL characters`, {
        details: { field: `spec.envVars.${k}` },
      });
  }
  const secrets = s.secrets ?? {};
  for (const [k, v] of Object.entries(secrets)) {
    validateSecretName(k, `spec.secrets.${k}`);
    if (!BASE64.test(v))
      throw new PlatformError(
        'bad_request',
        `spec.secrets.${k}: the value must be base64 (standard alphabet) of the secret's bytes`,
        { details: { field: `spec.secrets.${k}` } },
      );
  }
  let memoryLimitBytes: number | undefined;
  for (const kind of ['limits', 'requests'] as const) {
    const r = s[kind];
    if (!r) continue;
    if (r.memory !== undefined && r.memory !== '') {
      const bytes = parseMemoryBytes(r.memory, `spec.${kind}.memory`);
      if (kind === 'limits') memoryLimitBytes = bytes;
    }
    if (r.cpu !== undefined && r.cpu !== '') {
      if (parseQuantity(r.cpu, `spec.${kind}.cpu`) <= 0)
        throw new PlatformError('bad_request', `spec.${kind}.cpu: "${r.cpu}" must be more than zero`, {
          details: { field: `spec.${kind}.cpu` },
        });
    }
  }
  const envProcess = s.envProcess ? s.envProcess : undefined;
  const envProcessArgv = envProcess ? splitCommandLine(envProcess, 'spec.envProcess') : undefined;

  const spec: FunctionSpec = {
    name,
    namespace,
    image: s.image,
    ...(envProcess ? { envProcess } : {}),
    envVars,
    labels: s.labels ?? {},
    annotations: s.annotations ?? {},
    ...(s.limits ? { limits: s.limits } : {}),
    ...(s.requests ? { requests: s.requests } : {}),
    secrets,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem ?? false,
  };
  const groups = validateGroups(spec, parsed.replicas, parsed.groups ?? undefined);
  return {
    spec,
    replicas: parsed.replicas,
    memoryLimitBytes,
    envProcessArgv,
    fingerprint: fingerprintOf(spec),
    groups,
    grouped: parsed.groups != null,
  };
}
