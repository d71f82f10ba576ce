/**
 * Turns a stack-file function into the FunctionDeployment faas-cli sends: service, image,
 * namespace (omitted when empty), envProcess (the stack's fprocess, else the template's),
 * envVars (environment overlaid by environment_file), constraints, secrets, labels and
 * annotations (always, possibly {}), limits/requests with only memory and cpu, and
 * readOnlyRootFilesystem. lang, handler and build_args are never sent.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PlatformError } from '../core/errors.ts';
import type { FunctionDeployment, FunctionResources } from '../core/contracts/openfaas.ts';
import type { LoadedStack, StackFunction } from '../core/images/stack-file.ts';
import { findTemplate, templateSearchPath } from '../core/images/templates.ts';

async function readEnvironmentFile(stack: LoadedStack, name: string, file: string): Promise<Record<string, string>> {
  const path = resolve(stack.dir, file);
  let doc: unknown;
  try {
    doc = parseYaml(await readFile(path, 'utf8'));
  } catch (err) {
    throw new PlatformError(
      'bad_request',
      `function "${name}": cannot read environment_file "${file}" (${path}): ${(err as Error).message}`,
      { cause: err },
    );
  }
  const env = (doc as { environment?: unknown } | null)?.environment;
  if (env === undefined || env === null) return {};
  if (typeof env !== 'object' || Array.isArray(env))
    throw new PlatformError(
      'bad_request',
      `function "${name}": environment_file "${file}" must hold a map under "environment:"`,
    );
  return Object.fromEntries(Object.entries(env as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

function resources(r: StackFunction['limits']): FunctionResources | undefined {
  if (!r) return undefined;
  const out: FunctionResources = {};
  if (r.memory !== undefined) out.memory = String(r.memory);
  if (r.cpu !== undefined) out.cpu = String(r.cpu);
  return out;
}

export async function toFunctionDeployment(
  stack: LoadedStack,
  name: string,
  fn: StackFunction,
  opts: { namespace?: string; readTemplate?: boolean } = {},
): Promise<FunctionDeployment> {
  let envProcess = fn.fprocess;
  if (!envProcess && fn.lang && opts.readTemplate !== false) {
    const template = await findTemplate(fn.lang, templateSearchPath(stack.dir));
    envProcess = template.fprocess;
  }
  let envVars: Record<string, string> = { ...(fn.environment ?? {}) };
  for (const file of fn.environment_file ?? [])
    envVars = { ...envVars, ...(await readEnvironmentFile(stack, name, file)) };
  const namespace = fn.namespace || opts.namespace || undefined;
  const deployment: FunctionDeployment = {
    service: name,
    image: fn.image,
    ...(namespace ? { namespace } : {}),
    ...(envProcess ? { envProcess } : {}),
    envVars,
    ...(fn.constraints ? { constraints: fn.constraints } : {}),
    ...(fn.secrets ? { secrets: fn.secrets } : {}),
    labels: { ...(fn.labels ?? {}) },
    annotations: { ...(fn.annotations ?? {}) },
    ...(fn.limits ? { limits: resources(fn.limits) } : {}),
    ...(fn.requests ? { requests: resources(fn.requests) } : {}),
    readOnlyRootFilesystem: fn.readonly_root_filesystem ?? false,
  };
  return deployment;
}
