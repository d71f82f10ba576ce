/**
 * Configuration is read once, from an injected environment map (tests pass a plain object).
 * This is the only module that looks at environment variables. Every invalid value fails with
 * a ConfigError that names the variable.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import type { LogLevel } from './logger.ts';

export type Env = Record<string, string | undefined>;

export interface CommonConfig {
  /** FASTGSHARE_DATA_DIR: images, store snapshots, replica work dirs. */
  dataDir: string;
  /** MONGODB_URI: production store; when absent the embedded store is started. */
  mongoUri?: string;
  /** FASTGSHARE_STORE_PORT: port of the embedded store (0 = any free port). */
  storePort: number;
  /** REDIS_URL */
  redisUrl: string;
  /** FASTGSHARE_LOG_LEVEL */
  logLevel: LogLevel;
}

export interface AdminCredentials {
  user: string;
  password: string;
}

export interface GatewayConfig extends CommonConfig {
  /** PORT */
  port: number;
  /** FASTGSHARE_HOST: address to listen on. */
  host: string;
  /** FASTGSHARE_AUTH: basic auth on /system/* (default: on when credentials are configured). */
  auth?: AdminCredentials;
  /** FASTGSHARE_NODES: node agent URLs (comma separated) when the gateway runs alone. */
  nodes: string[];
  /** FASTGSHARE_MAX_BODY_BYTES: largest invocation body (default 10 MiB). */
  maxBodyBytes: number;
  /** FASTGSHARE_READY_TIMEOUT_MS: how long an invocation waits for a ready replica before 503. */
  readyTimeoutMs: number;
  /** FASTGSHARE_UPSTREAM_TIMEOUT_MS: longest a replica may take to answer. */
  upstreamTimeoutMs: number;
  /** Async invocations (/async-function); absent when off (see readAsyncConfig). */
  async?: AsyncConfig;
}

/**
 * Async invocations run on BullMQ in the gateway process. On when REDIS_URL is set or
 * FASTGSHARE_ASYNC=true; FASTGSHARE_ASYNC=false turns them off (the route then answers 501).
 */
export interface AsyncConfig {
  /** FASTGSHARE_ASYNC_PREFIX: prefix of every Redis key (default "fastgshare"). */
  prefix: string;
  /** FASTGSHARE_ASYNC_QUEUE: BullMQ queue name (default "async-invocations"). */
  queue: string;
  /** FASTGSHARE_ASYNC_MAX_BODY_BYTES: largest queued body (default 1 MiB; never above maxBodyBytes). */
  maxBodyBytes: number;
  /** FASTGSHARE_ASYNC_MAX_ATTEMPTS: tries per call, the first included (default 5). */
  maxAttempts: number;
  /** FASTGSHARE_ASYNC_BACKOFF_MS: delay before the first retry, doubled each time (default 1000). */
  backoffMs: number;
  /** FASTGSHARE_ASYNC_BACKOFF_MAX_MS: longest delay between retries (default 60000). */
  backoffMaxMs: number;
  /** FASTGSHARE_ASYNC_CONCURRENCY: calls run at once by this gateway's workers (default 16). */
  concurrency: number;
  /** FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY: calls of one function run at once (default 4). */
  functionConcurrency: number;
  /** FASTGSHARE_ASYNC_KEEP_SECONDS: how long finished call ids are kept to refuse re-runs (default 86400). */
  keepSeconds: number;
  /**
   * FASTGSHARE_ASYNC_LOCK_MS: a running call's lock, renewed while it runs (default 30000). A call
   * whose worker lost Redis is picked up again this long after (checked every half of it).
   */
  lockMs: number;
  /** FASTGSHARE_ASYNC_SUBMIT_TIMEOUT_MS: longest a submission waits for Redis before 503 (default 2000). */
  submitTimeoutMs: number;
}

export interface NodeConfig extends CommonConfig {
  /** FASTGSHARE_NODE_PORT */
  port: number;
  host: string;
  /** FASTGSHARE_NODE_NAME (default: the host name) */
  name: string;
  /** FASTGSHARE_NODE_URL: how the gateway reaches this node (default http://127.0.0.1:<port>). */
  advertiseUrl: string;
  /** FASTGSHARE_DRAIN_TIMEOUT_MS: grace period for a stopping replica. */
  drainTimeoutMs: number;
  /** FASTGSHARE_REPLICA_START_TIMEOUT_MS: how long a replica may take to pass its health check. */
  startTimeoutMs: number;
}

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(name, `${v} is out of range ${min}..${max}`);
  return v;
}

function url(env: Env, name: string, dflt: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `"${raw}" must use ${protocols.join(' or ')}`);
  return raw;
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function readCommonConfig(env: Env, cwd = process.cwd()): CommonConfig {
  const level = (env.FASTGSHARE_LOG_LEVEL ?? 'info') as LogLevel;
  if (!LEVELS.includes(level)) throw new ConfigError('FASTGSHARE_LOG_LEVEL', `"${level}" is not one of ${LEVELS.join(', ')}`);
  return {
    dataDir: resolve(cwd, env.FASTGSHARE_DATA_DIR || '.fastgshare'),
    mongoUri: url(env, 'MONGODB_URI', undefined, ['mongodb:', 'mongodb+srv:']),
    storePort: int(env, 'FASTGSHARE_STORE_PORT', 0, 0, 65535),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
    logLevel: level,
  };
}

/** Reads a value from NAME or from the file named by NAME_FILE (OpenFaaS-style secret files). */
function valueOrFile(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read "${file}": ${(err as Error).message}`);
    }
  }
  return direct || undefined;
}

export function readAuth(env: Env): AdminCredentials | undefined {
  const user = valueOrFile(env, 'FASTGSHARE_ADMIN_USER');
  const password = valueOrFile(env, 'FASTGSHARE_ADMIN_PASSWORD');
  const flag = (env.FASTGSHARE_AUTH ?? '').toLowerCase();
  if (flag && !['true', 'false', '1', '0'].includes(flag)) throw new ConfigError('FASTGSHARE_AUTH', `"${env.FASTGSHARE_AUTH}" must be true or false`);
  const wanted = flag === '' ? Boolean(user || password) : flag === 'true' || flag === '1';
  if (!wanted) return undefined;
  if (!password) throw new ConfigError('FASTGSHARE_ADMIN_PASSWORD', 'basic auth is on but no admin password is set (FASTGSHARE_ADMIN_PASSWORD or FASTGSHARE_ADMIN_PASSWORD_FILE)');
  if (password.length < 8) throw new ConfigError('FASTGSHARE_ADMIN_PASSWORD', 'must be at least 8 characters');
  const u = user || 'admin';
  if (u.includes(':')) throw new ConfigError('FASTGSHARE_ADMIN_USER', 'must not contain ":"');
  return { user: u, password };
}

export function readGatewayConfig(env: Env, cwd = process.cwd()): GatewayConfig {
  const nodes = (env.FASTGSHARE_NODES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of nodes) url({ FASTGSHARE_NODES: n }, 'FASTGSHARE_NODES', undefined, ['http:', 'https:']);
  return {
    ...readCommonConfig(env, cwd),
    port: int(env, 'PORT', 8080, 0, 65535),
    host: env.FASTGSHARE_HOST || '0.0.0.0',
    auth: readAuth(env),
    nodes,
    maxBodyBytes: int(env, 'FASTGSHARE_MAX_BODY_BYTES', 10 * 1024 * 1024, 1024, 2 ** 31),
    readyTimeoutMs: int(env, 'FASTGSHARE_READY_TIMEOUT_MS', 10_000, 0, 600_000),
    upstreamTimeoutMs: int(env, 'FASTGSHARE_UPSTREAM_TIMEOUT_MS', 60_000, 100, 3_600_000),
    async: readAsyncConfig(env),
  };
}

const KEY_PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function readAsyncConfig(env: Env): AsyncConfig | undefined {
  const flag = (env.FASTGSHARE_ASYNC ?? '').toLowerCase();
  if (flag && !['true', 'false', '1', '0'].includes(flag)) throw new ConfigError('FASTGSHARE_ASYNC', `"${env.FASTGSHARE_ASYNC}" must be true or false`);
  const on = flag === '' ? Boolean(env.REDIS_URL) : flag === 'true' || flag === '1';
  if (!on) return undefined;
  const part = (name: string, dflt: string) => {
    const v = env[name] || dflt;
    if (!KEY_PART.test(v)) throw new ConfigError(name, `"${v}" must be 1-63 letters, digits, '_', '.' or '-'`);
    return v;
  };
  const backoffMs = int(env, 'FASTGSHARE_ASYNC_BACKOFF_MS', 1000, 1, 3_600_000);
  return {
    prefix: part('FASTGSHARE_ASYNC_PREFIX', 'fastgshare'),
    queue: part('FASTGSHARE_ASYNC_QUEUE', 'async-invocations'),
    maxBodyBytes: int(env, 'FASTGSHARE_ASYNC_MAX_BODY_BYTES', 1024 * 1024, 0, 64 * 1024 * 1024),
    maxAttempts: int(env, 'FASTGSHARE_ASYNC_MAX_ATTEMPTS', 5, 1, 100),
    backoffMs,
    backoffMaxMs: Math.max(backoffMs, int(env, 'FASTGSHARE_ASYNC_BACKOFF_MAX_MS', 60_000, 1, 86_400_000)),
    concurrency: int(env, 'FASTGSHARE_ASYNC_CONCURRENCY', 16, 1, 1000),
    functionConcurrency: int(env, 'FASTGSHARE_ASYNC_FUNCTION_CONCURRENCY', 4, 1, 1000),
    keepSeconds: int(env, 'FASTGSHARE_ASYNC_KEEP_SECONDS', 86_400, 1, 30 * 86_400),
    lockMs: int(env, 'FASTGSHARE_ASYNC_LOCK_MS', 30_000, 1000, 600_000),
    submitTimeoutMs: int(env, 'FASTGSHARE_ASYNC_SUBMIT_TIMEOUT_MS', 2000, 50, 60_000),
  };
}

export function readNodeConfig(env: Env, hostname: string, cwd = process.cwd()): NodeConfig {
  const port = int(env, 'FASTGSHARE_NODE_PORT', 8081, 0, 65535);
  const name = env.FASTGSHARE_NODE_NAME || hostname;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(name)) throw new ConfigError('FASTGSHARE_NODE_NAME', `"${name}" is not a valid node name (letters, digits, '-', '.')`);
  return {
    ...readCommonConfig(env, cwd),
    port,
    host: env.FASTGSHARE_NODE_HOST || '127.0.0.1',
    name,
    advertiseUrl: url(env, 'FASTGSHARE_NODE_URL', undefined, ['http:', 'https:']) ?? `http://127.0.0.1:${port}`,
    drainTimeoutMs: int(env, 'FASTGSHARE_DRAIN_TIMEOUT_MS', 10_000, 0, 600_000),
    startTimeoutMs: int(env, 'FASTGSHARE_REPLICA_START_TIMEOUT_MS', 60_000, 1_000, 600_000),
  };
}
