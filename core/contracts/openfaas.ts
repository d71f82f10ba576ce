/**
 * The OpenFaaS wire types (faas-provider `types`), declared once and shared by the gateway, the
 * CLI and the tests. Request bodies are validated with zod; `parseBody` turns a failure into a
 * PlatformError whose message names the field at fault.
 */
import { z } from 'zod';
import { PlatformError } from '../errors.ts';

const stringMap = z.record(z.string(), z.string());
const resources = z
  .object({
    memory: z.string().optional(),
    cpu: z.string().optional(),
    'nvidia.com/gpu': z.string().optional(),
  })
  .passthrough();

export const FunctionDeploymentSchema = z.object({
  service: z.string(),
  image: z.string(),
  namespace: z.string().optional(),
  envProcess: z.string().optional(),
  envVars: stringMap.optional(),
  constraints: z.array(z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  labels: stringMap.nullable().optional(),
  annotations: stringMap.nullable().optional(),
  limits: resources.nullable().optional(),
  requests: resources.nullable().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
});
export type FunctionDeployment = z.infer<typeof FunctionDeploymentSchema>;
export type FunctionResources = z.infer<typeof resources>;

export interface FunctionUsage {
  cpu: number;
  totalMemoryBytes: number;
}

export interface FunctionStatus {
  name: string;
  image: string;
  namespace: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  constraints?: string[];
  secrets?: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  limits?: FunctionResources;
  requests?: FunctionResources;
  readOnlyRootFilesystem: boolean;
  invocationCount: number;
  replicas: number;
  availableReplicas: number;
  createdAt: string;
  usage?: FunctionUsage;
}

export const ScaleServiceRequestSchema = z.object({
  serviceName: z.string(),
  replicas: z.number().int().min(0).max(1000),
  namespace: z.string().optional(),
});
export type ScaleServiceRequest = z.infer<typeof ScaleServiceRequestSchema>;

export const DeleteFunctionRequestSchema = z.object({
  functionName: z.string(),
  namespace: z.string().optional(),
});
export type DeleteFunctionRequest = z.infer<typeof DeleteFunctionRequestSchema>;

export const SecretSchema = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  value: z.string().optional(),
  rawValue: z.string().optional(),
});

export const NamespaceRequestSchema = z.object({
  name: z.string(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
});

export interface SystemInfo {
  provider: { provider: string; orchestration: string; version: { sha: string; release: string } };
  version: { commit_message: string; sha: string; release: string };
  arch: string;
}

/** One line of `/system/logs` (NDJSON). */
export interface LogMessage {
  name: string;
  namespace: string;
  instance: string;
  timestamp: string;
  text: string;
}

/** Validates `body` against `schema`; a failure is a 400 naming the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PlatformError('bad_request', `${what}: expected a JSON object in the request body`);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : '(body)';
  throw new PlatformError('bad_request', `${what}: field "${path}": ${issue.message}`, { details: { field: path } });
}
