/**
 * The replica's settings, read once from its environment: the node-http watchdog settings
 * (PORT, HOST, max_body_bytes, write_debug, identity), the model service's settings (set by the
 * node agent from the deployment's annotations) and the device (backends/config.ts).
 *   FASTGSHARE_SLO_MS     latency objective per request, ms   (default: the handler's, else 1000)
 *   FASTGSHARE_MAX_BATCH  largest batch                       (default: the handler's, else 8)
 *   FASTGSHARE_MAX_QUEUE  most waiting requests per model     (default 64)
 *   FASTGSHARE_TOKEN_SOCKET  the node's token channel (set by the agent for a replica with a time
 *                         quota): each batch then runs under a device token; unset → ungated
 *   FASTGSHARE_TOKEN_KEY  the replica's secret for the token channel's hello (set with the socket)
 */
import { cpus } from 'node:os';
import { ConfigError } from 'fastgshare/core/errors.ts';
import type { Env } from 'fastgshare/core/config.ts';
import { readRuntimeConfig, type RuntimeConfig } from 'fastgshare/templates/node-http/runtime/config.ts';
import { readBackendConfig, type BackendConfig } from '../backends/config.ts';
import type { ServiceSettings } from '../service.ts';

export interface OnnxRuntimeConfig extends RuntimeConfig {
  backend: BackendConfig;
  /** Only what the environment sets; the handler's defaults fill the rest. */
  settings: Partial<ServiceSettings>;
  /** Unix socket of the node's token server, when the replica's device time is shared. */
  tokenSocket?: string;
  /** The replica's key for that channel (with tokenSocket). */
  tokenKey?: string;
}

export const DEFAULT_SETTINGS: ServiceSettings = { sloMs: 1000, maxBatch: 8, maxQueue: 64 };

function positive(env: Env, name: string, whole: boolean, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || (whole && !Number.isInteger(v)) || v <= 0 || v > max) {
    throw new ConfigError(name, `"${raw}" must be a ${whole ? 'whole ' : ''}number above 0 and at most ${max}`);
  }
  return v;
}

export function readOnnxRuntimeConfig(env: Env, machineCores = cpus().length): OnnxRuntimeConfig {
  const base = readRuntimeConfig(env);
  const settings: Partial<ServiceSettings> = {};
  const sloMs = positive(env, 'FASTGSHARE_SLO_MS', false, 3_600_000);
  const maxBatch = positive(env, 'FASTGSHARE_MAX_BATCH', true, 1024);
  const maxQueue = positive(env, 'FASTGSHARE_MAX_QUEUE', true, 100_000);
  if (sloMs !== undefined) settings.sloMs = sloMs;
  if (maxBatch !== undefined) settings.maxBatch = maxBatch;
  if (maxQueue !== undefined) settings.maxQueue = maxQueue;
  const tokenSocket = env.FASTGSHARE_TOKEN_SOCKET?.trim() || undefined;
  if (tokenSocket && !env.FASTGSHARE_REPLICA_ID?.trim()) throw new ConfigError('FASTGSHARE_REPLICA_ID', 'is needed with FASTGSHARE_TOKEN_SOCKET: the token server knows replicas by id');
  const tokenKey = env.FASTGSHARE_TOKEN_KEY?.trim() || undefined;
  if (tokenSocket && !tokenKey) throw new ConfigError('FASTGSHARE_TOKEN_KEY', 'is needed with FASTGSHARE_TOKEN_SOCKET: the token server admits a replica by its id and key');
  return { ...base, backend: readBackendConfig(env, machineCores), settings, ...(tokenSocket ? { tokenSocket, tokenKey } : {}) };
}

/** Environment over handler defaults over the template's. */
export function resolveSettings(fromEnv: Partial<ServiceSettings>, fromHandler: Partial<ServiceSettings> = {}): ServiceSettings {
  return { ...DEFAULT_SETTINGS, ...fromHandler, ...fromEnv };
}
