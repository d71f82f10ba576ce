/**
 * The replica's settings, read once from its environment (OpenFaaS watchdog conventions where
 * they exist). The node agent sets PORT and the function identity; the stack file's
 * `environment:` can set the rest.
 */
import { hostname } from 'node:os';

export type Env = Record<string, string | undefined>;

export interface RuntimeConfig {
  /** PORT: where the replica listens (default 8080, as the OpenFaaS watchdog). */
  port: number;
  /** HOST: address to listen on (default 127.0.0.1: only the node agent's gateway reaches it). */
  host: string;
  /** max_body_bytes: the largest request body accepted (default 10 MiB); larger → 413. */
  maxBodyBytes: number;
  /** write_debug=true: one line per request on stdout. */
  debug: boolean;
  /** FASTGSHARE_SECRETS_DIR (set by the node agent), else secret_mount_path, else /var/openfaas/secrets. */
  secretsDir: string;
  functionName: string;
  namespace: string;
  replicaId: string;
  /**
   * FASTGSHARE_FORWARD_TOKEN (set by the node agent): every request must carry it in the
   * X-Fastgshare-Forward header, else 403, so only the platform (gateway, agent, profiler) reaches
   * the replica's port. Unset (the replica run by hand): no check.
   */
  forwardToken?: string;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

function wholeNumber(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new Error(`${name}: "${raw}" is not a whole number`);
  const v = Number(raw);
  if (v < min || v > max) throw new Error(`${name}: ${v} is out of range ${min}..${max}`);
  return v;
}

export function readRuntimeConfig(env: Env): RuntimeConfig {
  return {
    port: wholeNumber(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '127.0.0.1',
    maxBodyBytes: wholeNumber(env, 'max_body_bytes', DEFAULT_MAX_BODY_BYTES, 0, 2 ** 31),
    debug: (env.write_debug ?? '').toLowerCase() === 'true',
    secretsDir: env.FASTGSHARE_SECRETS_DIR || env.secret_mount_path || '/var/openfaas/secrets',
    functionName: env.FASTGSHARE_FUNCTION || env.OPENFAAS_NAME || 'function',
    namespace: env.FASTGSHARE_NAMESPACE || 'openfaas-fn',
    replicaId: env.FASTGSHARE_REPLICA_ID || `${hostname()}-${process.pid}`,
    ...(env.FASTGSHARE_FORWARD_TOKEN?.trim() ? { forwardToken: env.FASTGSHARE_FORWARD_TOKEN.trim() } : {}),
  };
}
