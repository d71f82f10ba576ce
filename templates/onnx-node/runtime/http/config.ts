/**
 * The replica's settings, read once from its environment: the node-http watchdog settings
 * (PORT, HOST, max_body_bytes, write_debug, identity), the model service's settings (set by the
 * node agent from the deployment's annotations) and the device (backends/config.ts). The
 * variables (core/contracts/replica-env.ts), with this runtime's defaults:
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
import { REPLICA_ENV as E } from 'fastgshare/core/contracts/replica-env.ts';
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
  const sloMs = positive(env, E.sloMs, false, 3_600_000);
  const maxBatch = positive(env, E.maxBatch, true, 1024);
  const maxQueue = positive(env, E.maxQueue, true, 100_000);
  if (sloMs !== undefined) settings.sloMs = sloMs;
  if (maxBatch !== undefined) settings.maxBatch = maxBatch;
  if (maxQueue !== undefined) settings.maxQueue = maxQueue;
  const tokenSocket = env[E.tokenSocket]?.trim() || undefined;
  if (tokenSocket && !env[E.replicaId]?.trim())
    throw new ConfigError(E.replicaId, `is needed with ${E.tokenSocket}: the token server knows replicas by id`);
  const tokenKey = env[E.tokenKey]?.trim() || undefined;
  if (tokenSocket && !tokenKey)
    throw new ConfigError(
      E.tokenKey,
      `is needed with ${E.tokenSocket}: the token server admits a replica by its id and key`,
    );
  return {
    ...base,
    backend: readBackendConfig(env, machineCores),
    settings,
    ...(tokenSocket ? { tokenSocket, tokenKey } : {}),
  };
}

/** Environment over handler defaults over the template's. */
export function resolveSettings(
  fromEnv: Partial<ServiceSettings>,
  fromHandler: Partial<ServiceSettings> = {},
): ServiceSettings {
  return { ...DEFAULT_SETTINGS, ...fromHandler, ...fromEnv };
}
